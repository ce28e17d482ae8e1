import type * as E from 'fp-ts/Either';
import type { RimeError } from '../errors';
import type { ClientMessage, ServerMessage } from './messages';

/** A websocket message as it travels: a text frame as its string, a binary frame as its bytes. */
export type Frame = string | Uint8Array;

/**
 * One protocol's codec, serving both roles, as `ws` builds the same Receiver and Sender for a client and a server:
 * the client encodes what it asks and decodes what Rime answers, the server (the local one, or a test playing Rime)
 * does the reverse with the same rules.
 */
export interface Wire {
  /** The path the protocol is served on (`/ws`). */
  readonly path: string;
  encodeClient(message: ClientMessage): Frame;
  /**
   * What a client's frame says, or a `protocol` error the server answers as the protocol says (its `closeCode`:
   * close the connection with it).
   */
  decodeClient(frame: Frame): E.Either<RimeError, ClientMessage>;
  /** The frame a server sends for `message`; undefined for a message the protocol has no frame for. */
  encodeServer(message: ServerMessage): Frame | undefined;
  /** What a server's frame says; `undefined` for a frame the protocol lets a client ignore. */
  decodeServer(frame: Frame): E.Either<RimeError, ServerMessage | undefined>;
}
