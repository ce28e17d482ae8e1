import { EventEmitter } from 'node:events';
import { Writable } from 'node:stream';
import { main } from '../../lib/cli/main';
import manifest from '../../package.json';

/** Runs the CLI in-process, capturing its output; `signals` stands in for the process. */
export function runCli(args: string[], signals = new EventEmitter()) {
  let out = '';
  let err = '';
  const sink = (append: (text: string) => void) =>
    new Writable({
      write(chunk: Buffer, _encoding, done) {
        append(chunk.toString());
        done();
      },
    });
  const code = main(args, { out: sink((text) => (out += text)), err: sink((text) => (err += text)), signals });
  return { code, output: () => ({ out, err }) };
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
