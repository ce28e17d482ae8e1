import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = join(__dirname, '..');
const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
  readonly version: string;
  readonly dependencies: Record<string, string>;
  readonly peerDependencies: Record<string, string>;
  readonly peerDependenciesMeta: Record<string, { optional: boolean }>;
};
type LockEntry = { readonly version: string; readonly dependencies?: Record<string, string>; readonly [field: string]: unknown };
const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8')) as { packages: Record<string, LockEntry> };

/** Licences a client install may hold: permissive only, nothing copyleft. */
const PERMISSIVE = new Set(['MIT', 'ISC', 'Apache-2.0', 'BSD-2-Clause', 'BSD-3-Clause', '0BSD']);

/** `names` and everything they depend on, as this repository's lockfile pins them (so they are in npm's cache). */
function pinned(names: readonly string[]): Record<string, LockEntry> {
  const entries: Record<string, LockEntry> = {};
  const pending = [...names];
  for (let name = pending.pop(); name !== undefined; name = pending.pop()) {
    const key = `node_modules/${name}`;
    const entry = lock.packages[key];
    if (entry === undefined) throw new Error(`${name} is not in package-lock.json`);
    if (key in entries) continue;
    const { dev: _dev, devOptional: _devOptional, ...kept } = entry;
    entries[key] = kept as LockEntry;
    pending.push(...Object.keys(entry.dependencies ?? {}));
  }
  return entries;
}

/** Every package.json under `modules`, nested ones too. */
function installedPackages(modules: string): { readonly name: string; readonly license: unknown }[] {
  return readdirSync(modules, { withFileTypes: true }).flatMap((entry) => {
    if (!entry.isDirectory() || entry.name.startsWith('.')) return [];
    const folder = join(modules, entry.name);
    if (entry.name.startsWith('@')) return installedPackages(folder);
    const own = JSON.parse(readFileSync(join(folder, 'package.json'), 'utf8')) as { name: string; license: unknown };
    const nested = readdirSync(folder).includes('node_modules') ? installedPackages(join(folder, 'node_modules')) : [];
    return [{ name: own.name, license: own.license }, ...nested];
  });
}

describe('the packed package, installed into a new project offline', () => {
  let folder: string;
  let files: string[];
  let installLog: string;
  const inProject = (script: string, ...flags: string[]) =>
    execFileSync(process.execPath, [...flags, '-e', script], { cwd: folder, encoding: 'utf8' }).trim();

  beforeAll(() => {
    folder = mkdtempSync(join(tmpdir(), 'rime-rx-pack-'));
    // dist/ is built by `pretest`; packing again would only rebuild it.
    const packed = JSON.parse(
      execFileSync('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', folder], { cwd: root, encoding: 'utf8' }),
    ) as { filename: string; files: { path: string }[] }[];
    const tarball = packed[0]?.filename ?? '';
    files = (packed[0]?.files ?? []).map((file) => file.path);
    // What a user's `npm install rime-rx` resolves to, pinned from this repository's lockfile so no network is needed.
    const dependencies = { 'rime-rx': `file:${tarball}`, rxjs: lock.packages['node_modules/rxjs']?.version ?? '', '@types/node': lock.packages['node_modules/@types/node']?.version ?? '' };
    const rimeRx = { version: manifest.version, resolved: `file:${tarball}`, license: 'MIT', dependencies: manifest.dependencies, peerDependencies: manifest.peerDependencies, peerDependenciesMeta: manifest.peerDependenciesMeta, bin: { 'rime-rx': 'dist/cli/main.js' } };
    const project = { name: 'consumer', version: '1.0.0', private: true, dependencies };
    const packages = { '': project, 'node_modules/rime-rx': rimeRx, ...pinned([...Object.keys(manifest.dependencies), 'rxjs', '@types/node']) };
    writeFileSync(join(folder, 'package.json'), JSON.stringify(project));
    writeFileSync(join(folder, 'package-lock.json'), JSON.stringify({ name: 'consumer', version: '1.0.0', lockfileVersion: 3, requires: true, packages }));
    const install = spawnSync('npm', ['ci', '--offline', '--no-audit', '--no-fund'], { cwd: folder, encoding: 'utf8' });
    installLog = `${install.stdout}${install.stderr}`;
    if (install.status !== 0) throw new Error(`npm ci failed:\n${installLog}`);
  }, 120_000);
  afterAll(() => rmSync(folder, { recursive: true, force: true }));

  it('holds the build, the licence and the readme, and no sources, specs or benchmarks', () => {
    expect(files.filter((file) => !file.startsWith('dist/')).sort()).toEqual(['LICENSE', 'README.md', 'package.json']);
    expect(files.filter((file) => /\.[mc]?ts$/.test(file) && !file.endsWith('.d.ts'))).toEqual([]);
    // What the test suite and the benchmarks write into dist/ stays out.
    expect(files.filter((file) => file.startsWith('dist/doc-samples/') || file.endsWith('.md') && file.startsWith('dist/'))).toEqual([]);
    for (const entry of ['index', 'audio/index', 'server/index', 'testing/index']) {
      expect(files).toEqual(expect.arrayContaining([`dist/${entry}.js`, `dist/${entry}.d.ts`]));
    }
    expect(files).toEqual(expect.arrayContaining(['dist/cli/main.js', 'dist/server/voices/espeak-worker.mjs']));
  });

  it('installs with no warning (no install script) and only permissive licences: the offline voice and mp3 are opt-in', () => {
    expect(installLog).not.toMatch(/warn/i);
    const installed = installedPackages(join(folder, 'node_modules'));
    expect(installed.map((entry) => entry.name)).not.toEqual(expect.arrayContaining(['@breezystack/lamejs']));
    expect(installed.map((entry) => entry.name)).not.toEqual(expect.arrayContaining(['@echogarden/espeak-ng-emscripten']));
    for (const { name, license } of installed) expect([name, PERMISSIVE.has(String(license))]).toEqual([name, true]);
    for (const optional of ['@breezystack/lamejs', '@echogarden/espeak-ng-emscripten']) {
      expect(manifest.peerDependenciesMeta[optional]).toEqual({ optional: true });
    }
  });

  it('loads every entry point from CommonJS and from ESM', () => {
    const names = "typeof rimeTts, typeof writeAudio, typeof createRimeServer, typeof FakeTransport";
    expect(
      inProject(`const { rimeTts } = require('rime-rx'); const { writeAudio } = require('rime-rx/audio');
        const { createRimeServer } = require('rime-rx/server'); const { FakeTransport } = require('rime-rx/testing');
        console.log([${names}].join())`),
    ).toBe('function,function,function,function');
    expect(
      inProject(
        `import { rimeTts } from 'rime-rx'; import { writeAudio } from 'rime-rx/audio';
        import { createRimeServer } from 'rime-rx/server'; import { FakeTransport } from 'rime-rx/testing';
        console.log([${names}].join())`,
        '--input-type=module',
      ),
    ).toBe('function,function,function,function');
  });

  it.each([
    ['nodenext', 'nodenext'],
    ['esnext', 'bundler'],
    ['commonjs', 'node'],
  ])('type-checks against its declarations with module %s, moduleResolution %s (no skipLibCheck)', (module, moduleResolution) => {
    writeFileSync(
      join(folder, 'index.ts'),
      [
        "import { type RimeTtsConfig, rimeTts, sentences } from 'rime-rx';",
        "import { writeAudio } from 'rime-rx/audio';",
        "import { createRimeServer } from 'rime-rx/server';",
        "import { FakeTransport } from 'rime-rx/testing';",
        "const config: RimeTtsConfig = { speaker: 'cove' };",
        'export const used = [rimeTts(config), sentences(), writeAudio, createRimeServer, new FakeTransport()];',
      ].join('\n'),
    );
    const checked = spawnSync(
      process.execPath,
      [tsc, '--noEmit', '--strict', '--target', 'es2022', '--types', 'node', '--module', module, '--moduleResolution', moduleResolution, 'index.ts'],
      { cwd: folder, encoding: 'utf8' },
    );
    expect(checked.stdout).toBe('');
    expect(checked.status).toBe(0);
  });

  it('the bin runs, and its source maps carry their sources', () => {
    expect(execFileSync(join(folder, 'node_modules', '.bin', 'rime-rx'), ['--version'], { encoding: 'utf8' }).trim()).toBe(manifest.version);
    const map = JSON.parse(readFileSync(join(folder, 'node_modules', 'rime-rx', 'dist', 'index.js.map'), 'utf8')) as { sourcesContent?: string[] };
    expect(map.sourcesContent?.[0]).toMatch(/export/);
  });
});
