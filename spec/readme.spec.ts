import { execSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
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
    const output = /-o (\S+)/.exec(speak)?.[1] ?? '';
    const env = { ...process.env };
    delete env['RIME_API_KEY'];
    try {
      execSync(speak, { cwd: root, env, stdio: 'pipe', timeout: 60_000 });
      const frames = framesOf(readFileSync(join(root, output)));
      expect(frames.reduce((total, frame) => total + frame.samples, 0) / (frames[0]?.samplingRate ?? 1)).toBeGreaterThan(1.5);
    } finally {
      if (existsSync(join(root, output))) rmSync(join(root, output));
    }
  }, 60_000);

  it('the test command is what CI runs', () => {
    expect(command('Run the tests')).toBe('npm test');
    expect(readFileSync(join(root, '.ci', 'run'), 'utf8')).toMatch(/^npm test$/m);
  });
});
