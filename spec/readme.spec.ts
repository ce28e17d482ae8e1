import { execSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { framesOf } from '../lib/audio/mp3Frames';

const root = join(__dirname, '..');
const readme = readFileSync(join(root, 'README.md'), 'utf8');

/** The command README gives after `label`, in backticks. */
function command(label: string): string {
  const found = new RegExp(`\\*\\*${label}:\\*\\* \`([^\`]+)\``).exec(readme)?.[1];
  if (found === undefined) throw new Error(`README has no "${label}" command`);
  return found;
}

describe("README's two commands", () => {
  it('the main job speaks its sentence into a playable mp3, with no key and no network', () => {
    const speak = command('Speak a sentence into a file');
    // Written in a folder of its own: the test never touches a hello.mp3 the reader made with the same command.
    const folder = mkdtempSync(join(tmpdir(), 'rime-rx-readme-'));
    const output = join(folder, /-o (\S+)/.exec(speak)?.[1] ?? 'missing-output');
    const readersOwn = join(root, /-o (\S+)/.exec(speak)?.[1] ?? 'missing-output');
    const readersBefore = existsSync(readersOwn) ? readFileSync(readersOwn) : undefined;
    const env = { ...process.env };
    delete env['RIME_API_KEY'];
    try {
      execSync(speak.replace(/-o \S+/, `-o ${JSON.stringify(output)}`), { cwd: root, env, stdio: 'pipe', timeout: 60_000 });
      const frames = framesOf(readFileSync(output));
      expect(frames.reduce((total, frame) => total + frame.samples, 0) / (frames[0]?.samplingRate ?? 1)).toBeGreaterThan(1.5);
      expect(existsSync(readersOwn) ? readFileSync(readersOwn) : undefined).toEqual(readersBefore);
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  }, 60_000);

  it('the test command is what CI runs', () => {
    expect(command('Run the tests')).toBe('npm test');
    expect(readFileSync(join(root, '.ci', 'run'), 'utf8')).toMatch(/^npm test$/m);
  });
});
