import * as E from 'fp-ts/Either';
import { RimeError } from '../errors';
import { CLEAR, type ClientCommand, type ClientMessage, EOS, FLUSH, type ServerMessage, textMessage } from './messages';
import { CLOSE } from './rules';
import type { Wire } from './wire';

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
} as const satisfies Record<ClientCommand, string>;

export type PlainCommand = keyof typeof PLAIN_COMMANDS;

const commandMessages: Readonly<Record<PlainCommand, ClientMessage>> = { eos: EOS, flush: FLUSH, clear: CLEAR };

/** The command a frame carries, if the whole frame (surrounding whitespace aside) is one. */
export function commandOf(frame: string): PlainCommand | undefined {
  const trimmed = frame.trim();
  if (trimmed === PLAIN_COMMANDS.eos) return 'eos';
  if (trimmed === PLAIN_COMMANDS.flush) return 'flush';
  if (trimmed === PLAIN_COMMANDS.clear) return 'clear';
  return undefined;
}

const BINARY_FROM_CLIENT = 'binary frames are not supported: send text';

/**
 * The plain protocol's codec, for both roles. Only audio goes back, as raw bytes: the plain protocol has no word
 * timings, no end of a synthesis and no error messages, and Rime sends no text frames on `/ws` (a client ignores
 * any). Contexts are not part of it.
 */
export const plainWire: Wire = {
  path: '/ws',
  encodeClient: (message) => (message.type === 'text' ? message.text : PLAIN_COMMANDS[message.type]),
  decodeClient: (frame) => {
    if (typeof frame !== 'string') return E.left(new RimeError('protocol', BINARY_FROM_CLIENT, { closeCode: CLOSE.unsupportedData }));
    const command = commandOf(frame);
    return E.right(command === undefined ? textMessage(frame) : commandMessages[command]);
  },
  encodeServer: (message) => (message.type === 'audio' ? message.bytes : undefined),
  decodeServer: (frame) => E.right<RimeError, ServerMessage | undefined>(typeof frame === 'string' ? undefined : { type: 'audio', bytes: frame }),
};
