import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { type RimeServer, createRimeServer } from '../lib/server/createRimeServer';

const root = join(__dirname, '..');
const documents = ['README.md', ...readdirSync(join(root, 'docs')).filter((name) => name.endsWith('.md')).map((name) => join('docs', name))];

interface Sample {
  readonly name: string;
  readonly code: string;
}

/** Every ```ts block of README.md and docs/: what readers copy. Signatures are written as ```text, not ```ts. */
const samples: readonly Sample[] = documents.flatMap((document) =>
  [...readFileSync(join(root, document), 'utf8').matchAll(/```ts\n([\s\S]*?)```/g)].map((match, index) => ({
    name: `${document.replace(/[/.]/g, '-')}-${index}`,
    code: match[1] ?? '',
  })),
);
const isSpecFile = (sample: Sample) => /^\s*(describe|it)\(/m.test(sample.code);

/**
 * What the samples take for granted, made real: names a sample uses without importing or declaring them get these
 * imports and stand-ins (an LLM's tokens, a player, the controls of a voice agent), so each sample runs as written.
 */
const imports: Readonly<Record<string, string>> = {
  rimeTts: 'rime-rx',
  neutralize: 'rime-rx',
  sentences: 'rime-rx',
  writeAudio: 'rime-rx/audio',
  writeAudioFile: 'rime-rx/audio',
  Subject: 'rxjs',
  from: 'rxjs',
  timer: 'rxjs',
};
const standIns: Readonly<Record<string, string>> = {
  llmTokens: "const llmTokens = (async function* () { yield 'Hello '; yield 'there. How are you?'; })();",
  llmTokens$: "const llmTokens$ = _of('Hello there. ', 'How are you?');",
  tokens: "const tokens = ['Hello there. ', 'How are you?'];",
  text$: "const text$ = _of('Hello there. How are you?');",
  endOfTurn$: 'const endOfTurn$ = _NEVER;',
  userStartedSpeaking$: 'const userStartedSpeaking$ = _NEVER;',
  speaker: 'const speaker = new _PassThrough().resume();',
  player: 'const player = new _PassThrough().resume();',
  metrics: 'const metrics = { record: (_event: unknown) => {} };',
  model: "const model = 'any-model';",
  messages: 'const messages: unknown[] = [];',
  client:
    "const client = { chat: { completions: { create: async (_request: unknown) => (async function* () { yield { choices: [{ delta: { content: 'Hello there.' as string | null } }] }; })() } } };",
  openai:
    "const openai = { chat: { completions: { create: async (_request: unknown) => (async function* () { yield { choices: [{ delta: { content: 'Hello there.' as string | null } }] }; })() } } };",
};

/** A sample as a module: its imports, then what it takes for granted, then its code. */
function runnable(code: string): string {
  const importLines = code.split('\n').filter((line) => line.startsWith('import '));
  const body = code.split('\n').filter((line) => !line.startsWith('import ')).join('\n');
  const imported = new Set(importLines.flatMap((line) => [.../\{([^}]*)\}/.exec(line)?.[1]?.split(',') ?? []].map((name) => name.trim().split(' ').pop() ?? '')));
  const uses = (name: string) => new RegExp(`(?<![\\w$.])${name.replace('$', '\\$')}(?![\\w$])`).test(body);
  const declares = (name: string) => new RegExp(`(const|let|function\\*?)\\s+${name.replace('$', '\\$')}\\b`).test(body);
  const missing = (name: string) => uses(name) && !imported.has(name) && !declares(name);
  const needed = Object.entries(imports).filter(([name]) => missing(name));
  const byModule = new Map<string, string[]>();
  for (const [name, module] of needed) byModule.set(module, [...(byModule.get(module) ?? []), name]);
  return [
    ...importLines,
    ...[...byModule].map(([module, names]) => `import { ${names.join(', ')} } from '${module}';`),
    "import { NEVER as _NEVER, of as _of } from 'rxjs';",
    "import { PassThrough as _PassThrough } from 'node:stream';",
    ...Object.entries(standIns).filter(([name]) => missing(name)).map(([, declaration]) => declaration),
    body,
    'export {};',
  ].join('\n');
}

describe('the code samples of README.md and docs/', () => {
  it('are all found (the spec reads them)', () => {
    expect(samples.length).toBeGreaterThanOrEqual(12);
  });

  it.each(samples.filter(isSpecFile).map((sample) => [sample.name, sample] as const))('%s is a spec file the suite runs, as shown', (_, sample) => {
    const examples = readdirSync(join(root, 'examples')).filter((name) => name.endsWith('.spec.ts'));
    const same = examples.filter((name) => readFileSync(join(root, 'examples', name), 'utf8') === sample.code);
    expect(same).toHaveLength(1);
  });

  describe('every other sample type-checks against the package and runs, with the local server as Rime', () => {
    let server: RimeServer;
    let folder: string;
    const scripts = samples.filter((sample) => !isSpecFile(sample));
    // Inside the package, so `rime-rx` resolves to this package (the build) as it does for a user; built by pretest.
    const written = join(root, 'dist', 'doc-samples');

    beforeAll(async () => {
      server = await createRimeServer({ voice: 'test', log: () => {} });
      folder = mkdtempSync(join(tmpdir(), 'rime-rx-docs-'));
      rmSync(written, { recursive: true, force: true });
      mkdirSync(written, { recursive: true });
      for (const sample of scripts) writeFileSync(join(written, `${sample.name}.mts`), runnable(sample.code));
    });
    afterAll(async () => {
      rmSync(folder, { recursive: true, force: true });
      await server.close();
    });

    it('type-checks (strict, nodenext, no skipLibCheck)', () => {
      const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
      const files = scripts.map((sample) => join(written, `${sample.name}.mts`));
      const checked = spawnSync(process.execPath, [tsc, '--noEmit', '--strict', '--target', 'es2022', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--types', 'node', ...files], {
        cwd: root,
        encoding: 'utf8',
      });
      expect(checked.stdout).toBe('');
    }, 60_000);

    it.each(scripts.map((sample) => [sample.name, sample] as const))('%s runs to its end', async (_, sample) => {
      const tsx = pathToFileURL(join(root, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href;
      const env = { PATH: process.env['PATH'], RIME_URL: server.url, RIME_API_KEY: 'docs' };
      // Not spawnSync: the server answering the sample runs in this process.
      const run = spawn(process.execPath, ['--import', tsx, join(written, `${sample.name}.mts`)], { cwd: folder, env, timeout: 30_000 });
      let stderr = '';
      run.stderr.on('data', (data: Buffer) => (stderr += data.toString()));
      run.stdout.resume();
      const [status] = (await once(run, 'exit')) as [number | null];
      // The local server's own log lines (a sample that starts one) are what it documents; anything else is a failure.
      const unexpected = stderr.split('\n').filter((line) => line !== '' && !line.startsWith('rime-rx server: '));
      expect({ status, unexpected }).toEqual({ status: 0, unexpected: [] });
    }, 40_000);
  });
});
