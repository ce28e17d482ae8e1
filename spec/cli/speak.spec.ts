import { spawn } from 'node:child_process';
import { EventEmitter, once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { framesOf } from '../../lib/audio/mp3Frames';
import { WAV_UNKNOWN_LENGTH } from '../../lib/audio/wav';
import { createRimeServer } from '../../lib/server/createRimeServer';
import { decodeTestSpeech } from '../../lib/server/voices/testVoiceCodec';
import { runCli } from '../support/cli';

const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The data chunk of a WAV file, after checking that the header's lengths match the file. */
function wavData(file: Buffer): Buffer {
  expect(file.subarray(0, 4).toString()).toBe('RIFF');
  expect(file.readUInt32LE(4)).toBe(file.length - 8);
  expect(file.readUInt32LE(40)).toBe(file.length - 44);
  return file.subarray(44);
}

describe('rime-rx speak', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'rime-rx-speak-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));
  const path = (name: string) => join(dir, name);
  const speak = (args: string[], options: Parameters<typeof runCli>[1] = {}) => runCli(['speak', ...args], options);

  it('speaks its arguments into a WAV file with a correct header, on the embedded server, saying so once', async () => {
    const run = speak(['Hello there.', 'How are you?', '-o', path('out.wav'), '--voice', 'test']);
    await expect(run.code).resolves.toBe(0);
    expect(decodeTestSpeech(wavData(readFileSync(path('out.wav')))).text).toBe('Hello there. How are you?');
    const { err } = run.output();
    expect(err.match(/embedded local server/g)).toHaveLength(1);
    expect(err).toMatch(/^rime-rx: wrote .*out\.wav: 25 of 25 characters read, 1\.5 s of audio \(\d+ KB\) in \d+\.\d s, first audio after \d+ ms$/m);
  });

  it('--protocol ws3 speaks over the JSON protocol of the embedded server, the same audio', async () => {
    const run = speak(['Hello there.', 'How are you?', '-o', path('json.wav'), '--voice', 'test', '--protocol', 'ws3']);
    await expect(run.code).resolves.toBe(0);
    expect(decodeTestSpeech(wavData(readFileSync(path('json.wav')))).text).toBe('Hello there. How are you?');
    const bad = speak(['Hi.', '-o', path('bad.wav'), '--voice', 'test', '--protocol', 'ws2']);
    await expect(bad.code).resolves.toBe(2);
    expect(bad.output().err).toMatch(/protocol must be one of ws, ws3, got "ws2"/);
  });

  it('streams stdin as it arrives: audio is written while the text is still coming', async () => {
    const stdin = new PassThrough();
    const run = speak(['-o', path('live.pcm'), '--voice', 'test'], { stdin });
    stdin.write('The first sentence arrives early. The sec');
    for (let waited = 0; waited < 3000 && (statSync(path('live.pcm'), { throwIfNoEntry: false })?.size ?? 0) === 0; waited += 20) await delay(20);
    expect(statSync(path('live.pcm')).size).toBeGreaterThan(0);
    stdin.end('ond comes later.');
    await expect(run.code).resolves.toBe(0);
    expect(decodeTestSpeech(readFileSync(path('live.pcm'))).text).toBe('The first sentence arrives early. The second comes later.');
  });

  it('reads --input FILE', async () => {
    writeFileSync(path('script.txt'), 'From a file. With two sentences.\n');
    await expect(speak(['--input', path('script.txt'), '-o', path('file.raw'), '--voice', 'test']).code).resolves.toBe(0);
    expect(decodeTestSpeech(readFileSync(path('file.raw'))).text).toBe('From a file. With two sentences.');
  });

  it('writes to stdout with -o - (a WAV header of unknown length for pipes)', async () => {
    const run = speak(['Piped.', '-o', '-', '--format', 'wav', '--voice', 'test', '--quiet']);
    await expect(run.code).resolves.toBe(0);
    const bytes = run.stdoutBytes();
    expect(bytes.readUInt32LE(40)).toBe(WAV_UNKNOWN_LENGTH);
    expect(decodeTestSpeech(bytes.subarray(44)).text).toBe('Piped.');
    expect(run.output().err).toBe('');
  });

  it.each([
    ['a.ulaw', ['--sampling-rate', '8000'], 8 + 7 * 480],
    ['a.mulaw', ['--sampling-rate', '8000'], 8 + 7 * 480],
    ['a.pcm', ['--sampling-rate', '8000'], (8 + 7 * 480) * 2],
  ])('infers the format from %s', async (name, flags, bytes) => {
    await expect(speak(['Seven..', '-o', path(name), '--voice', 'test', ...flags]).code).resolves.toBe(0);
    expect(statSync(path(name)).size).toBe(bytes);
  });

  it('speaks real speech as mp3 by default (the README command)', async () => {
    const run = speak(['Hello from rime-rx.', '-o', path('hello.mp3')]);
    await expect(run.code).resolves.toBe(0);
    const frames = framesOf(readFileSync(path('hello.mp3')));
    expect(frames.reduce((total, frame) => total + frame.samples, 0) / (frames[0]?.samplingRate ?? 1)).toBeGreaterThan(0.5);
  });

  it.each([
    [['x', '-o', 'a.ogg'], /cannot tell the format of a\.ogg/],
    [['x', '-o', 'a.mp3', '--format', 'pcm'], /a\.mp3 names mp3 audio but --format says pcm/],
    [['x', '-o', '-'], /writing to stdout \(-o -\) needs --format/],
    [['x'], /give -o FILE/],
    [['x', '-o', 'a.mp3', '--speker', 'cove'], /unknown option --speker; did you mean --speaker\?/],
    [['x', '-o', 'a.mp3', '--sampling-rate', '99', '--speaker', 'cov'], /invalid options: samplingRate must be an integer from 4000 to 96000, got 99; speaker "cov" is not a mistv3 voice for eng; did you mean cove\?/],
    [['x', '-o', 'a.mp3', '--format', 'ogg'], /--format must be one of mp3, wav, mulaw, pcm/],
    [['x', '-o', 'a.mp3', '--input', 'f.txt'], /as arguments or with --input, not both/],
  ])('usage errors exit 2 with one line naming the cause: %j', async (args, message) => {
    const run = speak(args);
    await expect(run.code).resolves.toBe(2);
    expect(run.output().err).toMatch(message);
    expect(run.output().err.trim().split('\n')).toHaveLength(1);
  });

  it('a missing --input file: exit 2 with one line, no stack trace', async () => {
    const run = speak(['--input', path('missing.txt'), '-o', path('x.wav'), '--voice', 'test']);
    await expect(run.code).resolves.toBe(2);
    expect(run.output().err).toMatch(/^rime-rx: cannot read .*missing\.txt: ENOENT \(try rime-rx speak --help\)\n$/);
  });

  it('Ctrl-C during start-up still ends in exit 130 and a playable (empty) file', async () => {
    const signals = new EventEmitter();
    const run = speak(['Never spoken.', '-o', path('early.wav'), '--voice', 'test'], { signals });
    signals.emit('SIGINT');
    await expect(run.code).resolves.toBe(130);
    expect(wavData(readFileSync(path('early.wav'))).length).toBe(0);
  });

  it('on a terminal, an error after progress starts on a line of its own', async () => {
    const server = await createRimeServer({ log: () => {}, faults: [{ kind: 'drop', afterBytes: 20_000 }] });
    try {
      const run = speak(['A sentence long enough to pass twenty thousand bytes of audio.', '-o', path('cut.wav'), '--url', server.url, '--retries', '0'], {
        env: { RIME_API_KEY: 'key-for-the-test' },
        errIsTTY: true,
      });
      await expect(run.code).resolves.toBe(5);
      const lines = run.output().err.split('\n');
      expect(lines.at(-2)).toMatch(/^rime-rx: Rime closed the connection: 1006/);
      expect(wavData(readFileSync(path('cut.wav'))).length).toBe(20_000);
    } finally {
      await server.close();
    }
  });

  it('without text on a terminal or anywhere: exit 2', async () => {
    const stdin = Object.assign(new PassThrough(), { isTTY: true });
    const run = speak(['-o', path('x.mp3')], { stdin });
    await expect(run.code).resolves.toBe(2);
    expect(run.output().err).toMatch(/no text/);
  });

  describe('with RIME_API_KEY, against a server', () => {
    it('authentication failure: exit 3, and the key appears nowhere', async () => {
      const strict = await createRimeServer({ log: () => {}, apiKeys: ['right'] });
      try {
        const run = speak(['x', '-o', path('x.mp3'), '--url', strict.url], { env: { RIME_API_KEY: 'sk-sentinel-cli' } });
        await expect(run.code).resolves.toBe(3);
        const { out, err } = run.output();
        expect(err).toBe('rime-rx: Rime refused the connection: 401 invalid api key\n');
        expect(out + err).not.toContain('sk-sentinel');
      } finally {
        await strict.close();
      }
    });

    it('rate limit: exit 4; connection failure: exit 5', async () => {
      const limited = await createRimeServer({ log: () => {}, faults: [{ kind: 'refuse', status: 429, body: 'Currently at websocket limit' }] });
      const url = limited.url;
      try {
        const run = speak(['x', '-o', path('x.mp3'), '--url', url, '--retries', '0'], { env: { RIME_API_KEY: 'k' } });
        await expect(run.code).resolves.toBe(4);
        expect(run.output().err).toBe('rime-rx: Rime refused the connection: 429 Currently at websocket limit\n');
      } finally {
        await limited.close();
      }
      const gone = speak(['x', '-o', path('x.mp3'), '--url', url, '--retries', '0'], { env: { RIME_API_KEY: 'k' } });
      await expect(gone.code).resolves.toBe(5);
      expect(gone.output().err).toMatch(/^rime-rx: could not connect to ws:\/\/127\.0\.0\.1:\d+\/ws: ECONNREFUSED\n$/);
    });
  });

  it('Ctrl-C tears down cleanly, exits 130 and leaves a playable file of what arrived', async () => {
    const signals = new EventEmitter();
    const stdin = new PassThrough();
    const run = speak(['-o', path('cut.wav'), '--voice', 'test'], { stdin, signals });
    stdin.write('This part is spoken before the interruption. And this');
    for (let waited = 0; waited < 3000 && (statSync(path('cut.wav'), { throwIfNoEntry: false })?.size ?? 0) <= 44; waited += 20) await delay(20);
    await delay(50);
    signals.emit('SIGINT');
    await expect(run.code).resolves.toBe(130);
    expect(decodeTestSpeech(wavData(readFileSync(path('cut.wav')))).text).toBe('This part is spoken before the interruption.');
    expect(run.output().err).toMatch(/interrupted; wrote/);
  });

  describe('ways of stopping, and ends that are not failures (found by trying it as a user)', () => {
    const cli = join(__dirname, '..', '..', 'dist', 'cli', 'main.js');
    /** The built CLI as a process speaking its stdin (kept open) into `output` with the test voice. */
    const speakingProcess = (output: string) =>
      spawn(process.execPath, [cli, 'speak', '-o', output, '--voice', 'test', '-q'], { stdio: ['pipe', 'pipe', 'pipe'], env: { PATH: process.env['PATH'] } });
    const untilAudio = async (output: string) => {
      for (let waited = 0; waited < 5000 && (statSync(output, { throwIfNoEntry: false })?.size ?? 0) <= 44; waited += 20) await delay(20);
    };

    it.each([
      ['SIGINT twice', ['SIGINT', 'SIGINT'], 130],
      ['SIGTERM', ['SIGTERM'], 143],
    ] as const)('%s: the WAV header matches its data (a playable file of what arrived)', async (_, signals, code) => {
      const output = path('stopped.wav');
      const child = speakingProcess(output);
      child.stdin.write('This part is spoken before the signal. And this');
      await untilAudio(output);
      const exited = once(child, 'exit');
      for (const signal of signals) child.kill(signal);
      const [exitCode] = (await exited) as [number | null];
      expect(exitCode).toBe(code);
      expect(decodeTestSpeech(wavData(readFileSync(output))).text).toBe('This part is spoken before the signal.');
    }, 20_000);

    it('a reader that stops reading stdout (| head -c 1000) is a quiet, normal end: exit 0, no EPIPE', async () => {
      const child = spawn(process.execPath, [cli, 'speak', 'A sentence that makes far more than a thousand bytes of audio.', '-o', '-', '--format', 'pcm', '--voice', 'test'], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stderr = '';
      child.stderr.on('data', (data: Buffer) => (stderr += data.toString()));
      let taken = 0;
      for await (const data of child.stdout as AsyncIterable<Buffer>) {
        taken += data.length;
        if (taken >= 1000) break; // leaving the loop destroys the pipe, as head does
      }
      const [exitCode] = (await once(child, 'exit')) as [number | null];
      expect(stderr).not.toMatch(/EPIPE/);
      expect(exitCode).toBe(0);
    }, 20_000);
  });

  it('--voice with RIME_API_KEY set is honoured, and says so: the embedded server speaks, not the network', async () => {
    const run = speak(['Local anyway.', '-o', path('local.wav'), '--voice', 'test'], { env: { RIME_API_KEY: 'a-real-looking-key-123' } });
    await expect(run.code).resolves.toBe(0);
    expect(decodeTestSpeech(wavData(readFileSync(path('local.wav')))).text).toBe('Local anyway.');
    expect(run.output().err).toMatch(/^rime-rx: --voice test given: speaking with the embedded local server, not Rime/);
  });

  it('--voice and --url together: exit 2', async () => {
    const run = speak(['x', '-o', path('x.wav'), '--voice', 'test', '--url', 'ws://127.0.0.1:1/ws']);
    await expect(run.code).resolves.toBe(2);
    expect(run.output().err).toMatch(/--voice picks the embedded server's voice and --url another server/);
  });

  it('a missing output folder: exit 2 before anything connects', async () => {
    const server = await createRimeServer({ log: () => {} });
    const opened: unknown[] = [];
    const watching = server.events.subscribe((event) => event.type === 'open' && opened.push(event));
    try {
      const run = speak(['x', '-o', path('no/such/folder/x.wav'), '--url', server.url], { env: { RIME_API_KEY: 'k' } });
      await expect(run.code).resolves.toBe(2);
      expect(run.output().err).toMatch(/^rime-rx: cannot write .*x\.wav: the folder .*folder does not exist/);
      expect(opened).toEqual([]);
    } finally {
      watching.unsubscribe();
      await server.close();
    }
  });

  it('empty input is a usage error (exit 2) that leaves no file; so are empty arguments', async () => {
    const stdin = new PassThrough();
    stdin.end('  \n');
    const run = speak(['-o', path('empty.wav'), '--voice', 'test'], { stdin });
    await expect(run.code).resolves.toBe(2);
    expect(run.output().err).toMatch(/^rime-rx: no text to speak: the input was empty/m);
    expect(existsSync(path('empty.wav'))).toBe(false);
    const blank = speak(['', '-o', path('blank.wav'), '--voice', 'test']);
    await expect(blank.code).resolves.toBe(2);
    expect(blank.output().err).toMatch(/no text to speak: the arguments are empty/);
  });

  it('on a terminal, progress is redrawn at most every 100 ms, with characters read, audio and time', async () => {
    const text = Array.from({ length: 30 }, (_, index) => `Sentence number ${index} is spoken here.`).join(' ');
    const started = Date.now();
    const run = speak([text, '-o', path('long.wav'), '--voice', 'test'], { errIsTTY: true });
    await expect(run.code).resolves.toBe(0);
    const elapsed = Date.now() - started;
    const redraws = run.output().err.split('\r').length - 1;
    expect(redraws).toBeGreaterThanOrEqual(1);
    expect(redraws).toBeLessThanOrEqual(Math.ceil(elapsed / 100) + 1);
    expect(run.output().err).toMatch(new RegExp(`\\r.*rime-rx: [\\d,]+ of ${text.length.toLocaleString('en-US')} characters read, \\d+\\.\\d s of audio`));
  });
});
