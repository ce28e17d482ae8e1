import { Writable } from 'node:stream';
import { Subject, delay, filter, firstValueFrom, from, lastValueFrom, tap, toArray } from 'rxjs';
import { AudioChunk } from '../../lib/audio/chunk';
import { writeAudio } from '../../lib/audio/sinks';
import { RimeError } from '../../lib/errors';
import { type RimeServer, createRimeServer } from '../../lib/server/createRimeServer';
import type { Fault } from '../../lib/server/faults';
import { llmTokens } from '../../lib/testing/llmTokens';
import { decodeTestSpeech } from '../../lib/server/voices/testVoiceCodec';
import type { RimeEvent } from '../../lib/tts/events';
import { type RimeTtsConfig, rimeTts } from '../../lib/tts/rimeTts';
import { framesOf } from '../../lib/audio/mp3Frames';

const story = 'The first sentence is here. A second one follows, with a clause! Does the third ask? The fourth ends it.';
const segments = ['The first sentence is here.', ' A second one follows,', ' with a clause!', ' Does the third ask?', ' The fourth ends it.'];

async function speakText(server: RimeServer, text: string, extra: Partial<RimeTtsConfig> = {}) {
  const events: RimeEvent[] = [];
  const chunks = await lastValueFrom(
    from(llmTokens(text, { seed: 4 })).pipe(
      rimeTts({
        speaker: 'cove',
        audioFormat: 'pcm',
        apiKey: 'test',
        url: server.urls[extra.protocol ?? 'ws'],
        retry: { count: 3, delay: 20 },
        events: { next: (e) => events.push(e) },
        ...extra,
      }),
      toArray(),
    ),
  );
  return { audio: Buffer.concat(chunks), chunks, events };
}

describe.each(['ws', 'ws3'] as const)('rimeTts() against the local server (protocol %s)', (protocol) => {
  const speak = (on: RimeServer, text: string, extra: Partial<RimeTtsConfig> = {}) => speakText(on, text, { protocol, ...extra });
  let server: RimeServer;
  beforeAll(async () => {
    server = await createRimeServer({ log: () => {} });
  });
  afterAll(() => server.close());

  it.each(['bySentence', 'immediate', 'never'] as const)('speaks every segment, in order, once (segment=%s)', async (segment) => {
    const { audio, chunks } = await speak(server, story, { segment });
    const decoded = decodeTestSpeech(audio);
    expect(decoded.text).toBe(story);
    expect(decoded.corruptBlocks).toBe(0);
    expect(chunks.every((chunk) => chunk.length % 2 === 0)).toBe(true);
  });

  it('sends whole segments: the server synthesizes exactly the segments sentences() makes', async () => {
    const { audio } = await speak(server, story, { segment: 'immediate' });
    expect(decodeTestSpeech(audio).utterances).toEqual(segments);
  });

  it('long run-on text and sentences closed by quotes are all spoken, never "text is too long"', async () => {
    const runOn = `${'and then it went on '.repeat(80)}until it stopped.`;
    const quotes = Array.from({ length: 30 }, (_, index) => `He said "Line ${index} is quoted." `).join('');
    for (const text of [runOn, quotes]) {
      const { audio } = await speak(server, text);
      expect(decodeTestSpeech(audio).text).toBe(text.trimEnd());
    }
  });

  it('mulaw: one byte a sample; mp3: valid frames', async () => {
    const mulaw = await speak(server, 'Short.', { audioFormat: 'mulaw', samplingRate: 8000 });
    expect(mulaw.audio.length).toBe(8 + 6 * 480);
    const mp3 = await speak(server, 'Short.', { audioFormat: 'mp3', samplingRate: 24000 });
    expect(new Set(framesOf(mp3.audio).map((frame) => frame.samplingRate))).toEqual(new Set([24000]));
    // Every chunk says what it is, so a sink can refuse to write mp3 under a WAV header.
    expect(mp3.chunks.every((chunk) => chunk instanceof AudioChunk && chunk.format === 'mp3' && chunk.samplingRate === 24000)).toBe(true);
    expect(mulaw.chunks.every((chunk) => chunk instanceof AudioChunk && chunk.format === 'mulaw' && chunk.samplingRate === 8000)).toBe(true);
  });

  it('flush makes the server speak what is held, before the source ends', async () => {
    const text$ = new Subject<string>();
    const flush$ = new Subject<void>();
    const audio: Uint8Array[] = [];
    const done = lastValueFrom(text$.pipe(rimeTts({ speaker: 'cove', audioFormat: 'pcm', apiKey: 'test', url: server.urls[protocol], protocol, flush: flush$, segment: 'never' })), {
      defaultValue: undefined,
    });
    const firstAudio = firstValueFrom(server.events.pipe(filter((event) => event.type === 'audio')));
    text$.next('No punctuation here');
    flush$.next();
    await firstAudio;
    text$.complete();
    await done;
    expect(audio).toEqual([]);
  });

  it('interruption: no audio of text sent before the clear is emitted after it, and speech goes on', async () => {
    const paced = await createRimeServer({ log: () => {}, realTimeFactor: 0.05 });
    try {
      const text$ = new Subject<string>();
      const clear$ = new Subject<void>();
      const before: Buffer[] = [];
      const after: Buffer[] = [];
      let interrupted = false;
      const opens: number[] = [];
      const commands: string[] = [];
      const watching = paced.events.subscribe((event) => {
        if (event.type === 'open') opens.push(event.connection);
        if (event.type === 'command') commands.push(event.command);
      });
      const done = new Promise<void>((resolve, reject) =>
        text$
          .pipe(rimeTts({ speaker: 'cove', audioFormat: 'pcm', apiKey: 'test', url: paced.urls[protocol], protocol, clear: clear$ }))
          .subscribe({ next: (chunk) => (interrupted ? after : before).push(Buffer.from(chunk)), complete: resolve, error: reject }),
      );
      text$.next('This old sentence is long enough to be interrupted halfway through its audio, ');
      text$.next('and this second old clause too, ');
      await firstValueFrom(paced.events.pipe(filter((event) => event.type === 'audio')));
      await new Promise((resolve) => setTimeout(resolve, 100));
      interrupted = true;
      clear$.next();
      text$.next('A new answer.');
      text$.complete();
      await done;
      const old = decodeTestSpeech(Buffer.concat(before));
      expect('This old sentence is long enough to be interrupted halfway through its audio,'.startsWith(old.text)).toBe(true);
      expect(old.text.length).toBeGreaterThan(0);
      const fresh = decodeTestSpeech(Buffer.concat(after));
      expect(fresh.utterances).toEqual(['A new answer.']);
      expect(fresh.corruptBlocks).toBe(0);
      watching.unsubscribe();
      expect(commands).toContain('clear');
      // /ws3 stays on its one connection; /ws goes on on the spare (opened ahead) or a new one.
      if (protocol === 'ws3') expect(opens).toHaveLength(1);
      else expect(opens.length).toBeGreaterThan(1);
    } finally {
      await paced.close();
    }
  });

  // /ws only: on /ws3 an interruption stays on its connection (the interruption test above checks it).
  if (protocol === 'ws') {
    it('the spare connection makes the next sentence after an interruption pay no handshake', async () => {
      const opened = new Map<number, number>();
      const spokenBy = new Map<string, number>();
      const watching = server.events.subscribe((event) => {
        if (event.type === 'open') opened.set(event.connection, Date.now());
        if (event.type === 'synthesis') spokenBy.set(event.text, event.connection);
      });
      const clear$ = new Subject<void>();
      const text$ = new Subject<string>();
      const done = lastValueFrom(text$.pipe(rimeTts({ speaker: 'cove', audioFormat: 'pcm', apiKey: 'test', url: server.urls[protocol], protocol, clear: clear$ })), {
        defaultValue: undefined,
      });
      text$.next('One, ');
      await new Promise((resolve) => setTimeout(resolve, 50));
      const interruptedAt = Date.now();
      clear$.next();
      text$.next('Two.');
      text$.complete();
      await done;
      watching.unsubscribe();
      const speaker = spokenBy.get('Two.');
      expect(speaker).not.toBe(spokenBy.get('One,'));
      expect(opened.get(speaker ?? -1)).toBeLessThan(interruptedAt);
    });
  }

  describe('faults: nothing lost, duplicates bounded', () => {
    const cases: [string, Fault][] = [
      ['a dropped socket after some audio', { kind: 'drop', afterBytes: 30_001 }],
      ['a dropped socket before any audio', { kind: 'drop', afterBytes: 0 }],
      ['503 on the upgrade', { kind: 'refuse', status: 503, body: 'Service Unavailable' }],
      ['429 on the upgrade', { kind: 'refuse', status: 429, body: 'Currently at websocket limit' }],
      ['close 1011', { kind: 'close', code: 1011, reason: 'internal error', afterBytes: 10_000 }],
      ['close 1013', { kind: 'close', code: 1013, reason: 'try again later' }],
    ];

    it.each(cases)('%s: every sentence, in order; duplicates only of what was heard', async (_, fault) => {
      server.inject(fault);
      const { audio, events } = await speak(server, story, {
        prewarm: false,
        retry: { count: 2, delay: fault.kind === 'refuse' && fault.status === 429 ? 50 : 10 },
      });
      const spoken = decodeTestSpeech(audio).text;
      const retries = events.filter((event) => event.type === 'retry');
      expect(retries).toHaveLength(1);
      expect(spoken.endsWith(story)).toBe(true);
      const duplicated = spoken.slice(0, spoken.length - story.length);
      expect(story.startsWith(duplicated)).toBe(true);
      if (fault.kind === 'refuse' || ('afterBytes' in fault && fault.afterBytes === 0)) expect(duplicated).toBe('');
    });

    it('401 surfaces at once, never retried', async () => {
      const strict = await createRimeServer({ log: () => {}, apiKeys: ['right'] });
      try {
        const started = Date.now();
        const error = await speak(strict, story, { apiKey: 'wrong' }).catch((caught: unknown) => caught);
        expect(error).toMatchObject({ kind: 'unauthorized', status: 401, reason: 'invalid api key', retryable: false });
        expect(Date.now() - started).toBeLessThan(500);
      } finally {
        await strict.close();
      }
    });

    it('a stall after <EOS> ends in a timeout, then the retry completes the speech', async () => {
      server.inject({ kind: 'stall', afterBytes: 1000 });
      const { audio, events } = await speak(server, 'A short one.', { eosTimeoutMs: 200, prewarm: false });
      expect(events.find((event) => event.type === 'retry')).toMatchObject({ error: { kind: 'timeout' } });
      expect(decodeTestSpeech(audio).text.endsWith('A short one.')).toBe(true);
    });

    it.each([
      ['a drop after the same 30,000 bytes on every connection', { kind: 'drop', afterBytes: 30_000 } as const, 'connection'],
      ['a server that never closes after <EOS>', { kind: 'stall', afterBytes: 2_000 } as const, 'timeout'],
    ])('with the default retry policy, %s ends the stream after 3 retries, attempts 1, 2, 3', async (_, fault, kind) => {
      server.inject(fault, 4);
      const events: RimeEvent[] = [];
      const text = 'This answer is long enough to need more than thirty thousand bytes of audio, so it is cut off.';
      const error = await lastValueFrom(
        from([text]).pipe(
          rimeTts({ speaker: 'cove', audioFormat: 'pcm', apiKey: 'test', url: server.urls[protocol], protocol, eosTimeoutMs: 200, retry: { delay: 5 }, events: { next: (e) => events.push(e) } }),
        ),
      ).catch((caught: unknown) => caught);
      expect(error).toMatchObject({ kind });
      expect(events.flatMap((event) => (event.type === 'retry' ? [event.attempt] : []))).toEqual([1, 2, 3]);
    });

    it('a server that takes the text and stalls, while the source is still open: a timeout, retried, then the error', async () => {
      server.inject({ kind: 'stall' }, 4);
      const text$ = new Subject<string>();
      const events: RimeEvent[] = [];
      const speech = lastValueFrom(
        text$.pipe(rimeTts({ speaker: 'cove', audioFormat: 'pcm', apiKey: 'test', url: server.urls[protocol], protocol, audioTimeoutMs: 200, retry: { delay: 5 }, events: { next: (e) => events.push(e) } })),
      ).catch((caught: unknown) => caught);
      text$.next('Hello there, ');
      await expect(speech).resolves.toMatchObject({ kind: 'timeout', message: 'no audio from Rime within 200 ms of the text sent' });
      expect(events.filter((event) => event.type === 'retry')).toHaveLength(3);
    });

    it('gives up after the retry count with the last error', async () => {
      server.inject({ kind: 'refuse', status: 502, body: 'Bad Gateway' }, 3);
      const error = await speak(server, story, { prewarm: false, retry: { count: 2, delay: 5 } }).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(RimeError);
      expect(error).toMatchObject({ kind: 'server', status: 502, reason: 'Bad Gateway' });
    });
  });

  it('unsubscribing mid-stream closes the server side with 1000 at once', async () => {
    const paced = await createRimeServer({ log: () => {}, realTimeFactor: 0.05 });
    try {
      const closed = firstValueFrom(paced.events.pipe(filter((event) => event.type === 'close')));
      const subscription = from(['A sentence that takes a while to speak.'])
        .pipe(delay(0), rimeTts({ speaker: 'cove', audioFormat: 'pcm', apiKey: 'test', url: paced.urls[protocol], protocol, prewarm: false }))
        .subscribe(() => subscription.unsubscribe());
      await expect(closed).resolves.toMatchObject({ code: 1000, by: 'client' });
    } finally {
      await paced.close();
    }
  });
});

describe("rimeTts() on Rime's JSON protocol (/ws3) against the local server", () => {
  let server: RimeServer;
  beforeAll(async () => {
    server = await createRimeServer({ log: () => {} });
  });
  afterAll(() => server.close());
  const ws3 = (extra: Partial<RimeTtsConfig> = {}): RimeTtsConfig => ({ speaker: 'cove', audioFormat: 'pcm', apiKey: 'test', url: server.urls.ws3, protocol: 'ws3', ...extra });

  it('exact resume: a drop mid-speech replays only the segments whose done had not come, never a finished one', async () => {
    const sentences = Array.from({ length: 12 }, (_, index) => `Sentence ${index + 1} is here.`);
    const text = sentences.join(' ');
    server.inject({ kind: 'drop', afterBytes: 60_000 });
    const synthesized: string[] = [];
    const watching = server.events.subscribe((event) => {
      if (event.type === 'synthesis') synthesized.push(event.text.trim());
    });
    const events: RimeEvent[] = [];
    const chunks = await lastValueFrom(
      from(llmTokens(text, { seed: 3 })).pipe(rimeTts(ws3({ retry: { count: 2, delay: 10 }, events: { next: (e) => events.push(e) } })), toArray()),
    );
    watching.unsubscribe();
    const spoken = decodeTestSpeech(Buffer.concat(chunks)).text;
    expect(events.filter((event) => event.type === 'retry')).toHaveLength(1);
    expect(spoken.endsWith(text.slice(text.length - 20))).toBe(true);
    // Every sentence was synthesized once, but the one cut off, twice.
    const counts = sentences.map((sentence) => synthesized.filter((each) => each === sentence).length);
    expect(counts.filter((count) => count === 2)).toHaveLength(1);
    expect(counts.every((count) => count === 1 || count === 2)).toBe(true);
    const retry = events.find((event) => event.type === 'retry');
    expect(retry?.type === 'retry' && retry.replayedSegments).toBeLessThan(sentences.length);
  });

  it("a clean close before every done came is a failure, retried, not the end (what /ws cannot tell)", async () => {
    server.inject({ kind: 'close', code: 1000, reason: '', afterBytes: 5_000 });
    const events: RimeEvent[] = [];
    const text = 'One sentence to start. Another one after it. And a third to end.';
    const chunks = await lastValueFrom(from([text]).pipe(rimeTts(ws3({ retry: { count: 2, delay: 10 }, events: { next: (e) => events.push(e) } })), toArray()));
    expect(events.filter((event) => event.type === 'retry')).toHaveLength(1);
    expect(decodeTestSpeech(Buffer.concat(chunks)).text.endsWith('And a third to end.')).toBe(true);
  });
});

describe('rimeTts() into a slow sink', () => {
  let server: RimeServer;
  beforeAll(async () => {
    server = await createRimeServer({ log: () => {} });
  });
  afterAll(() => server.close());

  /** Speaks a long text into a destination that takes a chunk every 2 ms; the most audio that waited for it. */
  async function backlog(wired: boolean): Promise<{ readonly most: number; readonly total: number; readonly text: string }> {
    const text = Array.from({ length: 12 }, (_, index) => `Sentence ${index} of the long text goes on for a while.`).join(' ');
    let emitted = 0;
    let taken = 0;
    let most = 0;
    const heard: Buffer[] = [];
    const slow = new Writable({
      write(chunk: Buffer, _encoding, done) {
        taken += chunk.length;
        heard.push(chunk);
        setTimeout(done, 2);
      },
    });
    const backpressure = new Subject<boolean>();
    const audio = from([text]).pipe(
      rimeTts({ speaker: 'cove', audioFormat: 'pcm', apiKey: 'test', url: server.url, ...(wired ? { backpressure } : {}) }),
      tap((chunk) => {
        emitted += chunk.length;
        most = Math.max(most, emitted - taken);
      }),
    );
    await writeAudio(audio, slow, wired ? { backpressure } : {});
    return { most, total: emitted, text: decodeTestSpeech(Buffer.concat(heard)).text };
  }

  it('with backpressure the audio waiting in memory stays bounded, and every word arrives', async () => {
    const unbounded = await backlog(false);
    const bounded = await backlog(true);
    process.stdout.write(`slow sink: ${bounded.total} bytes; most waiting ${bounded.most} with backpressure, ${unbounded.most} without\n`);
    expect(bounded.text).toBe(unbounded.text);
    expect(bounded.total).toBe(unbounded.total);
    expect(bounded.most).toBeLessThan(256 * 1024);
    expect(unbounded.most).toBeGreaterThan(bounded.total / 2);
  }, 60_000);
});

describe.each(['punctuation', 'whitespace'] as const)('rimeTts() by default, against a server whose bySentence buffering fires at %s', (sentenceBuffering) => {
  let server: RimeServer;
  beforeAll(async () => {
    server = await createRimeServer({ log: () => {}, sentenceBuffering });
  });
  afterAll(() => server.close());

  it('the server synthesizes exactly the segments the client cut, one synthesis each, Dr. Jones whole', async () => {
    const synthesized: string[] = [];
    const watching = server.events.subscribe((event) => event.type === 'synthesis' && synthesized.push(event.text));
    const { audio } = await speakText(server, 'Please call Dr. Jones. He is in room 3.14, upstairs.');
    watching.unsubscribe();
    const segments = ['Please call Dr. Jones.', ' He is in room 3.14,', ' upstairs.'];
    expect(synthesized).toEqual(segments);
    expect(decodeTestSpeech(audio).utterances).toEqual(segments);
  });

  it('a sentence followed by a pause is synthesized during the pause, not after it', async () => {
    const text$ = new Subject<string>();
    const order: string[] = [];
    const watching = server.events.subscribe((event) => {
      if (event.type === 'synthesis') order.push(`synthesis ${event.text}`);
      if (event.type === 'text') order.push(`text ${event.text}`);
    });
    const done = lastValueFrom(text$.pipe(rimeTts({ speaker: 'cove', audioFormat: 'pcm', apiKey: 'test', url: server.url }), toArray()));
    text$.next('Let me check that for you.');
    await new Promise((resolve) => setTimeout(resolve, 600)); // a tool call
    text$.next(' Found it.');
    text$.complete();
    const audio = Buffer.concat(await done);
    watching.unsubscribe();
    expect(decodeTestSpeech(audio).utterances).toEqual(['Let me check that for you.', ' Found it.']);
    expect(order).toEqual(['text Let me check that for you.', 'synthesis Let me check that for you.', 'text  Found it.', 'synthesis  Found it.']);
  });
});
