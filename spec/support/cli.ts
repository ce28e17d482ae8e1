import { EventEmitter } from 'node:events';
import { type Readable, Writable } from 'node:stream';
import { main } from '../../lib/cli/main';

export interface RunOptions {
  /** Stands in for the process's signals. */
  readonly signals?: EventEmitter;
  readonly env?: Record<string, string | undefined>;
  readonly stdin?: Readable;
  readonly errIsTTY?: boolean;
}

/** Runs the CLI in-process, capturing its output (stdout also as bytes). */
export function runCli(args: string[], { signals = new EventEmitter(), env = {}, stdin, errIsTTY = false }: RunOptions = {}) {
  const bytes: Buffer[] = [];
  let out = '';
  let err = '';
  const sink = (append: (text: string) => void) =>
    new Writable({
      write(chunk: Buffer | string, _encoding, done) {
        if (typeof chunk !== 'string') bytes.push(chunk);
        append(chunk.toString());
        done();
      },
    });
  const code = main(args, { out: sink((text) => (out += text)), err: sink((text) => (err += text)), signals, env, errIsTTY, ...(stdin ? { stdin } : {}) });
  return { code, output: () => ({ out, err }), stdoutBytes: () => Buffer.concat(bytes) };
}
