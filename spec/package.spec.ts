import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const root = join(__dirname, '..');
const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
  dependencies: Record<string, string>;
  peerDependencies: Record<string, string>;
  peerDependenciesMeta: Record<string, { optional: boolean }>;
};

/** Runs a CommonJS snippet with plain Node from the package root, as a consumer of the built package would. */
function node(script: string): string {
  return execFileSync(process.execPath, ['-e', script], { cwd: root, encoding: 'utf8' });
}

describe('the package', () => {
  it('has been built (npm test builds it first, through pretest)', () => {
    expect(existsSync(join(root, 'dist', 'index.js'))).toBe(true);
  });

  it('resolves its three entry points by name, through "exports"', () => {
    const out = node(`
      const main = require('rime-rx');
      const server = require('rime-rx/server');
      const testing = require('rime-rx/testing');
      console.log([typeof main.sentences, typeof main.rimeUrl, typeof server.decodeRimeQuery, typeof testing.llmTokens].join());
    `);
    expect(out.trim()).toBe('function,function,function,function');
  });

  it('keeps runtime dependencies to rxjs (peer), ws, io-ts and fp-ts; the server\'s GPL/LGPL pieces are optional peers', () => {
    expect(Object.keys(manifest.dependencies).sort()).toEqual(['fp-ts', 'io-ts', 'ws']);
    expect(Object.keys(manifest.peerDependencies).sort()).toEqual(['@breezystack/lamejs', '@echogarden/espeak-ng-emscripten', 'rxjs']);
    expect(manifest.peerDependenciesMeta).toEqual({ '@breezystack/lamejs': { optional: true }, '@echogarden/espeak-ng-emscripten': { optional: true } });
  });

  it('the client entry loads no server code', () => {
    const loaded = node(`
      require('rime-rx');
      console.log(JSON.stringify(Object.keys(require.cache).filter((file) => file.includes('/dist/'))));
    `);
    for (const file of JSON.parse(loaded) as string[]) expect(file).not.toMatch(/[/\\]dist[/\\](server|cli)[/\\]/);
  });

  it('the bin prints its version', () => {
    const version = execFileSync(process.execPath, [join(root, 'dist', 'cli', 'main.js'), '--version'], { encoding: 'utf8' });
    expect(version.trim()).toMatch(/^\d+\.\d+\.\d+/);
  });
});
