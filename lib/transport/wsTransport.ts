import type { IncomingMessage } from 'node:http';
import { Observable } from 'rxjs';
import { WebSocket } from 'ws';
import { connectionFailed, handshakeTimedOut, upgradeRefused } from '../tts/failures';
import type { Transport, TransportEvent } from './transport';

/** The most of a refusal's body kept for the error: Rime's bodies are one short line. */
const MAX_BODY_BYTES = 1024;

const ignore = (): void => {};

/** Reads a refused upgrade's plain-text body, then ends the response. */
function readBody(response: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    let body = '';
    response.setEncoding('utf8');
    response.on('data', (chunk: string) => {
      if (body.length < MAX_BODY_BYTES) body += chunk;
    });
    response.on('end', () => resolve(body));
    response.on('error', () => resolve(body));
  });
}

/**
 * The transport on `ws`: the API key in the `Authorization` header of the upgrade, a handshake timeout, binary
 * frames as `Uint8Array` views on the message's own bytes, which `ws` never reuses.
 * Text frames from the server are ignored (Rime's plain protocol sends none). Errors keep nothing of the request:
 * not the key, not the headers.
 */
export const wsTransport: Transport = ({ url, apiKey, handshakeTimeoutMs }) =>
  new Observable<TransportEvent>((subscriber) => {
    // No permessage-deflate: audio does not compress, and `ws` would offer it (and spend CPU on it) by default.
    const socket = new WebSocket(url, {
      headers: { Authorization: `Bearer ${apiKey}` },
      handshakeTimeout: handshakeTimeoutMs,
      perMessageDeflate: false,
    });
    let opened = false;
    // What a server (or a proxy in front of it) sends back could echo the request's headers: never keep the key.
    // Keys shorter than 8 characters are placeholders (real keys are long); redacting them would mangle every word.
    const redacted = (text: string) => (apiKey.length < 8 ? text : text.split(apiKey).join('<redacted>'));
    // Kept after teardown too: a late socket error must never become an unhandled exception.
    socket.on('error', ignore);
    socket.on('error', (error: NodeJS.ErrnoException) => {
      if (opened) return; // after open, a failure is followed by 'close' (1006)
      const timedOut = /timed out/i.test(error.message);
      subscriber.error(timedOut ? handshakeTimedOut(url, handshakeTimeoutMs) : connectionFailed(url, error.code));
    });
    socket.on('unexpected-response', (request, response) => {
      void readBody(response).then((body) => {
        subscriber.error(upgradeRefused(response.statusCode ?? 0, redacted(body)));
        request.destroy();
      });
    });
    socket.on('open', () => {
      opened = true;
      subscriber.next({ type: 'open', send: (frame) => socket.send(frame) });
    });
    socket.on('message', (data: Buffer, isBinary) => {
      // A view, not a copy: ws gives every message its own bytes (fresh reads or concatenations), never rewritten.
      if (isBinary) subscriber.next({ type: 'audio', bytes: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) });
    });
    socket.on('close', (code, reason) => {
      if (!opened) return; // the 'error' or 'unexpected-response' handler reports it
      subscriber.next({ type: 'close', code, reason: redacted(reason.toString()) });
      subscriber.complete();
    });
    return () => {
      socket.removeAllListeners('message');
      socket.removeAllListeners('open');
      if (socket.readyState === WebSocket.OPEN) socket.close(1000);
      else if (socket.readyState === WebSocket.CONNECTING) socket.terminate();
    };
  });
