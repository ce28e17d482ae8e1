import { createServer } from 'node:net';
import { type Observable, filter, firstValueFrom, takeUntil, toArray } from 'rxjs';
import { type RimeServer, createRimeServer } from '../../lib/server/createRimeServer';
import type { ServerEvent } from '../../lib/server/events';
import { decodeTestSpeech, testVoiceBlockLength } from '../../lib/server/voices/testVoiceCodec';
import { sampleOfMulaw } from '../../lib/server/encode';
import * as mp3 from '../../lib/server/encode/mp3';
import { open, refusal, speak } from '../support/wsClient';

const pcm = { speaker: 'cove', audioFormat: 'pcm' } as const;
const silent = { log: () => {} };
const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('createRimeServer()', () => {
  let server: RimeServer;
  beforeAll(async () => {
    server = await createRimeServer({ ...silent, maxConnections: 600 });
  });
  afterAll(() => server.close());

  describe('the upgrade, as Rime answers it', () => {
    it.each([
      [{}, 'Missing Authorization header'],
      [{ Authorization: 'Bearer ' }, 'empty apikey'],
      [{ Authorization: 'Bearer' }, 'empty apikey'],
      [{ Authorization: 'BearerXYZ' }, 'invalid api key'],
      [{ Authorization: 'Basic dXNlcjpwYXNz' }, 'invalid api key'],
      [{ Authorization: 'Bearer two words' }, 'invalid api key'],
    ])('401 %j -> %s', async (headers, body) => {
      await expect(refusal(server.url, pcm, headers)).resolves.toEqual({ status: 401, body });
    });

    it('401 invalid api key when the key is not one of apiKeys, and accepts one that is', async () => {
      const strict = await createRimeServer({ ...silent, apiKeys: ['right-key'] });
      try {
        await expect(refusal(strict.url, pcm, { Authorization: 'Bearer wrong-key' })).resolves.toEqual({ status: 401, body: 'invalid api key' });
        const session = await open(strict.url, pcm, 'right-key');
        await expect(speak(session, ['Hi.'])).resolves.toEqual({ code: 1000, reason: '' });
      } finally {
        await strict.close();
      }
    });

    it('without apiKeys accepts any non-empty key, and says so once', async () => {
      const lines: string[] = [];
      const open_ = await createRimeServer({ log: (line) => lines.push(line) });
      await open_.close();
      expect(lines).toEqual(['rime-rx server: no apiKeys configured, accepting any non-empty API key']);
    });

    it.each([
      [{ audioFormat: 'pcm' }, 'speaker is required'],
      [{ speaker: 'cove', lang: 'hin' }, 'Language hin is not supported for model mistv3 (it speaks eng, spa, ger, fra)'],
      [{ speaker: 'cove', samplingRate: 48000 }, 'samplingRate must be an integer from 4000 to 44100 on mistv3, got 48000'],
      [{ speaker: 'nobody' }, 'speaker "nobody" is not a mistv3 voice for eng (set allowUnlistedSpeaker: true for a voice the bundled catalog does not list yet)'],
      [{ speaker: 'cove', apiKey: 'k' }, 'apiKey is not a Rime query parameter'],
    ])('400 %j -> %s', async (query, body) => {
      await expect(refusal(server.url, query)).resolves.toEqual({ status: 400, body });
    });

    it('without the optional mp3 encoder: 501 saying what to install, and a log line; pcm still served', async () => {
      const lines: string[] = [];
      const missing = jest.spyOn(mp3, 'mp3Available').mockReturnValue(false);
      const bare = await createRimeServer({ log: (line) => lines.push(line) });
      try {
        await expect(refusal(bare.url, { speaker: 'cove', audioFormat: 'mp3' })).resolves.toEqual({
          status: 501,
          body: 'mp3 needs the optional package @breezystack/lamejs: npm install @breezystack/lamejs (or ask for audioFormat pcm or mulaw)',
        });
        expect(lines).toContain('rime-rx server: refused an mp3 connection: mp3 needs the optional package @breezystack/lamejs: npm install @breezystack/lamejs');
        await expect(speak(await open(bare.url, pcm), ['Hi.'])).resolves.toEqual({ code: 1000, reason: '' });
      } finally {
        missing.mockRestore();
        await bare.close();
      }
    });

    it('404 for a path that serves no protocol, 426 for plain HTTP, naming the paths that do', async () => {
      await expect(refusal(server.url.replace('/ws', '/ws2'), pcm)).resolves.toEqual({ status: 404, body: 'Not Found' });
      await expect(refusal(server.url.replace('/ws', '/'), pcm)).resolves.toEqual({ status: 404, body: 'Not Found' });
      const response = await fetch(server.url.replace('ws:', 'http:'));
      expect(response.status).toBe(426);
      expect(await response.text()).toBe('Upgrade Required: connect with a websocket to /ws or /ws3');
      expect(server.urls).toEqual({ ws: server.url, ws3: server.url.replace(/\/ws$/, '/ws3') });
    });

    it('429 past maxConnections, and admits again once a connection ends', async () => {
      const small = await createRimeServer({ ...silent, maxConnections: 2 });
      try {
        const first = await open(small.url);
        await open(small.url);
        await expect(refusal(small.url, pcm)).resolves.toEqual({ status: 429, body: 'Currently at websocket limit' });
        first.socket.close();
        await first.closed;
        await delay(20);
        const third = await open(small.url);
        third.socket.close();
        await third.closed;
      } finally {
        await small.close();
      }
    });
  });

  it.each(['pcm', 'mulaw', 'mp3'] as const)('realTimeFactor 1 paces %s audio at its own duration, frames of exactly frameBytes', async (audioFormat) => {
    const paced = await createRimeServer({ ...silent, realTimeFactor: 1 });
    try {
      const session = await open(paced.url, { speaker: 'cove', audioFormat, samplingRate: 8000 });
      const started = Date.now();
      await speak(session, ['Paced.']);
      expect(Date.now() - started).toBeGreaterThanOrEqual(0.8 * 6 * 60); // six characters of about 60 ms each
      expect(session.chunks.slice(0, -1).every((chunk) => chunk.length === 4095)).toBe(true);
    } finally {
      await paced.close();
    }
  });

  describe('segment modes', () => {
    it('bySentence synthesizes each time the buffer holds text up to . , ? ! before whitespace', async () => {
      const session = await open(server.url, { ...pcm, segment: 'bySentence' });
      await speak(session, ['Hello, wor', 'ld. It costs 3', '.14 now? Yes', '! and']);
      expect(decodeTestSpeech(session.audio()).utterances).toEqual(['Hello,', ' world.', ' It costs 3.14 now?', ' Yes!', ' and']);
    });

    it("bySentence with sentenceBuffering 'whitespace' waits for the whitespace after the punctuation", async () => {
      const waiting = await createRimeServer({ log: () => {}, sentenceBuffering: 'whitespace' });
      try {
        const session = await open(waiting.url, { ...pcm, segment: 'bySentence' });
        session.send('Hello there.');
        await delay(50);
        expect(session.chunks).toHaveLength(0);
        await speak(session, [' How', ' are you?']);
        expect(decodeTestSpeech(session.audio()).utterances).toEqual(['Hello there.', ' How are you?']);
      } finally {
        await waiting.close();
      }
    });

    it('immediate synthesizes every frame as it arrives', async () => {
      const session = await open(server.url, { ...pcm, segment: 'immediate' });
      await speak(session, ['one', ' two', ' three.']);
      expect(decodeTestSpeech(session.audio()).utterances).toEqual(['one', ' two', ' three.']);
    });

    it('never waits for <FLUSH> or <EOS>', async () => {
      const session = await open(server.url, { ...pcm, segment: 'never' });
      session.send('Not yet. Still not, ');
      await delay(50);
      expect(session.chunks).toHaveLength(0);
      session.send('<FLUSH>');
      await speak(session, ['and the rest.']);
      expect(decodeTestSpeech(session.audio()).utterances).toEqual(['Not yet. Still not, ', 'and the rest.']);
    });
  });

  describe('commands', () => {
    it('<CLEAR> empties the buffer', async () => {
      const session = await open(server.url, { ...pcm, segment: 'never' });
      await speak(session, ['drop me', '<CLEAR>', 'keep me']);
      expect(decodeTestSpeech(session.audio()).utterances).toEqual(['keep me']);
    });

    it('<CLEAR> empties the text buffer only: what a flush (or the buffering) already asked for is synthesized', async () => {
      const slow = await createRimeServer({ ...silent, realTimeFactor: 0.1 });
      try {
        const session = await open(slow.url, pcm);
        await speak(session, ['First one.', ' Second.', ' held then', '<CLEAR>', 'After.']);
        expect(decodeTestSpeech(session.audio()).utterances).toEqual(['First one.', ' Second.', 'After.']);
      } finally {
        await slow.close();
      }
    });

    it('<EOS> synthesizes the rest, sends it, closes with 1000 and ignores later frames', async () => {
      const session = await open(server.url, pcm);
      session.send('no punctuation');
      session.send('<EOS>');
      session.send('too late.');
      await expect(session.closed).resolves.toEqual({ code: 1000, reason: '' });
      expect(decodeTestSpeech(session.audio()).utterances).toEqual(['no punctuation']);
    });

    it('<EOS> on an idle connection closes at once', async () => {
      const session = await open(server.url, pcm);
      await expect(speak(session, [])).resolves.toEqual({ code: 1000, reason: '' });
      expect(session.chunks).toHaveLength(0);
    });

    it('commands are whole frames (surrounding whitespace aside); inside text they are text', async () => {
      const session = await open(server.url, { ...pcm, segment: 'never' });
      await speak(session, ['say <EOS> and <FLUSH> aloud', ' <FLUSH>\n', 'end']);
      expect(decodeTestSpeech(session.audio()).utterances).toEqual(['say <EOS> and <FLUSH> aloud', 'end']);
    });
  });

  describe("Rime's rules by model, on the upgrade", () => {
    it.each([
      [{ speaker: 'astra', modelId: 'coda', samplingRate: 12000 }, 'samplingRate must be one of 8000, 16000, 22050, 24000, 44100, 48000, 96000 on coda, got 12000'],
      [{ speaker: 'astra', modelId: 'mistv3', samplingRate: 48000 }, 'samplingRate must be an integer from 4000 to 44100 on mistv3, got 48000'],
      [{ speaker: 'astra', modelId: 'coda', pauseBetweenBrackets: true }, 'pauseBetweenBrackets is not for coda: it has no custom pauses'],
      [{ speaker: 'astra', modelId: 'mistv2', timeScaleFactor: 1.2 }, 'timeScaleFactor is not for mistv2: it has no timeScaleFactor; use speedAlpha (on mistv2 and mist, above 1 is slower)'],
    ])('400 %j: %s', async (query, body) => {
      await expect(refusal(server.url, query)).resolves.toEqual({ status: 400, body });
    });

    it.each([48000, 96000])('coda speaks at %i Hz, every model of the catalog is accepted', async (samplingRate) => {
      const session = await open(server.url, { speaker: 'astra', modelId: 'coda', audioFormat: 'pcm', samplingRate });
      await speak(session, ['Hi.']);
      const audio = session.audio();
      expect(decodeTestSpeech(audio).text).toBe('Hi.');
      expect(audio.length / 2).toBe(8 + 3 * testVoiceBlockLength(samplingRate, 1));
      for (const modelId of ['mist', 'mistv2', 'arcana', 'mistv3', 'coda']) {
        const other = await open(server.url, { speaker: 'astra', modelId, audioFormat: 'pcm', ...(modelId === 'mist' ? { speaker: 'abbie' } : {}) });
        await speak(other, ['Ok.']);
        expect(decodeTestSpeech(other.audio()).text).toBe('Ok.');
      }
    });

    it("without a samplingRate, coda's audio is at its own 24000 Hz", async () => {
      const events: ServerEvent[] = [];
      const watching = server.events.subscribe((event) => events.push(event));
      const session = await open(server.url, { speaker: 'astra', modelId: 'coda', audioFormat: 'pcm' });
      await speak(session, ['Hi.']);
      watching.unsubscribe();
      expect(events.find((event) => event.type === 'open')).toMatchObject({ options: { samplingRate: 24000 } });
      expect(session.audio().length / 2).toBe(8 + 3 * testVoiceBlockLength(24000, 1));
    });
  });

  describe('audio', () => {
    it.each([8000, 16000, 22050, 44100])('pcm at %i Hz: 60 ms a character, 16-bit', async (samplingRate) => {
      const session = await open(server.url, { ...pcm, samplingRate });
      await speak(session, ['Twelve chars']);
      const samples = 8 + 12 * testVoiceBlockLength(samplingRate, 1);
      expect(session.audio().length).toBe(samples * 2);
      expect(samples / samplingRate).toBeCloseTo(0.72, 2);
    });

    it('mulaw: one byte a sample at the sampling rate, G.711 values', async () => {
      const session = await open(server.url, { ...pcm, audioFormat: 'mulaw', samplingRate: 8000 });
      await speak(session, ['Ten chars!']);
      const audio = session.audio();
      expect(audio.length).toBe(8 + 10 * testVoiceBlockLength(8000, 1));
      const peak = Math.max(...Array.from(audio, (byte) => Math.abs(sampleOfMulaw(byte))));
      expect(peak).toBeGreaterThan(5000);
    });

    it('speedAlpha 2 halves the duration', async () => {
      const session = await open(server.url, { ...pcm, speedAlpha: 2 });
      await speak(session, ['Twelve chars']);
      expect(session.audio().length).toBe((8 + 12 * testVoiceBlockLength(22050, 2)) * 2);
      expect(testVoiceBlockLength(22050, 2)).toBe(662);
    });

    it('pauseBetweenBrackets turns <200> into 200 ms of silence; without it the brackets are text', async () => {
      const paused = await open(server.url, { ...pcm, pauseBetweenBrackets: true });
      await speak(paused, ['a<200>b']);
      expect(decodeTestSpeech(paused.audio()).text).toBe('ab');
      expect(paused.audio().length).toBe((8 + 2 * 1323 + 4410) * 2);
      const literal = await open(server.url, pcm);
      await speak(literal, ['a<200>b']);
      expect(decodeTestSpeech(literal.audio()).text).toBe('a<200>b');
    });

    it('streams audio in frames as it is produced, cut at odd byte boundaries like Rime', async () => {
      const paced = await createRimeServer({ ...silent, realTimeFactor: 0.2 });
      try {
        const session = await open(paced.url, pcm);
        await speak(session, ['A sentence of about forty characters.']);
        expect(session.chunks.length).toBeGreaterThan(4);
        expect(session.chunks.some((chunk) => chunk.length % 2 === 1)).toBe(true);
        const spread = (session.arrivals.at(-1) ?? 0) - (session.arrivals[0] ?? 0);
        expect(spread).toBeGreaterThan(200); // 2.2 s of audio at real-time factor 0.2
        expect(decodeTestSpeech(session.audio()).text).toBe('A sentence of about forty characters.');
      } finally {
        await paced.close();
      }
    });

    it('waits firstAudioMs before the first audio of each utterance', async () => {
      const late = await createRimeServer({ ...silent, firstAudioMs: 150 });
      try {
        const session = await open(late.url, pcm);
        const sent = Date.now();
        session.send('Hi.');
        await firstValueFrom(late.events.pipe(filter((event) => event.type === 'audio')));
        expect(Date.now() - sent).toBeGreaterThanOrEqual(140);
        await speak(session, []);
      } finally {
        await late.close();
      }
    });
  });

  describe('limits and bad input', () => {
    it('closes 1011 "400: text is too long" when one synthesis would exceed 1000 characters', async () => {
      const never = await open(server.url, { ...pcm, segment: 'never' });
      never.send('x'.repeat(600));
      never.send('y'.repeat(401));
      await expect(never.closed).resolves.toEqual({ code: 1011, reason: '400: text is too long' });
      const immediate = await open(server.url, { ...pcm, segment: 'immediate' });
      immediate.send('z'.repeat(1001));
      await expect(immediate.closed).resolves.toEqual({ code: 1011, reason: '400: text is too long' });
    });

    it('closes an idle connection after idleTimeoutMs with 1000 "idle timeout"', async () => {
      const impatient = await createRimeServer({ ...silent, idleTimeoutMs: 100 });
      try {
        const session = await open(impatient.url, pcm);
        await expect(session.closed).resolves.toEqual({ code: 1000, reason: 'idle timeout' });
      } finally {
        await impatient.close();
      }
    });

    it('closes 1003 on a binary frame, 1007 on invalid UTF-8, 1009 on a frame over maxFrameBytes', async () => {
      const binary = await open(server.url, pcm);
      binary.socket.send(Buffer.from([1, 2, 3]));
      await expect(binary.closed).resolves.toEqual({ code: 1003, reason: 'binary frames are not supported: send text' });
      const invalid = await open(server.url, pcm);
      invalid.socket.send(Buffer.from([0xc3, 0x28]), { binary: false });
      await expect(invalid.closed).resolves.toMatchObject({ code: 1007 });
      const huge = await open(server.url, pcm);
      huge.send('x'.repeat(70 * 1024));
      await expect(huge.closed).resolves.toMatchObject({ code: 1009 });
    });

    it('one bad connection never disturbs another', async () => {
      const good = await open(server.url, pcm);
      const bad = await open(server.url, pcm);
      good.send('Still speaking, ');
      bad.socket.send(Buffer.from([0]));
      const closed = await speak(good, ['all of it.']);
      expect(closed.code).toBe(1000);
      expect(decodeTestSpeech(good.audio()).text).toBe('Still speaking, all of it.');
    });
  });

  describe('close()', () => {
    it('ends every connection with 1001 and frees the port', async () => {
      const temporary = await createRimeServer(silent);
      const session = await open(temporary.url, pcm);
      await temporary.close();
      await expect(session.closed).resolves.toEqual({ code: 1001, reason: 'server shutting down' });
      const probe = createServer();
      await new Promise<void>((resolve, reject) => probe.once('error', reject).listen(temporary.port, '127.0.0.1', resolve));
      await new Promise((resolve) => probe.close(resolve));
    });

    it('a port already in use: rejects, and releases the voice (no worker keeps the process alive)', async () => {
      const holder = createServer();
      await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
      const { port } = holder.address() as { port: number };
      try {
        await expect(createRimeServer({ ...silent, port, voice: 'espeak' })).rejects.toMatchObject({ code: 'EADDRINUSE' });
      } finally {
        await new Promise((resolve) => holder.close(resolve));
      }
    });

    it('rejects invalid options, naming each one', async () => {
      await expect(createRimeServer({ port: 70000, voice: 'robot' as 'test' })).rejects.toThrow(
        /port must be an integer from 0 to 65535[\s\S]*voice must be one of test, espeak/,
      );
    });
  });

  describe('events', () => {
    const recorded = (events: Observable<ServerEvent>, until: Promise<unknown>) =>
      firstValueFrom(events.pipe(takeUntil(until), toArray()));

    it('reports opens, frames, commands, syntheses, audio and closes, never a key', async () => {
      const session = await open(server.url, pcm, 'sk-sentinel-key');
      const events = recorded(server.events.pipe(filter((event) => event.type !== 'audio')), session.closed.then(() => delay(10)));
      await speak(session, ['Hi.']);
      const list = await events;
      expect(list.map((event) => event.type)).toEqual(['text', 'synthesis', 'command', 'close']);
      expect(JSON.stringify(list)).not.toContain('sk-sentinel');
    });
  });

  it('serves 500 simultaneous connections, each its own audio', async () => {
    const sessions = await Promise.all(Array.from({ length: 500 }, () => open(server.url, pcm)));
    const closes = await Promise.all(sessions.map((session, index) => speak(session, [`Number ${index}.`])));
    expect(closes.every((closed) => closed.code === 1000)).toBe(true);
    sessions.forEach((session, index) => expect(decodeTestSpeech(session.audio()).text).toBe(`Number ${index}.`));
  }, 30_000);
});
