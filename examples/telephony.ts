/**
 * A voice agent on a phone call: its replies (rimeTurns, Rime's JSON protocol) into a telephony media stream, as
 * services such as Twilio's media streams take audio: 8 kHz mu-law in 20 ms frames (160 bytes), each a JSON message
 * with the frame in base64. Here the call is a local fake peer that records what it is sent.
 *
 *   npx tsx examples/telephony.ts
 */
import type { AddressInfo } from 'node:net';
import { rimeTurns } from 'rime-rx';
import { audioFrames } from 'rime-rx/audio';
import { createRimeServer } from 'rime-rx/server';
import { filter, from, lastValueFrom, map, of, tap } from 'rxjs';
import { WebSocket, WebSocketServer } from 'ws';

/** A media message, as the telephony service reads them. */
interface MediaMessage {
  readonly event: 'media';
  readonly streamSid: string;
  readonly media: { readonly payload: string };
}

export interface Call {
  /** The media messages the call received, in order. */
  readonly messages: readonly MediaMessage[];
}

export async function main(): Promise<Call> {
  const rime = await createRimeServer({ voice: 'test', log: () => {} });
  // The telephony side: accepts the agent's media stream and keeps what it gets.
  const peer = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  const received: MediaMessage[] = [];
  peer.on('connection', (socket) => socket.on('message', (data: Buffer) => received.push(JSON.parse(data.toString()) as MediaMessage)));
  await new Promise((resolve) => peer.once('listening', resolve));
  const call = new WebSocket(`ws://127.0.0.1:${(peer.address() as AddressInfo).port}`);
  await new Promise((resolve) => call.once('open', resolve));
  let sent = 0;
  try {
    const replies = of(['Thanks for calling. ', 'Your order shipped today.'], ['Is there anything else?']);
    await lastValueFrom(
      replies.pipe(
        map((tokens) => from(tokens)),
        rimeTurns({ speaker: 'cove', audioFormat: 'mulaw', samplingRate: 8000, protocol: 'ws3', url: rime.urls.ws3, apiKey: 'local' }),
        filter((event) => event.type === 'audio'),
        map((event) => event.bytes),
        audioFrames({ ms: 20 }),
        tap((frame) => {
          call.send(JSON.stringify({ event: 'media', streamSid: 'call-1', media: { payload: Buffer.from(frame).toString('base64') } } satisfies MediaMessage));
          sent++;
        }),
      ),
      { defaultValue: undefined },
    );
    while (received.length < sent) await new Promise((resolve) => setTimeout(resolve, 5));
    console.log(`sent ${received.length} frames of 20 ms (${(received.length * 0.02).toFixed(2)} s of audio)`);
    return { messages: received };
  } finally {
    call.close();
    await new Promise((resolve) => peer.close(resolve));
    await rime.close();
  }
}

if (require.main === module) void main();
