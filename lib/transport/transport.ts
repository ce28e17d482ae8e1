import type { Observable } from 'rxjs';
import type { Frame } from '../protocol/wire';

/** What a transport needs to open one connection. The key goes in the `Authorization` header, nowhere else. */
export interface ConnectRequest {
  readonly url: URL;
  readonly apiKey: string;
  readonly handshakeTimeoutMs: number;
}

/**
 * What happens on a connection, in order: `open` once, then the server's frames, then `close` once (the observable
 * completes). Frames are whatever the protocol sends (text or binary); a binary frame's bytes are handed over: the
 * transport never writes to them again, so they can be passed on without a copy. `pause` stops reading from the
 * socket (no frames until `resume`; the server is held back by TCP flow control): a transport that cannot pause
 * leaves them out, and a slow consumer's backpressure then bounds nothing. A transport whose connections can
 * outlive their user (a pool's) offers `keep`: the user calls it when it leaves the connection clean (nothing sent is
 * still owed an answer), and unsubscribing then hands the connection back instead of closing it. `handshakeMs`, when
 * the transport knows better than its user (0 for a connection handed over already open), is how long the upgrade
 * made the user wait.
 */
export type TransportEvent =
  | {
      readonly type: 'open';
      readonly send: (frame: Frame) => void;
      readonly pause?: () => void;
      readonly resume?: () => void;
      readonly keep?: () => void;
      readonly handshakeMs?: number;
    }
  | { readonly type: 'frame'; readonly frame: Frame }
  | { readonly type: 'close'; readonly code: number; readonly reason: string };

/**
 * The socket seam: subscribing opens one connection, unsubscribing closes it at once with 1000. A connection that
 * never opens errors with a `RimeError` (refused upgrade with its status and body, connection failure, handshake
 * timeout); after `open`, the end of the connection is a `close` event, whatever its code.
 */
export type Transport = (request: ConnectRequest) => Observable<TransportEvent>;
