import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const root = join(__dirname, '..', '..');

describe('npm run bench -- --quick', () => {
  it('runs every benchmark end to end and writes its report (figures not asserted: no timing in tests)', () => {
    execFileSync(process.execPath, ['--import', 'tsx', join(root, 'bench', 'index.ts'), '--quick'], { cwd: root, stdio: 'pipe', timeout: 120_000 });
    const report = readFileSync(join(root, 'dist', 'benchmarks.quick.md'), 'utf8');
    const sections = [
      'sentences\\(\\) against a naive splitter',
      'Linear time on adversarial text',
      'The local server',
      'rimeTts\\(\\) against a raw ws client',
      'rimeTts\\(\\) against a raw ws client, by server frame size',
      'End-to-end first audio from an LLM-like stream',
      'Connections per stream',
      '\\d+ concurrent rimeTts streams',
    ];
    for (const section of sections) {
      expect(report).toMatch(new RegExp(`^## ${section}$`, 'm'));
    }
    expect(report).toMatch(/^Machine: .+ cores/m);
  }, 120_000);
});
