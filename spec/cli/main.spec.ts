import { runCli } from '../support/cli';
import manifest from '../../package.json';

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
