import { spawn } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { decodeTestSpeech } from '../../lib/server/voices/testVoiceCodec';
import { open, refusal, speak } from '../support/wsClient';
import { runCli } from '../support/cli';

const pcm = { speaker: 'cove', audioFormat: 'pcm' } as const;

/** Resolves with the first line written to the captured stdout. */
async function firstLine(output: () => { out: string }): Promise<string> {
  for (let waited = 0; waited < 5000; waited += 10) {
    const line = output().out.split('\n')[0];
    if (line !== undefined && output().out.includes('\n')) return line;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error('no output');
}

describe('rime-rx serve', () => {
  it('prints the URL, serves, and stops cleanly on SIGTERM', async () => {
    const signals = new EventEmitter();
    const { code, output } = runCli(['serve', '--port', '0', '--voice', 'test', '--key', 'k1', '--key', 'k2'], { signals });
    const url = await firstLine(output);
    expect(url).toMatch(/^ws:\/\/127\.0\.0\.1:\d+\/ws$/);
    await expect(refusal(url, pcm, { Authorization: 'Bearer other' })).resolves.toEqual({ status: 401, body: 'invalid api key' });
    const session = await open(url, pcm, 'k2');
    await speak(session, ['Served.']);
    expect(decodeTestSpeech(session.audio()).text).toBe('Served.');
    signals.emit('SIGTERM');
    await expect(code).resolves.toBe(0);
    expect(output().err).toContain('rime-rx serve: stopped');
  });

  it('rejects bad flags with exit 2 and a message naming them', async () => {
    const bad = runCli(['serve', '--port', 'eighty', '--voice', 'robot']);
    await expect(bad.code).resolves.toBe(2);
    expect(bad.output().err).toMatch(/port must be an integer from 0 to 65535 \(0: any free port\), got "eighty"[\s\S]*voice must be one of test, espeak, got "robot"/);
    const unknown = runCli(['serve', '--colour', 'blue']);
    await expect(unknown.code).resolves.toBe(2);
    expect(unknown.output().err).toBe('rime-rx serve: unknown option --colour (try --help)\n');
    const misspelt = runCli(['serve', '--frame-byte', '4096']);
    await expect(misspelt.code).resolves.toBe(2);
    expect(misspelt.output().err).toBe('rime-rx serve: unknown option --frame-byte; did you mean --frame-bytes? (try --help)\n');
  });

  it('--frame-bytes sets the largest audio frame, and must be at least 1', async () => {
    const signals = new EventEmitter();
    const { code, output } = runCli(['serve', '--port', '0', '--voice', 'test', '--frame-bytes', '1001'], { signals });
    const session = await open(await firstLine(output), pcm);
    await speak(session, ['Cut into odd frames.']);
    const sizes = session.chunks.map((chunk) => chunk.length);
    expect(Math.max(...sizes)).toBe(1001);
    expect(decodeTestSpeech(session.audio()).text).toBe('Cut into odd frames.');
    signals.emit('SIGTERM');
    await expect(code).resolves.toBe(0);
    const bad = runCli(['serve', '--frame-bytes', '0']);
    await expect(bad.code).resolves.toBe(2);
    expect(bad.output().err).toMatch(/frameBytes must be an integer of at least 1, got 0/);
  });

  it('--sentence-buffering must be punctuation or whitespace', async () => {
    const bad = runCli(['serve', '--sentence-buffering', 'sometimes']);
    await expect(bad.code).resolves.toBe(2);
    expect(bad.output().err).toMatch(/sentenceBuffering must be one of punctuation, whitespace, got "sometimes"/);
  });

  it('--help lists every option', async () => {
    const help = runCli(['serve', '--help']);
    await expect(help.code).resolves.toBe(0);
    for (const flag of ['--port', '--host', '--voice', '--key', '--first-audio-ms', '--real-time-factor', '--max-connections', '--idle-timeout-ms', '--frame-bytes', '--sentence-buffering']) {
      expect(help.output().out).toContain(flag);
    }
  });

  it('runs as a process from the build and exits 0 on SIGINT', async () => {
    const child = spawn(process.execPath, [join(__dirname, '..', '..', 'dist', 'cli', 'main.js'), 'serve', '--port', '0', '--voice', 'test'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const [url] = (await createInterface({ input: child.stdout })[Symbol.asyncIterator]().next()).value.split('\n');
    const session = await open(url, pcm);
    await speak(session, ['From a process.']);
    expect(decodeTestSpeech(session.audio()).text).toBe('From a process.');
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    child.kill('SIGINT');
    await expect(exited).resolves.toBe(0);
  });
});
