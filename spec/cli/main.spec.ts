import { Writable } from 'node:stream';
import { main } from '../../lib/cli/main';
import manifest from '../../package.json';

function run(args: string[]) {
  let out = '';
  let err = '';
  const sink = (append: (text: string) => void) =>
    new Writable({
      write(chunk: Buffer, _encoding, done) {
        append(chunk.toString());
        done();
      },
    });
  const code = main(args, sink((text) => (out += text)), sink((text) => (err += text)));
  return { code, out, err };
}

describe('rime-rx CLI', () => {
  it('--help prints usage to stdout and exits 0', () => {
    const { code, out } = run(['--help']);
    expect(code).toBe(0);
    expect(out).toMatch(/^Usage: rime-rx/);
  });

  it('--version prints the package version', () => {
    expect(run(['--version'])).toEqual({ code: 0, out: `${manifest.version}\n`, err: '' });
    expect(run(['-v']).out).toBe(`${manifest.version}\n`);
  });

  it('no arguments: usage on stderr, exit 2', () => {
    const { code, err } = run([]);
    expect(code).toBe(2);
    expect(err).toMatch(/^Usage:/);
  });

  it('an unknown command is a usage error', () => {
    expect(run(['dance'])).toEqual({ code: 2, out: '', err: 'rime-rx: unknown command or option "dance" (try --help)\n' });
  });
});
