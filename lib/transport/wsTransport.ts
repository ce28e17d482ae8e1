import type { IncomingMessage } from 'node:http';
import { Observable } from 'rxjs';
import { WebSocket } from 'ws';
import { redactKey } from '../errors';
import { connectionFailed, handshakeTimedOut, upgradeRefused } from './failures';
import type { Transport, TransportEvent } from './transport';

/** The most of a refusal's body kept for the error: Rime's bodies are one short line. */
const MAX_BODY_BYTES = 1024;

const ignore = (): void => {};

/**
 * Reads a refused upgrade's plain-text body: until it ends, fills {@link MAX_BODY_BYTES}, or `deadline` (epoch ms)
 * passes, whichever comes first, so a body that never ends (or trickles) cannot hold the refusal past the handshake
 * deadline. `stop` abandons the read (the subscriber went away).
 */
function readBody(response: IncomingMessage, deadline: number): { readonly body: Promise<string>; stop(): void } {
  let timer: NodeJS.Timeout | undefined;
  let settle: (body: string) => void = () => {};
  let body = '';
  const done = new Promise<string>((resolve) => {
    settle = (text) => {
      clearTimeout(timer);
      resolve(text);
    };
  });
  response.setEncoding('utf8');
  response.on('data', (chunk: string) => {
    body += chunk;
    if (body.length >= MAX_BODY_BYTES) settle(body.slice(0, MAX_BODY_BYTES));
  });
  response.on('end', () => settle(body));
  response.on('error', () => settle(body));
  timer = setTimeout(() => settle(body), Math.max(0, deadline - Date.now()));
  return {
    body: done,
    stop: () => {
      clearTimeout(timer);
      response.destroy();
    },
  };
}

/**
 * The transport on `ws`: the API key in the `Authorization` header of the upgrade, a handshake timeout, binary
 * frames as `Uint8Array` views on the message's own bytes, which `ws` never reuses, text frames as strings.
 * Errors keep nothing of the request: not the key, not the headers.
 */
export const wsTransport: Transport = ({ url, apiKey, handshakeTimeoutMs }) =>
  new Observable<TransportEvent>((subscriber) => {
    const deadline = Date.now() + handshakeTimeoutMs;
    // No permessage-deflate: audio does not compress, and `ws` would offer it (and spend CPU on it) by default.
    const socket = new WebSocket(url, {
      headers: { Authorization: `Bearer ${apiKey}` },
      handshakeTimeout: handshakeTimeoutMs,
      perMessageDeflate: false,
    });
    let opened = false;
    /** Set once the server answered the upgrade with a refusal: its status decides, whatever the body does. */
    let refusal: ReturnType<typeof readBody> | undefined;
    // What a server (or a proxy in front of it) sends back could echo the request's headers: never keep the key.
    const redacted = (text: string) => redactKey(text, apiKey);
    // Kept after teardown too: a late socket error must never become an unhandled exception.
    socket.on('error', ignore);
    socket.on('error', (error: NodeJS.ErrnoException) => {
      if (opened || refusal !== undefined) return; // after open, a failure is followed by 'close' (1006)
      const timedOut = /timed out/i.test(error.message);
      subscriber.error(timedOut ? handshakeTimedOut(url, handshakeTimeoutMs) : connectionFailed(url, error.code));
    });
    socket.on('unexpected-response', (request, response) => {
      refusal = readBody(response, deadline);
      void refusal.body.then((body) => {
        subscriber.error(upgradeRefused(response.statusCode ?? 0, redacted(body)));
        request.destroy();
      });
    });
    socket.on('open', () => {
      opened = true;
      subscriber.next({ type: 'open', send: (frame) => socket.send(frame), pause: () => socket.pause(), resume: () => socket.resume() });
    });
    socket.on('message', (data: Buffer, isBinary) => {
      // A view, not a copy: ws gives every message its own bytes (fresh reads or concatenations), never rewritten.
      const frame = isBinary ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength) : data.toString();
      subscriber.next({ type: 'frame', frame });
    });
    socket.on('close', (code, reason) => {
      if (!opened) return; // the 'error' or 'unexpected-response' handler reports it
      subscriber.next({ type: 'close', code, reason: redacted(reason.toString()) });
      subscriber.complete();
    });
    return () => {
      refusal?.stop();
      socket.removeAllListeners('message');
      socket.removeAllListeners('open');
      // A paused socket could not read the server's answer to the close: ws would hold it open for 30 s.
      if (socket.isPaused) socket.resume();
      if (socket.readyState === WebSocket.OPEN) socket.close(1000);
      else if (socket.readyState === WebSocket.CONNECTING) socket.terminate();
    };
  });
