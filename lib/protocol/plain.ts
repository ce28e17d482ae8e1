/**
 * Rime's plain websocket protocol (`/ws`): bare text frames in, raw audio bytes out, and three commands sent as
 * text frames of their own.
 */
export const PLAIN_COMMANDS = {
  /** Synthesize what is buffered, send it, then close the connection. */
  eos: '<EOS>',
  /** Synthesize what is buffered now. */
  flush: '<FLUSH>',
  /** Drop what is buffered. */
  clear: '<CLEAR>',
} as const;

export type PlainCommand = keyof typeof PLAIN_COMMANDS;

/** The command a frame carries, if the whole frame (surrounding whitespace aside) is one. */
export function commandOf(frame: string): PlainCommand | undefined {
  const trimmed = frame.trim();
  if (trimmed === PLAIN_COMMANDS.eos) return 'eos';
  if (trimmed === PLAIN_COMMANDS.flush) return 'flush';
  if (trimmed === PLAIN_COMMANDS.clear) return 'clear';
  return undefined;
}

/** The characters Rime's server buffers up to (seed page). */
export const RIME_BUFFER_BOUNDARIES = '.,?!';
