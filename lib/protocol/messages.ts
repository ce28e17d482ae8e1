/**
 * What the two roles say to each other, whatever the wire: the neutral vocabulary every protocol's codec
 * ({@link Wire}) encodes and decodes, so the client and the server speak of messages, never of frames.
 */

/** What a client asks of Rime. */
export type ClientMessage =
  | { readonly type: 'text'; readonly text: string }
  /** Synthesize what is buffered now. */
  | { readonly type: 'flush' }
  /** Drop what is buffered. */
  | { readonly type: 'clear' }
  /** Synthesize what is buffered, send it, then close. */
  | { readonly type: 'eos' };

export type ClientCommand = Exclude<ClientMessage, { type: 'text' }>['type'];

/**
 * What Rime sends back. The plain protocol only has audio; the JSON one adds word timestamps, the end of a
 * synthesis and errors that leave the connection open, as members of this union.
 */
export type ServerMessage = { readonly type: 'audio'; readonly bytes: Uint8Array };

/** The commands as values: made once, not per message. */
export const FLUSH: ClientMessage = { type: 'flush' };
export const CLEAR: ClientMessage = { type: 'clear' };
export const EOS: ClientMessage = { type: 'eos' };

export const textMessage = (text: string): ClientMessage => ({ type: 'text', text });
