import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const root = join(__dirname, '..', '..');

describe('npm run bench -- --quick', () => {
  it('runs every benchmark end to end and writes its report (figures not asserted: no timing in tests)', () => {
    execFileSync(process.execPath, ['--import', 'tsx', join(root, 'bench', 'index.ts'), '--quick'], { cwd: root, stdio: 'pipe', timeout: 120_000 });
    const report = readFileSync(join(root, 'dist', 'benchmarks.quick.md'), 'utf8');
    for (const section of ['sentences\\(\\) against a naive splitter', 'The local server', 'rimeTts\\(\\) against a raw ws client', '\\d+ concurrent rimeTts streams']) {
      expect(report).toMatch(new RegExp(`^## ${section}$`, 'm'));
    }
    expect(report).toMatch(/^Machine: .+ cores/m);
  }, 120_000);
});
