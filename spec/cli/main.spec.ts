import { EventEmitter } from 'node:events';
import { type Readable, Writable } from 'node:stream';
import { main } from '../../lib/cli/main';
import manifest from '../../package.json';

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

async function run(args: string[]) {
  const { code, output } = runCli(args);
  return { code: await code, ...output() };
}

describe('rime-rx CLI', () => {
  it('--help prints usage to stdout and exits 0', async () => {
    const { code, out } = await run(['--help']);
    expect(code).toBe(0);
    expect(out).toMatch(/^Usage: rime-rx/);
    expect(out).toMatch(/serve/);
  });

  it('--version prints the package version', async () => {
    expect(await run(['--version'])).toEqual({ code: 0, out: `${manifest.version}\n`, err: '' });
    expect((await run(['-v'])).out).toBe(`${manifest.version}\n`);
  });

  it('no arguments: usage on stderr, exit 2', async () => {
    const { code, err } = await run([]);
    expect(code).toBe(2);
    expect(err).toMatch(/^Usage:/);
  });

  it('an unknown command is a usage error', async () => {
    expect(await run(['dance'])).toEqual({ code: 2, out: '', err: 'rime-rx: unknown command or option "dance" (try --help)\n' });
  });
});
