import type { Readable, Writable } from 'node:stream';

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

/** An error's message; not `instanceof Error`, which fails for errors from another realm (Node internals under jest). */
export function messageOf(error: unknown): string {
  return typeof error === 'object' && error !== null && 'message' in error ? String(error.message) : String(error);
}
