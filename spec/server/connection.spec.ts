import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ReplaySubject, filter, firstValueFrom } from 'rxjs';
import { type WebSocket, WebSocketServer } from 'ws';
import type { RimeQueryOptions } from '../../lib/options';
import { jsonWire } from '../../lib/protocol/json';
import { plainWire } from '../../lib/protocol/plain';
import type { Wire } from '../../lib/protocol/wire';
import { type ConnectionSettings, RimeConnection } from '../../lib/server/connection';
import type { ServerEvent } from '../../lib/server/events';
import type { ConnectionFault } from '../../lib/server/faults';
import { createTestVoice } from '../../lib/server/voices/test';
import { decodeTestSpeech } from '../../lib/server/voices/testVoiceCodec';
import { type Session, open } from '../support/wsClient';
import { queryOptions } from '../support/settings';

const IDLE_MS = 300;
const sentence = 'A sentence long enough to make several kilobytes of audio.';
const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Loopback {
  readonly url: string;
  readonly events: ServerEvent[];
  /** The first event of `type` the server reports (now, or when it comes). */
  readonly next: <T extends ServerEvent['type']>(type: T) => Promise<Extract<ServerEvent, { type: T }>>;
}

interface Setup {
  readonly settings?: Partial<ConnectionSettings>;
  readonly fault?: ConnectionFault;
  readonly wire?: Wire;
  readonly segment?: RimeQueryOptions['segment'];
}

let http: Server | undefined;
let wss: WebSocketServer | undefined;
let clients: WebSocket[] = [];

/**
 * A `ws` server on 127.0.0.1 (a free port) whose every accepted socket is a RimeConnection with the test voice, pcm at
 * 8000 Hz (a character is 960 bytes), and short timeouts.
 */
async function loopback({ settings = {}, fault, wire = plainWire, segment = 'never' }: Setup = {}): Promise<Loopback> {
  const events: ServerEvent[] = [];
  const stream = new ReplaySubject<ServerEvent>();
  const options = queryOptions({ samplingRate: 8000, segment });
  const connectionSettings: ConnectionSettings = {
    firstAudioMs: 0,
    realTimeFactor: 0,
    maxTextLength: 1000,
    maxWaitingCharacters: 1_000_000,
    sentenceBuffering: 'punctuation',
    idleTimeoutMs: IDLE_MS,
    frameBytes: 4095,
    ...settings,
  };
  const voice = createTestVoice();
  http = createServer();
  wss = new WebSocketServer({ server: http });
  let id = 0;
  wss.on('connection', (socket) => {
    new RimeConnection({
      id: ++id,
      socket,
      wire,
      options,
      voice,
      settings: connectionSettings,
      fault,
      emit: (event) => {
        events.push(event);
        stream.next(event);
      },
    });
  });
  const listening = http;
  await new Promise<void>((resolve) => listening.listen(0, '127.0.0.1', resolve));
  const { port } = listening.address() as AddressInfo;
  return {
    url: `ws://127.0.0.1:${port}${wire.path}`,
    events,
    next: (type) => firstValueFrom(stream.pipe(filter((event): event is Extract<ServerEvent, { type: typeof type }> => event.type === type))),
  };
}

async function connect(server: Loopback): Promise<Session> {
  const session = await open(server.url, {});
  clients.push(session.socket);
  return session;
}

afterEach(async () => {
  for (const client of clients) client.terminate();
  clients = [];
  const closingServer = wss;
  const closingHttp = http;
  wss = undefined;
  http = undefined;
  if (closingServer !== undefined) {
    for (const socket of closingServer.clients) socket.terminate();
    await new Promise<void>((resolve) => closingServer.close(() => resolve()));
  }
  if (closingHttp !== undefined) {
    closingHttp.closeAllConnections();
    await new Promise<void>((resolve) => closingHttp.close(() => resolve()));
  }
});

describe('RimeConnection over a loopback socket', () => {
  it('speaks the text it is sent, then closes 1000 after <EOS>; the server reports each step', async () => {
    const server = await loopback();
    const session = await connect(server);
    session.send('Hi there.');
    session.send('<EOS>');
    await expect(session.closed).resolves.toEqual({ code: 1000, reason: '' });
    expect(decodeTestSpeech(session.audio()).utterances).toEqual(['Hi there.']);
    expect(session.audio().length).toBe(16 + 9 * 960);
    await expect(server.next('close')).resolves.toEqual({ type: 'close', connection: 1, code: 1000, reason: '', by: 'server' });
    const audioBytes = server.events.flatMap((event) => (event.type === 'audio' ? [event.bytes] : []));
    expect(audioBytes).toEqual([4095, 4095, 16 + 9 * 960 - 2 * 4095]);
    expect(server.events.filter((event) => event.type !== 'audio')).toEqual([
      { type: 'text', connection: 1, text: 'Hi there.' },
      { type: 'command', connection: 1, command: 'eos' },
      { type: 'synthesis', connection: 1, text: 'Hi there.' },
      { type: 'close', connection: 1, code: 1000, reason: '', by: 'server' },
    ]);
  });

  it("a binary frame from the client closes 1003 with the plain wire's message", async () => {
    const server = await loopback();
    const session = await connect(server);
    session.socket.send(Buffer.from([1, 2, 3]));
    await expect(session.closed).resolves.toEqual({ code: 1003, reason: 'binary frames are not supported: send text' });
    await expect(server.next('close')).resolves.toMatchObject({ code: 1003, by: 'server' });
  });

  it("a frame the JSON wire cannot read is answered with the protocol's error message; the connection stays open", async () => {
    const server = await loopback({ wire: jsonWire });
    const session = await connect(server);
    const answered = new Promise<string>((resolve) => session.socket.once('message', (data: Buffer) => resolve(data.toString())));
    session.send('not json');
    const decoded = jsonWire.decodeClient('not json');
    const expected = decoded._tag === 'Left' ? decoded.left.message : 'decodable';
    await expect(server.next('rejected')).resolves.toEqual({ type: 'rejected', connection: 1, message: expected });
    await expect(answered).resolves.toBe(JSON.stringify({ type: 'error', message: expected }));
    expect(session.socket.readyState).toBe(session.socket.OPEN);
    session.socket.close();
    await expect(server.next('close')).resolves.toMatchObject({ code: 1005, by: 'client' });
  });

  it("a client that says nothing is closed 1000 'idle timeout'", async () => {
    const server = await loopback();
    const session = await connect(server);
    await expect(session.closed).resolves.toEqual({ code: 1000, reason: 'idle timeout' });
    await expect(server.next('close')).resolves.toEqual({ type: 'close', connection: 1, code: 1000, reason: 'idle timeout', by: 'server' });
  });

  it('whitespace-only frames are no activity: the idle timeout closes the connection while they keep coming', async () => {
    const server = await loopback();
    const session = await connect(server);
    const cap = 200; // 5 s of frames: far past the idle timeout
    let sent = 0;
    let closedAt: number | undefined;
    void session.closed.then(() => (closedAt = sent));
    const ticker = setInterval(() => {
      if (closedAt !== undefined || sent >= cap) return clearInterval(ticker);
      session.send(sent % 2 === 0 ? ' ' : '\n\t ');
      sent++;
    }, 25);
    await expect(session.closed).resolves.toEqual({ code: 1000, reason: 'idle timeout' });
    clearInterval(ticker);
    expect(closedAt).toBeDefined();
    expect(closedAt ?? cap).toBeLessThan(cap);
    expect(server.events.filter((event) => event.type === 'synthesis')).toEqual([]);
  });

  it('text frames are activity: a client sending text (held, segment=never) is not idle while it sends', async () => {
    const server = await loopback();
    const session = await connect(server);
    let openWhileSending = true;
    for (let frame = 0; frame < 20; frame++) {
      // 20 frames 25 ms apart: longer than the idle timeout in all
      await wait(25);
      openWhileSending &&= session.socket.readyState === session.socket.OPEN;
      session.send('word ');
    }
    expect(openWhileSending).toBe(true);
    await expect(session.closed).resolves.toEqual({ code: 1000, reason: 'idle timeout' });
    expect(server.events.filter((event) => event.type === 'text')).toHaveLength(20);
  });

  it('an utterance being synthesized keeps the connection from idling: all its audio arrives before the idle close', async () => {
    // At realTimeFactor 1, 'Ten chars!' is 600 ms of audio, paced over twice the idle timeout.
    const server = await loopback({ settings: { realTimeFactor: 1 }, segment: 'immediate' });
    const session = await connect(server);
    session.send('Ten chars!');
    await expect(session.closed).resolves.toEqual({ code: 1000, reason: 'idle timeout' });
    expect(decodeTestSpeech(session.audio())).toEqual({ utterances: ['Ten chars!'], text: 'Ten chars!', corruptBlocks: 0, truncated: false });
  });

  it('more than 1000 characters held closes 1011 400: text is too long', async () => {
    const server = await loopback();
    const session = await connect(server);
    session.send('x'.repeat(600));
    session.send('y'.repeat(401));
    await expect(session.closed).resolves.toEqual({ code: 1011, reason: '400: text is too long' });
    expect(session.chunks).toEqual([]);
    await expect(server.next('close')).resolves.toMatchObject({ code: 1011, by: 'server' });
  });

  it('a client that closes is reported as such', async () => {
    const server = await loopback();
    const session = await connect(server);
    session.socket.close(1000, 'bye');
    await expect(server.next('close')).resolves.toEqual({ type: 'close', connection: 1, code: 1000, reason: 'bye', by: 'client' });
  });

  describe('faults', () => {
    it('drop, with no trigger, terminates the socket at once: the client sees 1006', async () => {
      const server = await loopback({ fault: { kind: 'drop' } });
      const session = await connect(server);
      await expect(session.closed).resolves.toEqual({ code: 1006, reason: '' });
      await expect(server.next('fault')).resolves.toEqual({ type: 'fault', connection: 1, fault: { kind: 'drop' } });
      await expect(server.next('close')).resolves.toMatchObject({ code: 1006, by: 'server' });
    });

    it('drop after N bytes: the client gets exactly N bytes of audio, then 1006', async () => {
      const server = await loopback({ fault: { kind: 'drop', afterBytes: 5000 } });
      const session = await connect(server);
      session.send(sentence);
      session.send('<EOS>');
      await expect(session.closed).resolves.toEqual({ code: 1006, reason: '' });
      expect(session.chunks.map((chunk) => chunk.length)).toEqual([4095, 905]);
    });

    it('close with a code and reason, at once', async () => {
      const server = await loopback({ fault: { kind: 'close', code: 1013, reason: 'try again later' } });
      const session = await connect(server);
      await expect(session.closed).resolves.toEqual({ code: 1013, reason: 'try again later' });
    });

    it('stall holds the audio and the close after <EOS>, without idling out, until the client gives up', async () => {
      const server = await loopback({ fault: { kind: 'stall', afterBytes: 2000 } });
      const session = await connect(server);
      session.send(sentence);
      session.send('<EOS>');
      await expect(server.next('fault')).resolves.toEqual({ type: 'fault', connection: 1, fault: { kind: 'stall', afterBytes: 2000 } });
      await wait(3 * IDLE_MS);
      expect(session.socket.readyState).toBe(session.socket.OPEN);
      expect(session.audio().length).toBe(2000);
      expect(server.events.some((event) => event.type === 'close')).toBe(false);
      session.socket.close(1000);
      await expect(server.next('close')).resolves.toEqual({ type: 'close', connection: 1, code: 1000, reason: '', by: 'client' });
      await expect(session.closed).resolves.toEqual({ code: 1000, reason: '' });
      expect(session.audio().length).toBe(2000);
    });

    it('a fault after N milliseconds strikes on its timer', async () => {
      const server = await loopback({ fault: { kind: 'close', code: 1011, reason: 'later', afterMs: 20 } });
      const session = await connect(server);
      await expect(session.closed).resolves.toEqual({ code: 1011, reason: 'later' });
      await expect(server.next('fault')).resolves.toMatchObject({ fault: { kind: 'close', afterMs: 20 } });
    });
  });
});
