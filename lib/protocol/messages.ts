/**
 * What the two roles say to each other, whatever the wire: the neutral vocabulary every protocol's codec
 * ({@link Wire}) encodes and decodes, so the client and the server speak of messages, never of frames.
 */

/**
 * A context: a tag the client gives its text, which Rime puts on everything that answers it (`null` where Rime had
 * no tag to give). A context persists until the client gives another. The plain protocol has none.
 */
export type ContextId = string | null;

/** What a client asks of Rime. */
export type ClientMessage =
  | { readonly type: 'text'; readonly text: string; readonly contextId?: ContextId }
  /** Synthesize what is buffered now. */
  | { readonly type: 'flush' }
  /** Drop what is buffered. */
  | { readonly type: 'clear' }
  /** Synthesize what is buffered, send it, then close. */
  | { readonly type: 'eos' };

export type ClientCommand = Exclude<ClientMessage, { type: 'text' }>['type'];

/** When a word is heard: seconds from the start of the audio it is in. */
export interface WordTiming {
  readonly word: string;
  readonly start: number;
  readonly end: number;
}

/**
 * What Rime sends back: audio; and on the JSON protocol, word timings, the end of a synthesis (`done`) and errors
 * that leave the connection open. Each but `error` carries the context it answers, where the protocol has them.
 */
export type ServerMessage =
  | { readonly type: 'audio'; readonly bytes: Uint8Array; readonly contextId?: ContextId }
  /** Timings of the words of one synthesis, from the start of its audio. */
  | { readonly type: 'words'; readonly words: readonly WordTiming[]; readonly contextId?: ContextId }
  | { readonly type: 'done'; readonly contextId?: ContextId }
  | { readonly type: 'error'; readonly message: string };

/** The commands as values: made once, not per message. */
export const FLUSH: ClientMessage = { type: 'flush' };
export const CLEAR: ClientMessage = { type: 'clear' };
export const EOS: ClientMessage = { type: 'eos' };

export const textMessage = (text: string): ClientMessage => ({ type: 'text', text });
