import * as t from 'io-ts';
import * as E from 'fp-ts/Either';
import { pipe } from 'fp-ts/function';
import { showValue } from '../codecs';
import { RimeError } from '../errors';
import { CLEAR, type ClientMessage, EOS, FLUSH, type ServerMessage, type WordTiming } from './messages';
import type { Frame, Wire } from './wire';

/**
 * Rime's JSON websocket protocol (`/ws3`), as its docs describe it: every message a JSON text frame, both ways.
 * In: `{"text", "contextId"?}` and `{"operation": "flush" | "clear" | "eos"}`. Out: `chunk` (base64 audio),
 * `timestamps` (word timings, seconds from the start of that synthesis's audio), `done` (a synthesis ended) and
 * `error` (the connection stays open); each but `error` tagged with the context the audio was asked for in.
 */

const ContextId = t.union([t.string, t.null]);

const TextIn = t.intersection([t.type({ text: t.string }), t.partial({ contextId: ContextId })]);
const OperationIn = t.type({ operation: t.keyof({ flush: null, clear: null, eos: null }) });

const Tagged = t.partial({ contextId: ContextId });
const Chunk = t.intersection([t.type({ type: t.literal('chunk'), data: t.string }), Tagged]);
const Timestamps = t.intersection([
  t.type({
    type: t.literal('timestamps'),
    word_timestamps: t.type({ words: t.array(t.string), start: t.array(t.number), end: t.array(t.number) }),
  }),
  Tagged,
]);
const Done = t.intersection([t.type({ type: t.literal('done') }), Tagged]);
const ErrorOut = t.type({ type: t.literal('error'), message: t.string });
/** The server messages of Rime's docs, by their `type`: any other `type` is one a client may ignore. */
const serverCodecs = { chunk: Chunk, timestamps: Timestamps, done: Done, error: ErrorOut } as const;

/**
 * The bytes of strict, padded base64 (as Rime sends it), or undefined for anything else. Node's decoder skips what is
 * not base64, so a decoded length short of what the text's length says reveals it: no scan of the text.
 */
function base64Bytes(data: string): Uint8Array | undefined {
  if (data.length % 4 !== 0) return undefined;
  const padding = data.endsWith('==') ? 2 : data.endsWith('=') ? 1 : 0;
  const bytes = Buffer.from(data, 'base64');
  return bytes.length === (data.length / 4) * 3 - padding ? new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength) : undefined;
}

/** The most of a bad frame a message quotes: enough to recognise it, never a whole payload. */
const QUOTED = 60;

function malformed(what: string, frame: Frame): RimeError {
  const shown = typeof frame === 'string' ? showValue(frame.slice(0, QUOTED + 1)) : `${frame.length} binary bytes`;
  return new RimeError('protocol', `${what}: ${shown}`);
}

function parseJson(frame: Frame, from: string): E.Either<RimeError, unknown> {
  if (typeof frame !== 'string') return E.left(malformed(`a binary frame from the ${from} (the JSON protocol sends text)`, frame));
  return E.tryCatch(
    () => JSON.parse(frame) as unknown,
    () => malformed(`not JSON from the ${from}`, frame),
  );
}

const contextOf = (message: { readonly contextId?: string | null }) => (message.contextId === undefined ? {} : { contextId: message.contextId });

function toServerMessage(json: unknown, frame: Frame): E.Either<RimeError, ServerMessage | undefined> {
  const type = typeof json === 'object' && json !== null && 'type' in json ? json.type : undefined;
  if (typeof type !== 'string') return E.left(malformed('a message from Rime without a type', frame));
  if (!Object.hasOwn(serverCodecs, type)) return E.right(undefined);
  const bad = () => malformed(`a malformed ${type} message from Rime`, frame);
  switch (type) {
    case 'chunk':
      return pipe(
        Chunk.decode(json),
        E.mapLeft(bad),
        E.chain((chunk) => {
          const bytes = base64Bytes(chunk.data);
          return bytes === undefined ? E.left(bad()) : E.right({ type: 'audio', bytes, ...contextOf(chunk) } as const);
        }),
      );
    case 'timestamps':
      return pipe(
        Timestamps.decode(json),
        E.mapLeft(bad),
        E.chain((message) => {
          const { words, start, end } = message.word_timestamps;
          const timings: WordTiming[] = words.map((word, index) => ({ word, start: start[index] ?? NaN, end: end[index] ?? NaN }));
          const sound = start.length === words.length && end.length === words.length && timings.every((w) => Number.isFinite(w.start) && w.end >= w.start);
          return sound ? E.right({ type: 'words', words: timings, ...contextOf(message) } as const) : E.left(bad());
        }),
      );
    case 'done':
      return pipe(Done.decode(json), E.mapLeft(bad), E.map((message) => ({ type: 'done', ...contextOf(message) }) as const));
    default:
      return pipe(ErrorOut.decode(json), E.mapLeft(bad), E.map((message) => ({ type: 'error', message: message.message }) as const));
  }
}

const operations: Readonly<Record<'flush' | 'clear' | 'eos', ClientMessage>> = { flush: FLUSH, clear: CLEAR, eos: EOS };

function base64Of(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}

/** Rime's JSON protocol's codec, for both roles. */
export const jsonWire: Wire = {
  path: '/ws3',
  encodeClient: (message) =>
    JSON.stringify(message.type === 'text' ? { text: message.text, ...contextOf(message) } : { operation: message.type }),
  decodeClient: (frame) =>
    pipe(
      parseJson(frame, 'client'),
      E.chain((json) => {
        const operation = OperationIn.decode(json);
        if (E.isRight(operation)) return E.right(operations[operation.right.operation]);
        return pipe(
          TextIn.decode(json),
          E.mapLeft(() => malformed('expected {"text": ...} or {"operation": "flush" | "clear" | "eos"}, got', frame)),
          E.map((text): ClientMessage => ({ type: 'text', text: text.text, ...contextOf(text) })),
        );
      }),
    ),
  encodeServer: (message) => {
    switch (message.type) {
      case 'audio':
        return JSON.stringify({ type: 'chunk', data: base64Of(message.bytes), contextId: message.contextId ?? null });
      case 'words':
        return JSON.stringify({
          type: 'timestamps',
          word_timestamps: {
            words: message.words.map((word) => word.word),
            start: message.words.map((word) => word.start),
            end: message.words.map((word) => word.end),
          },
          contextId: message.contextId ?? null,
        });
      case 'done':
        return JSON.stringify({ type: 'done', contextId: message.contextId ?? null });
      case 'error':
        return JSON.stringify({ type: 'error', message: message.message });
    }
  },
  decodeServer: (frame) => pipe(parseJson(frame, 'server'), E.chain((json) => toServerMessage(json, frame))),
};
