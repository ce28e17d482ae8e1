import type { Readable, Writable } from 'node:stream';
import { nearest } from '../nearest';

/** Where the CLI reads and writes, and the process signals it obeys: injectable so tests run it in-process. */
export interface CliIo {
  readonly out: Writable;
  readonly err: NodeJS.WritableStream;
  readonly signals: NodeJS.EventEmitter;
  readonly stdin?: Readable;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Whether stderr is a terminal (progress is shown only then). */
  readonly errIsTTY?: boolean;
}

/** parseArgs's own words for a bad command line, shortened, with the nearest of `options` for an unknown flag. */
export function parseErrorMessage(error: unknown, options: Readonly<Record<string, unknown>>): string {
  const message = messageOf(error);
  const code = typeof error === 'object' && error !== null && 'code' in error ? String(error.code) : '';
  if (code !== 'ERR_PARSE_ARGS_UNKNOWN_OPTION') return message;
  const flag = /'(-{1,2}[^']+)'/.exec(message)?.[1] ?? '';
  const guess = nearest(flag, Object.keys(options).map((name) => `--${name}`), 1)[0];
  return `unknown option ${flag}${guess === undefined ? '' : `; did you mean ${guess}?`}`;
}

/** An error's message; not `instanceof Error`, which fails for errors from another realm (Node internals under jest). */
export function messageOf(error: unknown): string {
  return typeof error === 'object' && error !== null && 'message' in error ? String(error.message) : String(error);
}
