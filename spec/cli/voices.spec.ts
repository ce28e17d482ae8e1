import { listVoices } from '../../lib/catalog';
import { runCli } from '../support/cli';

describe('rime-rx voices', () => {
  it('lists the catalog as a table, filtered by model and language, with a count on stderr', async () => {
    const run = runCli(['voices', '--model', 'coda', '--lang', 'spa']);
    await expect(run.code).resolves.toBe(0);
    const lines = run.output().out.trim().split('\n');
    expect(lines[0]).toMatch(/^speaker\s+model\s+lang$/);
    const expected = listVoices({ modelId: 'coda', lang: 'spa' });
    expect(lines.slice(1).map((line) => line.split(/\s+/))).toEqual(expected.map((voice) => [voice.speaker, voice.modelId, voice.lang]));
    expect(run.output().err).toBe(`rime-rx voices: ${expected.length} voices\n`);
  });

  it('--json gives the same as listVoices(); a name filters by a piece of it', async () => {
    const run = runCli(['voices', 'astr', '--json']);
    await expect(run.code).resolves.toBe(0);
    expect(JSON.parse(run.output().out)).toEqual(listVoices({ name: 'astr' }));
  });

  it('an unknown model or language is exit 2 with a did-you-mean', async () => {
    const model = runCli(['voices', '--model', 'cod']);
    await expect(model.code).resolves.toBe(2);
    expect(model.output().err).toMatch(/^rime-rx voices: no model "cod" in the catalog; did you mean coda\?/);
    const lang = runCli(['voices', '--lang', 'xx']);
    await expect(lang.code).resolves.toBe(2);
    expect(lang.output().err).toMatch(/no language "xx" in the catalog/);
  });

  it('--help, and rime-rx speak points at it', async () => {
    const help = runCli(['voices', '--help']);
    await expect(help.code).resolves.toBe(0);
    expect(help.output().out).toMatch(/^Usage: rime-rx voices/);
    const speak = runCli(['speak', 'x', '-o', '/tmp/none.mp3', '--speaker', 'nobodyatall', '--voice', 'test']);
    await expect(speak.code).resolves.toBe(2);
    expect(speak.output().err).toMatch(/rime-rx voices --model ID --lang CODE lists the voices/);
  });
});
