import { EMPTY, NEVER, Subject, asyncScheduler, from, map, of, throwError } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { RimeError } from '../../lib/errors';
import type { ClientMessage } from '../../lib/protocol/messages';
import { type FakeConnection, FakeTransport } from '../../lib/testing/fakeTransport';
import { upgradeRefused } from '../../lib/transport/failures';
import type { RimeEvent } from '../../lib/tts/events';
import { type RimeTtsConfig, rimeTts } from '../../lib/tts/rimeTts';

const scheduler = () => new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

type Step = (connection: FakeConnection) => void;
const steps: Record<string, Step> = {
  o: (c) => c.open(),
  a: (c) => c.audio('aa'),
  b: (c) => c.audio('bb'),
  x: (c) => c.close(1000),
  d: (c) => c.close(1006),
  e: (c) => c.close(1011, 'internal error'),
  t: (c) => c.close(1011, '400: text is too long'),
  r: (c) => c.fail(upgradeRefused(503, 'unavailable')),
  u: (c) => c.fail(upgradeRefused(401, 'invalid api key')),
  l: (c) => c.fail(upgradeRefused(429, 'Currently at websocket limit')),
};

/** A fake transport whose n-th connection plays `scripts[n]` (a marble string of steps); later ones just open. */
function scripted(cold: TestScheduler['createColdObservable'], scripts: string[]): FakeTransport {
  return new FakeTransport((connection) => {
    const script = scripts[connection.index] ?? 'o';
    cold(script, steps).subscribe((step) => step(connection));
  });
}

const base = (transport: FakeTransport, extra: Partial<RimeTtsConfig> = {}): RimeTtsConfig => ({
  speaker: 'cove',
  apiKey: 'test-key',
  audioFormat: 'mp3',
  transport: transport.transport,
  prewarm: false,
  retry: { count: 2, delay: 10 },
  ...extra,
});

/** `base` with `prewarm` at its default. */
const defaults = (transport: FakeTransport, extra: Partial<RimeTtsConfig> = {}): RimeTtsConfig => {
  const { prewarm: _prewarm, ...config } = base(transport, extra);
  return { ...config, ...extra };
};

describe('rimeTts() with a fake transport', () => {
  it('queues text that arrives before open and sends it, in whole segments, on open', () => {
    scheduler().run(({ cold, expectObservable, flush }) => {
      const fake = scripted(cold, ['---o--a--x']);
      const source = cold('a-b-|', { a: 'Hello there. How', b: ' are you?' });
      expectObservable(source.pipe(rimeTts(base(fake)), map(text))).toBe('------a--|', { a: 'aa' });
      flush();
      expect(fake.connections[0]?.sent).toEqual([
        { time: 3, frame: 'Hello there.' },
        { time: 3, frame: '<FLUSH>' },
        { time: 4, frame: ' How are you?' },
        { time: 4, frame: '<FLUSH>' },
        { time: 4, frame: '<EOS>' },
      ]);
    });
  });

  it('never sends an empty or whitespace-only frame, nor a command hidden in the text', () => {
    scheduler().run(({ cold, flush }) => {
      const fake = scripted(cold, ['o-------ax']);
      cold('a-b-c-d|', { a: '', b: '   ', c: 'Say <EO', d: 'S> now.' }).pipe(rimeTts(base(fake))).subscribe();
      flush();
      expect(fake.connections[0]?.frames).toEqual(['   Say  now.', '<FLUSH>', '<EOS>']);
    });
  });

  it("flush sends what is held and ends the turn's connection; the next turn goes at once on one opened ahead", () => {
    scheduler().run(({ cold, hot, flush }) => {
      const fake = scripted(cold, ['o----a-x', 'o-------a-x']);
      const flushes = hot('---f-----f');
      cold('-a---b-----', { a: 'Half a sent', b: 'ence. And' }).pipe(rimeTts(defaults(fake, { flush: flushes }))).subscribe();
      flush();
      expect(fake.connections[0]?.sent).toEqual([
        { time: 3, frame: 'Half a sent' },
        { time: 3, frame: '<FLUSH>' },
        { time: 3, frame: '<EOS>' },
      ]);
      // Opened at the flush (3) and given the next turn at 5, it sends it at once: Rime synthesizes it while the
      // first connection finishes (its audio is emitted after the first connection's).
      expect(fake.connections[1]?.request).toBeDefined();
      expect(fake.connections[1]?.sent).toEqual([
        { time: 5, frame: 'ence.' },
        { time: 5, frame: '<FLUSH>' },
        { time: 9, frame: ' And' },
        { time: 9, frame: '<FLUSH>' },
        { time: 9, frame: '<EOS>' },
      ]);
      expect(fake.connections).toHaveLength(3); // the third is opened ahead at the second flush
    });
  });

  it('clear: <CLEAR> and close the old connection at once, no old audio after it, go on with the spare', () => {
    scheduler().run(({ cold, hot, expectObservable, flush }) => {
      const fake = scripted(cold, ['o-a-a-a-a-a', 'o---------b-b-x']);
      const clear = hot('-----c---');
      const source = cold('a-----b--|', { a: 'Old sentence, ', b: 'New one.' });
      const audio = source.pipe(rimeTts(base(fake, { clear, prewarm: true })), map(text));
      expectObservable(audio).toBe('--a-a-------b-b-|', { a: 'aa', b: 'bb' }); // the spare opened at the first audio (2)
      flush();
      const [old, spare] = fake.connections;
      expect(old?.frames).toEqual(['Old sentence,', '<FLUSH>', '<CLEAR>']);
      expect(old?.closedByClientAt).toBe(5);
      expect(spare?.sent).toEqual([
        { time: 9, frame: 'New one.' },
        { time: 9, frame: '<FLUSH>' },
        { time: 9, frame: '<EOS>' },
      ]);
    });
  });

  it('clear drops text not yet sent and does nothing to a connection that has no text', () => {
    scheduler().run(({ cold, hot, flush }) => {
      const fake = scripted(cold, ['o-------ax']);
      const clear = hot('--c-----');
      cold('-a---b-|', { a: 'not sent yet', b: 'Kept.' }).pipe(rimeTts(base(fake, { clear }))).subscribe();
      flush();
      expect(fake.connections).toHaveLength(1);
      expect(fake.connections[0]?.frames).toEqual(['Kept.', '<FLUSH>', '<EOS>']);
    });
  });

  it('completes on the clean close after <EOS>; without a close, a timeout error', () => {
    scheduler().run(({ cold, expectObservable }) => {
      const closes = scripted(cold, ['o-a---x']);
      expectObservable(cold('a|', { a: 'Hi.' }).pipe(rimeTts(base(closes)), map(text))).toBe('--a---|', { a: 'aa' });
      const stalls = scripted(cold, ['o-a']);
      expectObservable(cold('a|', { a: 'Hi.' }).pipe(rimeTts(base(stalls, { eosTimeoutMs: 50, retry: 0 })), map(text))).toBe(
        '--a 49ms #',
        { a: 'aa' },
        new RimeError('timeout', 'Rime did not close the connection within 50 ms after <EOS>'),
      );
    });
  });

  it.each([
    ['before open', '^!', 1, ''],
    ['mid-audio', '^---!', 4, '---a'],
    ['after <EOS>', '^-----!', 6, '---a-a'],
  ])('unsubscribe %s: closes the connection at once and emits nothing more', (_, subscription, at, expected) => {
    scheduler().run(({ cold, expectObservable, flush }) => {
      const fake = scripted(cold, ['-o-a-a-a-a-x']);
      const audio = cold('a-b|', { a: 'One. ', b: 'Two.' }).pipe(rimeTts(base(fake)), map(text));
      expectObservable(audio, subscription).toBe(expected, { a: 'aa' });
      flush();
      expect(fake.connections[0]?.closedByClientAt).toBe(at);
    });
  });

  it('a source error closes the connection and passes on unchanged', () => {
    scheduler().run(({ cold, expectObservable, flush }) => {
      const fake = scripted(cold, ['o-a--a']);
      const failure = new Error('llm broke');
      const audio = cold('a--#', { a: 'One.' }, failure).pipe(rimeTts(base(fake)), map(text));
      expectObservable(audio).toBe('--a#', { a: 'aa' }, failure);
      flush();
      expect(fake.connections[0]?.closedByClientAt).toBe(3);
    });
  });

  it('retries after the backoff on a fresh connection, replaying its frames in order, then goes on', () => {
    scheduler().run(({ cold, expectObservable, flush }) => {
      const fake = scripted(cold, ['o--d', 'o-a-x']);
      const source = cold('ab-----c|', { a: 'One. ', b: 'Two. ', c: 'Three.' });
      expectObservable(source.pipe(rimeTts(base(fake, { retry: { count: 1, delay: 100 } })), map(text))).toBe('105ms a-|', {
        a: 'aa',
      });
      flush();
      expect(fake.connections[1]?.sent).toEqual([
        { time: 103, frame: 'One.' },
        { time: 103, frame: '<FLUSH>' },
        { time: 103, frame: ' Two.' },
        { time: 103, frame: '<FLUSH>' },
        { time: 103, frame: ' Three.' },
        { time: 103, frame: '<FLUSH>' },
        { time: 103, frame: '<EOS>' },
      ]);
    });
  });

  it('counts retries and gives up with the last error', () => {
    scheduler().run(({ cold, expectObservable }) => {
      const events: RimeEvent[] = [];
      const fake = scripted(cold, ['r', 'r', 'r']);
      const audio = cold('a', { a: 'Hi.' }).pipe(rimeTts(base(fake, { retry: { count: 2, delay: 10 }, events: { next: (e) => events.push(e) } })));
      expectObservable(audio).toBe('--------------------#', undefined, upgradeRefused(503, 'unavailable'));
    });
  });

  it('a delay function sets the backoff, and one that completes without emitting stops retrying', () => {
    scheduler().run(({ cold, expectObservable }) => {
      const fake = scripted(cold, ['r', 'r']);
      const delays: number[] = [];
      const delay = (_error: RimeError, retryCount: number) => {
        delays.push(retryCount);
        return retryCount === 1 ? cold('-----x') : EMPTY;
      };
      const audio = cold('a', { a: 'Hi.' }).pipe(rimeTts(base(fake, { retry: { count: 5, delay } })));
      expectObservable(audio).toBe('-----#', undefined, upgradeRefused(503, 'unavailable'));
    });
  });

  it.each([
    ['401', 'u', 'unauthorized'],
    ['a close 1011 with a 4xx reason', 'ot', 'invalid-options'],
  ])('never retries %s', (_, script, kind) => {
    scheduler().run(({ cold, expectObservable, flush }) => {
      const fake = scripted(cold, [script]);
      const audio = cold('a', { a: 'Hi.' }).pipe(rimeTts(base(fake)));
      expectObservable(audio.pipe(map(() => 'audio'))).toBe(`${'-'.repeat(script.length - 1)}#`, undefined, expect.objectContaining({ kind }));
      flush();
      expect(fake.connections).toHaveLength(1);
    });
  });

  it('retries a 429 and a 1011 without a 4xx reason', () => {
    scheduler().run(({ cold, expectObservable }) => {
      const fake = scripted(cold, ['l', 'oe', 'o-a-x']);
      const audio = cold('a|', { a: 'Hi.' }).pipe(rimeTts(base(fake)), map(text));
      expectObservable(audio).toBe('-----------------------a-|', { a: 'aa' });
    });
  });

  it('reports open, first-audio, retry and close events', () => {
    scheduler().run(({ cold, flush }) => {
      const events: RimeEvent[] = [];
      const fake = scripted(cold, ['o-d', '--o---a-x']);
      cold('a|', { a: 'Hi.' }).pipe(rimeTts(base(fake, { events: { next: (event) => events.push(event) } }))).subscribe();
      flush();
      expect(events).toEqual([
        { type: 'open', attempt: 0, handshakeMs: 0 },
        { type: 'close', code: 1006, reason: '' },
        { type: 'retry', attempt: 1, error: expect.objectContaining({ kind: 'connection', closeCode: 1006 }), replayedSegments: 1, replayedCharacters: 3 },
        { type: 'open', attempt: 1, handshakeMs: 2 }, // its upgrade took two frames ('--o')
        { type: 'first-audio', turn: 0, milliseconds: 17 }, // from the turn's first text, across the retry
        { type: 'close', code: 1000, reason: '' },
      ]);
    });
  });

  it('a clean close of an idle connection is not a failure: the next text reconnects', () => {
    scheduler().run(({ cold, expectObservable, flush }) => {
      const fake = scripted(cold, ['o-a-x', 'o---b-x']);
      const source = cold('a------b|', { a: 'One, ', b: ' Two.' });
      expectObservable(source.pipe(rimeTts(base(fake)), map(text))).toBe('--a---------b-|', { a: 'aa', b: 'bb' });
      flush();
      expect(fake.connections[1]?.frames).toEqual(['  Two.', '<FLUSH>', '<EOS>']);
    });
  });

  it('emits pcm in whole 16-bit samples, carrying an odd byte', () => {
    scheduler().run(({ cold, expectObservable }) => {
      const odd = {
        ...steps,
        p: (c: FakeConnection) => c.audio(Uint8Array.of(1, 2, 3)),
        q: (c: FakeConnection) => c.audio(Uint8Array.of(4)),
        s: (c: FakeConnection) => c.audio(Uint8Array.of(5, 6, 7)),
      };
      const fake = new FakeTransport((connection) => cold('o-pqs-x', odd).subscribe((step) => step(connection)));
      const audio = cold('a|', { a: 'Hi.' }).pipe(rimeTts(base(fake, { audioFormat: 'pcm' })), map((chunk) => [...chunk]));
      expectObservable(audio).toBe('--abc-|', { a: [1, 2], b: [3, 4], c: [5, 6] });
    });
  });

  describe('bad input', () => {
    it('invalid options: an invalid-options error on subscribe, before any connection', () => {
      const fake = new FakeTransport();
      const errors: unknown[] = [];
      of('x')
        .pipe(rimeTts({ speaker: 'cove', apiKey: 'k', samplingRate: 1, retry: -1, transport: fake.transport }))
        .subscribe({ error: (error) => errors.push(error) });
      expect(fake.connections).toHaveLength(0);
      expect(errors[0]).toMatchObject({
        kind: 'invalid-options',
        issues: ['samplingRate must be an integer from 4000 to 96000, got 1', expect.stringMatching(/^retry must be/)],
      });
    });

    it('a missing key says how to set one', () => {
      const saved = process.env['RIME_API_KEY'];
      delete process.env['RIME_API_KEY'];
      try {
        const errors: RimeError[] = [];
        of('x').pipe(rimeTts({ speaker: 'cove' })).subscribe({ error: (error: RimeError) => errors.push(error) });
        expect(errors[0]?.message).toMatch(/no API key: pass rimeTts\(\{ apiKey \}\) or set RIME_API_KEY/);
      } finally {
        if (saved !== undefined) process.env['RIME_API_KEY'] = saved;
      }
    });

    it('takes the key from RIME_API_KEY', () => {
      const saved = process.env['RIME_API_KEY'];
      process.env['RIME_API_KEY'] = ' env-key\n';
      try {
        const fake = new FakeTransport(() => {});
        of('x').pipe(rimeTts({ speaker: 'cove', transport: fake.transport })).subscribe().unsubscribe();
        expect(fake.connections[0]?.request.apiKey).toBe('env-key');
        expect(fake.connections[0]?.request.url.href).not.toContain('env-key');
      } finally {
        if (saved === undefined) delete process.env['RIME_API_KEY'];
        else process.env['RIME_API_KEY'] = saved;
      }
    });

    it('takes the endpoint from RIME_URL when the config names none; a url in the config wins', () => {
      const saved = process.env['RIME_URL'];
      process.env['RIME_URL'] = ' ws://127.0.0.1:8787/ws\n';
      try {
        const fake = new FakeTransport(() => {});
        const operator = rimeTts({ speaker: 'cove', apiKey: 'k', transport: fake.transport });
        of('x').pipe(operator).subscribe().unsubscribe();
        of('x').pipe(rimeTts({ speaker: 'cove', apiKey: 'k', url: 'wss://users-east-ws.rime.ai/ws', transport: fake.transport })).subscribe().unsubscribe();
        process.env['RIME_URL'] = 'ws://127.0.0.1:9999/ws'; // read again at the next subscription
        of('x').pipe(operator).subscribe().unsubscribe();
        // Its path follows the protocol: it names a service, not one of its protocols.
        of('x').pipe(rimeTts({ speaker: 'cove', apiKey: 'k', protocol: 'ws3', transport: fake.transport })).subscribe().unsubscribe();
        process.env['RIME_URL'] = 'ws://127.0.0.1:9999';
        of('x').pipe(rimeTts({ speaker: 'cove', apiKey: 'k', protocol: 'ws3', transport: fake.transport })).subscribe().unsubscribe();
        process.env['RIME_URL'] = 'ws://127.0.0.1:9999/proxy/rime';
        of('x').pipe(rimeTts({ speaker: 'cove', apiKey: 'k', protocol: 'ws3', transport: fake.transport })).subscribe().unsubscribe();
        expect(fake.connections.map((connection) => `${connection.request.url.origin}${connection.request.url.pathname}`)).toEqual([
          'ws://127.0.0.1:8787/ws',
          'wss://users-east-ws.rime.ai/ws',
          'ws://127.0.0.1:9999/ws',
          'ws://127.0.0.1:9999/ws3',
          'ws://127.0.0.1:9999/ws3',
          'ws://127.0.0.1:9999/proxy/rime',
        ]);
      } finally {
        if (saved === undefined) delete process.env['RIME_URL'];
        else process.env['RIME_URL'] = saved;
      }
    });

    it('a missing speaker and a config that is not an object', () => {
      const errors: RimeError[] = [];
      of('x').pipe(rimeTts({ apiKey: 'k' } as RimeTtsConfig)).subscribe({ error: (error: RimeError) => errors.push(error) });
      of('x').pipe(rimeTts(undefined as unknown as RimeTtsConfig)).subscribe({ error: (error: RimeError) => errors.push(error) });
      expect(errors.map((error) => error.issues)).toEqual([['speaker is required'], [expect.stringMatching(/needs a config object/)]]);
    });

    it('a source value that is not a string ends the stream with a clear error', () => {
      const fake = new FakeTransport();
      const errors: RimeError[] = [];
      of('fine', 42 as unknown as string).pipe(rimeTts(base(fake))).subscribe({ error: (error: RimeError) => errors.push(error) });
      expect(errors[0]?.message).toBe('Invalid Rime options: the text source must emit strings, got a value of type number');
      expect(fake.connections[0]?.closedByClientAt).toBeDefined();
    });

    it('errors from controls end the stream', () => {
      const errors: unknown[] = [];
      const failure = new Error('control failed');
      NEVER.pipe(rimeTts(base(new FakeTransport(), { flush: throwError(() => failure) }))).subscribe({ error: (error) => errors.push(error) });
      expect(errors).toEqual([failure]);
    });
  });

  it('each subscription opens its own connection (cold)', () => {
    const fake = new FakeTransport();
    const text$ = new Subject<string>();
    const speech = text$.pipe(rimeTts(base(fake)));
    speech.subscribe();
    speech.subscribe();
    expect(fake.connections).toHaveLength(2);
  });
});

describe('rimeTts() edge cases found in review', () => {
  it('clear after the source completed still interrupts: no old audio after it, and the stream completes', () => {
    scheduler().run(({ cold, hot, expectObservable, flush }) => {
      const fake = scripted(cold, ['o-a-a-a-a-x']);
      const clear = hot('-----c');
      const audio = cold('a|', { a: 'A long answer, ' }).pipe(rimeTts(base(fake, { clear })), map(text));
      expectObservable(audio).toBe('--a-a|', { a: 'aa' });
      flush();
      expect(fake.connections[0]?.frames).toEqual(['A long answer,', '<FLUSH>', '<EOS>', '<CLEAR>']);
      expect(fake.connections[0]?.closedByClientAt).toBe(5);
    });
  });

  it('the <EOS> deadline runs again on the connection a retry opens, so a second stall is an error, not a hang', () => {
    scheduler().run(({ cold, expectObservable }) => {
      const fake = scripted(cold, ['o', 'o', 'o']);
      const audio = cold('a|', { a: 'Hi.' }).pipe(rimeTts(base(fake, { eosTimeoutMs: 100, retry: { count: 2, delay: 10 } })));
      expectObservable(audio).toBe('321ms #', undefined, expect.objectContaining({ kind: 'timeout' }));
    });
  });

  it('a failure during the backoff does not start a second retry', () => {
    scheduler().run(({ cold, flush }) => {
      const fake = scripted(cold, ['o--d', 'o---a-x']);
      const events: RimeEvent[] = [];
      cold('a|', { a: 'Hi.' })
        .pipe(rimeTts(base(fake, { eosTimeoutMs: 20, retry: { count: 3, delay: 50 }, events: { next: (event) => events.push(event) } })))
        .subscribe();
      flush();
      expect(fake.connections).toHaveLength(2);
      expect(events.filter((event) => event.type === 'retry')).toHaveLength(1);
    });
  });

  it('unsubscribing from inside the retry event stops everything: no backoff, no new connection', () => {
    scheduler().run(({ cold, flush }) => {
      const fake = scripted(cold, ['r', 'o']);
      const subscription = cold('a', { a: 'Hi.' })
        .pipe(rimeTts(base(fake, { events: { next: (event) => event.type === 'retry' && subscription.unsubscribe() } })))
        .subscribe();
      flush();
      expect(fake.connections).toHaveLength(1);
    });
  });

  it('a retry delay function that throws, or returns no ObservableInput, errors the stream instead of the process', () => {
    const errors: unknown[] = [];
    const fake = new FakeTransport((connection) => connection.fail(upgradeRefused(503, 'unavailable')));
    const delays = [
      () => {
        throw new Error('bad delay');
      },
      () => 100 as unknown as ReturnType<typeof EMPTY.pipe>,
    ];
    for (const delay of delays) {
      of('Hi.').pipe(rimeTts(base(fake, { retry: { count: 1, delay } }))).subscribe({ error: (error) => errors.push(error) });
    }
    expect(errors).toHaveLength(2);
    expect(errors[0]).toEqual(new Error('bad delay'));
    expect(String(errors[1])).toMatch(/where a stream was expected/);
  });

  it('makes the server synthesize exactly its segments: <FLUSH> after a sentence closed by a quote, and before passing 1000 characters', () => {
    scheduler().run(({ cold, flush }) => {
      const fake = scripted(cold, ['o-------ax', 'o-ax']);
      const runOn = `${'word '.repeat(199)}word`;
      cold('a-b|', { a: 'He said "Stop." Then', b: ` ${runOn} ${runOn}` }).pipe(rimeTts(base(fake))).subscribe();
      flush();
      const frames = fake.connections.flatMap((connection) => connection.frames);
      expect(frames.slice(0, 2)).toEqual(['He said "Stop."', '<FLUSH>']);
      let held = 0;
      for (const frame of frames) {
        held = frame.startsWith('<') ? 0 : held + frame.length;
        expect(held).toBeLessThanOrEqual(1000);
      }
      expect(frames.filter((frame) => !frame.startsWith('<')).join('')).toBe(`He said "Stop." Then ${runOn} ${runOn}`);
      // 2,021 characters: more than one connection carries (maxReplayCharacters, 2000), so the last segment goes on a second.
      expect(fake.connections).toHaveLength(2);
    });
  });

  it('sends no <FLUSH> of its own in segment=never mode, except to stay under 1000 characters', () => {
    scheduler().run(({ cold, flush }) => {
      const fake = scripted(cold, ['o-ax']);
      cold('a|', { a: 'He said "Stop." Then left' }).pipe(rimeTts(base(fake, { segment: 'never' }))).subscribe();
      flush();
      expect(fake.connections[0]?.frames).toEqual(['He said "Stop."', ' Then left', '<EOS>']);
    });
  });
});

describe('rimeTts() retries end unless there is progress (default resetOnSuccess)', () => {
  const retryEvents = (events: RimeEvent[]) => events.flatMap((event) => (event.type === 'retry' ? [event.attempt] : []));

  it('the same fault after the same bytes ends the stream after count retries, attempts increasing', () => {
    scheduler().run(({ cold, expectObservable, flush }) => {
      const events: RimeEvent[] = [];
      const fake = scripted(cold, ['o-a-a-d', 'o-a-a-d', 'o-a-a-d', 'o-a-a-d', 'o-a-a-x']);
      const audio = cold('a|', { a: 'Hi.' }).pipe(
        rimeTts({ ...base(fake, { events: { next: (event) => events.push(event) } }), retry: { count: 3, delay: 10 } }),
        map(text),
      );
      expectObservable(audio).toBe('--a-a-- 11ms a-a-- 11ms a-a-- 11ms a-a-#', { a: 'aa' }, expect.objectContaining({ kind: 'connection', closeCode: 1006 }));
      flush();
      expect(retryEvents(events)).toEqual([1, 2, 3]);
      expect(fake.connections).toHaveLength(4);
    });
  });

  it('audio past what the failed connections delivered is progress: the count starts again', () => {
    scheduler().run(({ cold, flush }) => {
      const events: RimeEvent[] = [];
      const fake = scripted(cold, ['o-a-d', 'o-a-a-d', 'o-a-a-a-d', 'o-a-a-a-a-d', 'o-a-a-a-a-a-x']);
      cold('a|', { a: 'Hi.' })
        .pipe(rimeTts({ ...base(fake, { events: { next: (event) => events.push(event) } }), retry: { count: 1, delay: 10 } }))
        .subscribe({ error: (error: unknown) => events.push({ type: 'close', code: -1, reason: String(error) }) });
      flush();
      expect(retryEvents(events)).toEqual([1, 1, 1, 1]);
      expect(events.at(-1)).toEqual({ type: 'close', code: 1000, reason: '' });
    });
  });

  it('resetOnSuccess: false never forgets a failure', () => {
    scheduler().run(({ cold, flush }) => {
      const events: RimeEvent[] = [];
      const fake = scripted(cold, ['o-a-d', 'o-a-a-d', 'o-a-a-a-d']);
      const errors: unknown[] = [];
      cold('a|', { a: 'Hi.' })
        .pipe(rimeTts({ ...base(fake, { events: { next: (event) => events.push(event) } }), retry: { count: 2, delay: 10, resetOnSuccess: false } }))
        .subscribe({ error: (error: unknown) => errors.push(error) });
      flush();
      expect(retryEvents(events)).toEqual([1, 2]);
      expect(errors).toHaveLength(1);
    });
  });
});

describe('rimeTts() audio deadline (audioTimeoutMs, default 5 s)', () => {
  it('a connection that takes text and sends nothing back fails with a timeout, and is retried', () => {
    scheduler().run(({ cold, expectObservable }) => {
      const fake = scripted(cold, ['o', 'o-a-a-x']);
      const audio = cold('a', { a: 'Hi, ' }).pipe(rimeTts(base(fake, { retry: { count: 1, delay: 10 } })), map(text));
      expectObservable(audio).toBe('5010ms --a-a', { a: 'aa' });
    });
  });

  it('counts from the first text no audio has answered, whatever text follows it', () => {
    scheduler().run(({ cold, expectObservable }) => {
      const fake = scripted(cold, ['o']);
      const source = cold('a 40ms b 40ms c', { a: 'One, ', b: 'two, ', c: 'three, ' });
      expectObservable(source.pipe(rimeTts(base(fake, { audioTimeoutMs: 100, retry: 0 })))).toBe(
        '100ms #',
        undefined,
        new RimeError('timeout', 'no audio from Rime within 100 ms of the text sent'),
      );
    });
  });

  it('audio answers the text; a quiet connection with nothing outstanding is not a stall', () => {
    scheduler().run(({ cold, expectObservable }) => {
      const fake = scripted(cold, ['o-a']);
      const source = cold('a 1s b', { a: 'One, ', b: 'two, ' });
      expectObservable(source.pipe(rimeTts(base(fake, { audioTimeoutMs: 100, retry: 0 })), map(text))).toBe(
        '--a 998ms 100ms #',
        { a: 'aa' },
        expect.objectContaining({ kind: 'timeout' }),
      );
    });
  });
});

describe('rimeTts() backpressure', () => {
  it('true stops reading the socket and false reads it again: the audio sent meanwhile arrives then, in order', () => {
    scheduler().run(({ cold, hot, expectObservable, flush }) => {
      const fake = scripted(cold, ['o-a--b-a----x']);
      const backpressure = hot('---t----f', { t: true, f: false });
      const audio = cold('a|', { a: 'Hi.' }).pipe(rimeTts(base(fake, { backpressure })), map(text));
      expectObservable(audio).toBe('--a-----(ba)|', { a: 'aa', b: 'bb' });
      flush();
      expect(fake.connections[0]?.paused).toBe(false);
    });
  });

  it('no deadline runs while the socket is not read: a long pause is not a stall, and the wait starts again on resume', () => {
    scheduler().run(({ cold, hot, expectObservable }) => {
      const fake = scripted(cold, ['o']); // answers nothing, ever
      const backpressure = hot('-t 9999ms f', { t: true, f: false });
      const audio = cold('a', { a: 'Hi.' }).pipe(rimeTts(base(fake, { backpressure, retry: 0 })), map(text));
      // Paused from 1 to 10001: the audio deadline (5 s) counts from the resume.
      expectObservable(audio).toBe('15001ms #', undefined, new RimeError('timeout', 'no audio from Rime within 5000 ms of the text sent'));
    });
  });

  it('a connection opened while downstream is full starts paused (the one a retry opens)', () => {
    scheduler().run(({ cold, hot, flush }) => {
      const fake = scripted(cold, ['o-d', 'o']);
      const backpressure = hot('---t', { t: true });
      cold('a', { a: 'Hi.' }).pipe(rimeTts(base(fake, { backpressure }))).subscribe();
      flush();
      expect(fake.connections.map((connection) => connection.paused)).toEqual([false, true]);
    });
  });

  it('a value that is not a boolean is an invalid-options error', () => {
    const errors: RimeError[] = [];
    of('Hi.')
      .pipe(rimeTts(base(new FakeTransport(), { backpressure: of('full' as unknown as boolean) })))
      .subscribe({ error: (error: RimeError) => errors.push(error) });
    expect(errors[0]?.issues).toEqual(['backpressure must emit booleans (true: downstream is full), got "full"']);
  });
});

describe('rimeTts() replays bounded to the turn', () => {
  /** How many times each text frame was sent, over every connection. */
  const timesSent = (fake: FakeTransport): Record<string, number> => {
    const counts: Record<string, number> = {};
    for (const frame of fake.connections.flatMap((connection) => connection.frames)) {
      if (!frame.startsWith('<')) counts[frame] = (counts[frame] ?? 0) + 1;
    }
    return counts;
  };

  it('each flushed turn has a connection of its own: a drop in turn 3 replays turn 3 only', () => {
    scheduler().run(({ cold, hot, flush }) => {
      const events: RimeEvent[] = [];
      // Turn 1 on 0 (closed after its audio, 4); turn 2 on 1 (opened ahead at 1, closed at 9); turn 3 on 2, dropped.
      const fake = scripted(cold, ['o-a-x', 'o-----a-x', 'o-----a-d', 'o', 'o-a-x']);
      const flushes = hot('-f----f----f');
      cold('a----b----c', { a: 'One. ', b: 'Two. ', c: 'Three. ' })
        .pipe(rimeTts(defaults(fake, { flush: flushes, events: { next: (event) => events.push(event) } })))
        .subscribe();
      flush();
      expect(timesSent(fake)).toEqual({ 'One. ': 1, 'Two. ': 1, 'Three. ': 2 });
      expect(events.filter((event) => event.type === 'retry')).toMatchObject([{ replayedSegments: 1, replayedCharacters: 7 }]);
    });
  });

  it("Rime's idle close racing turn 2 replays turn 2 only, never turn 1", () => {
    scheduler().run(({ cold, hot, flush }) => {
      // 1 carries turn 2 and closes cleanly (as Rime's idle close does) just after its text went out, with no audio.
      const fake = scripted(cold, ['o-a-x', 'o-----x', 'o', 'o-a-x']);
      const flushes = hot('-f----f');
      cold('a----b', { a: 'One. ', b: 'Two. ' }).pipe(rimeTts(defaults(fake, { flush: flushes }))).subscribe();
      flush();
      expect(timesSent(fake)).toEqual({ 'One. ': 1, 'Two. ': 2 });
    });
  });

  it('a long text without flushes: a drop at sentence 150 of 200 replays at most maxReplayCharacters (2000)', () => {
    scheduler().run(({ flush }) => {
      const sentences = Array.from({ length: 200 }, (_, index) => `Sentence number ${index + 1} is here. `);
      let dropped = false;
      let mostLive = 0;
      // A server that speaks each segment as its own bytes, closes after <EOS>, and drops the connection once, when
      // it is given sentence 150.
      const fake = new FakeTransport((connection) => {
        mostLive = Math.max(mostLive, fake.connections.filter((each) => each.live).length);
        const answer = (message: ClientMessage) => {
          if (!connection.live) return;
          if (message.type === 'eos') return connection.close(1000);
          if (message.type !== 'text') return;
          if (!dropped && message.text.includes('number 150 ')) {
            dropped = true;
            return connection.close(1006);
          }
          connection.audio(message.text);
        };
        connection.open((message) => asyncScheduler.schedule(() => answer(message)));
      });
      const events: RimeEvent[] = [];
      let heard = '';
      from(sentences)
        .pipe(rimeTts(defaults(fake, { events: { next: (event) => events.push(event) } })))
        .subscribe((chunk) => (heard += text(chunk)));
      flush();
      const retries = events.filter((event) => event.type === 'retry');
      expect(retries).toHaveLength(1);
      const [retry] = retries;
      expect(retry?.type === 'retry' && retry.replayedCharacters).toBeLessThanOrEqual(2000);
      // Every sentence is heard, in order; what is heard twice is what the failed connection had already said.
      const whole = sentences.join('').trim();
      expect(heard.replace(/\s+/g, ' ').length - whole.length).toBeLessThanOrEqual(2000);
      let at = 0;
      const outOfOrder: string[] = [];
      for (const sentence of sentences) {
        const found = heard.indexOf(sentence.trim(), at);
        if (found === -1) outOfOrder.push(sentence);
        else at = found + 1;
      }
      expect(outOfOrder).toEqual([]);
      expect(mostLive).toBeLessThanOrEqual(2); // the current connection and the one opened ahead
    });
  });
});

describe('rimeTts() turns and backpressure (found in review)', () => {
  /** A server that speaks what it holds at each <FLUSH> or <EOS> after `delay`, as "[text]", and closes after <EOS>. */
  const answering = (delay: number, refuse: (index: number) => boolean = () => false) =>
    new FakeTransport((connection) => {
      if (refuse(connection.index)) return void asyncScheduler.schedule(() => connection.fail(upgradeRefused(429, 'Currently at websocket limit')), 1);
      let held = '';
      const answer = (message: ClientMessage) => {
        if (message.type === 'text') return void (held += message.text);
        if (message.type === 'clear') return;
        const said = held.trim();
        held = '';
        if (said !== '') asyncScheduler.schedule(() => connection.live && connection.audio(`[${said}]`), delay);
        if (message.type === 'eos') asyncScheduler.schedule(() => connection.live && connection.close(1000), delay + 1);
      };
      asyncScheduler.schedule(() => connection.open(answer), 1);
    });

  it("the next turn is synthesized while the last one finishes: its audio, even its close, waits for the last one's", () => {
    scheduler().run(({ cold, hot, expectObservable, flush }) => {
      // 0 speaks turn 1 slowly (audio at 4 and 10, closes at 12); 1, opened at the first flush (2), gets turn 2 at
      // the second (4), answers at 7 and closes at 9, while 0 is still speaking.
      const fake = scripted(cold, ['o---a-----a-x', '---o-b-x']);
      const audio = hot('-a-b-|', { a: 'One. ', b: 'Two. ' }).pipe(rimeTts(defaults(fake, { flush: hot('--f-f') })), map(text));
      expectObservable(audio).toBe('----a-----a-(b|)', { a: 'aa', b: 'bb' });
      flush();
      expect(fake.connections[1]?.sent.slice(0, 1)).toEqual([{ time: 5, frame: 'Two. ' }]);
    });
  });

  it('every turn gets its first-audio, also a turn whose text was queued before the last one was heard', () => {
    scheduler().run(({ hot, flush }) => {
      const events: RimeEvent[] = [];
      const heard: string[] = [];
      hot('--a-b---|', { a: 'One.', b: ' Two.' })
        .pipe(rimeTts(defaults(answering(5), { flush: hot('--f-f'), events: { next: (event) => events.push(event) } })), map(text))
        .subscribe((chunk) => heard.push(chunk));
      flush();
      expect(heard).toEqual(['[One.]', '[Two.]']);
      expect(events.filter((event) => event.type === 'first-audio')).toMatchObject([{ turn: 0 }, { turn: 1 }]);
    });
  });

  it('a connection opened ahead reports open when it becomes the current one', () => {
    scheduler().run(({ hot, flush }) => {
      const events: RimeEvent[] = [];
      const fake = answering(2);
      hot('--a------b--------|', { a: 'One.', b: ' Two.' })
        .pipe(rimeTts(defaults(fake, { flush: hot('--f------f'), events: { next: (event) => events.push(event) } })))
        .subscribe();
      flush();
      // 0 and 1 carry the two turns; 2, opened ahead at the second flush, becomes current when 1 has closed.
      expect(fake.connections.filter((connection) => connection.frames.length > 0)).toHaveLength(2);
      expect(events.filter((event) => event.type === 'open')).toHaveLength(fake.connections.length);
    });
  });

  it('nothing is opened ahead during a retry backoff: a rate-limited account is not asked again meanwhile', () => {
    scheduler().run(({ hot, flush }) => {
      const attempts: number[] = [];
      const retries: number[] = [];
      const fake = answering(2, (index) => index > 0); // every connection after the first: 429
      const counting: RimeTtsConfig['transport'] = (request) => {
        attempts.push(asyncScheduler.now());
        return fake.transport(request);
      };
      hot('--a-----b-----c', { a: 'One.', b: ' Two.', c: ' Three.' })
        .pipe(
          rimeTts(
            defaults(fake, {
              transport: counting,
              flush: hot('--f-----f-----f'),
              retry: { count: 3, delay: 100 },
              events: { next: (event) => event.type === 'retry' && retries.push(asyncScheduler.now()) },
            }),
          ),
        )
        .subscribe({ error: () => {} });
      flush();
      expect(retries.length).toBeGreaterThan(0);
      expect(attempts.filter((at) => retries.some((retry) => at > retry && at < retry + 100))).toEqual([]);
    });
  });

  it('a clear during a retry backoff goes on at once on the warm spare, without waiting for the backoff', () => {
    scheduler().run(({ cold, hot, flush }) => {
      // 0 speaks and then drops (5); 1 is the spare, opened at the first audio (2); the backoff is 50.
      const fake = scripted(cold, ['o-a--d', 'o--------a']);
      cold('a------b', { a: 'Dropped. It', b: 'After the clear. Then' })
        .pipe(rimeTts(defaults(fake, { clear: hot('------c'), retry: { count: 2, delay: 50 } })))
        .subscribe({ error: () => {} });
      flush();
      expect(fake.connections[1]?.sent[0]).toEqual({ time: 7, frame: 'After the clear.' });
      // The abandoned retry never connected: the interrupted text is never sent again.
      expect(fake.connections.flatMap((connection) => connection.frames).filter((frame) => frame === 'Dropped.')).toHaveLength(1);
    });
  });

  it('a backpressure control that completes while true holds nothing back any more', () => {
    scheduler().run(({ cold, expectObservable }) => {
      const fake = scripted(cold, ['o----a-x']);
      const audio = cold('a|', { a: 'Hi.' }).pipe(rimeTts(base(fake, { backpressure: cold('-t--|', { t: true }) })), map(text));
      expectObservable(audio).toBe('-----a-|', { a: 'aa' }); // paused from 1, read again when the control completed (4)
    });
  });
});

describe('rimeTts() connections', () => {
  it('without clear: exactly one connection, however long the audio flows (prewarm is on by default)', () => {
    scheduler().run(({ cold, flush }) => {
      const fake = scripted(cold, ['o-a-a-a-a-a-a-a-x']);
      cold('a-b-c|', { a: 'One. ', b: 'Two. ', c: 'Three.' }).pipe(rimeTts(defaults(fake))).subscribe();
      flush();
      expect(fake.connections).toHaveLength(1);
    });
  });

  it('with clear: one spare, opened at the first audio; one the server closes idle is not reopened within the turn', () => {
    scheduler().run(({ cold, flush }) => {
      const fake = scripted(cold, ['o-a-a-a-a-a-a-a-a-a-x', 'o-x']);
      cold('a-b-c|', { a: 'One. ', b: 'Two. ', c: 'Three.' }).pipe(rimeTts(defaults(fake, { clear: NEVER }))).subscribe();
      flush();
      expect(fake.connections).toHaveLength(2);
      expect(fake.connections[1]?.frames).toEqual([]);
    });
  });

  it('with clear: a spare closed idle is opened again for the next turn', () => {
    scheduler().run(({ cold, hot, flush }) => {
      const fake = scripted(cold, ['o-a-a-x', 'o-x', 'o-------a', 'o']);
      const flushes = hot('----f');
      cold('a-------b', { a: 'One, ', b: 'two, ' }).pipe(rimeTts(defaults(fake, { clear: NEVER, flush: flushes }))).subscribe();
      flush();
      // The spare opened at the first audio (2) and closed idle (4); the flush (4) opened the next turn's connection,
      // and that turn's spare opened at its first audio (12).
      expect(fake.connections.map((connection) => connection.frames)).toEqual([['One,', '<FLUSH>', '<EOS>'], [], [' two,', '<FLUSH>'], []]);
    });
  });

  it('when the current connection is closed idle, speech goes on on the warm spare without a new connection', () => {
    scheduler().run(({ cold, flush }) => {
      const fake = scripted(cold, ['o-a-x', 'o----------a-x']);
      cold('a--------b|', { a: 'One, ', b: 'two.' }).pipe(rimeTts(defaults(fake, { clear: NEVER }))).subscribe();
      flush();
      expect(fake.connections).toHaveLength(2);
      expect(fake.connections[0]?.frames).toEqual(['One,', '<FLUSH>']);
      expect(fake.connections[1]?.frames).toEqual([' two.', '<FLUSH>', '<EOS>']);
    });
  });
});

describe('rimeTts() events', () => {
  const failure = new Error('observer broke');
  const throwingOn = (type: RimeEvent['type']) => ({
    next: (event: RimeEvent) => {
      if (event.type === type) throw failure;
    },
  });

  it.each([
    ['open', ['o-a-x'], 0, 0],
    ['first-audio', ['o-a-a-x'], 1, 2],
    ['retry', ['o-d', 'o-a-x'], 0, 2],
    ['close', ['o-a-d', 'o-a-x'], 1, 4],
  ] as const)('a throwing next on %s errors the stream with its error and closes the connection', (type, scripts, chunks, at) => {
    scheduler().run(({ cold, flush }) => {
      const fake = scripted(cold, [...scripts]);
      const seen: string[] = [];
      const errors: unknown[] = [];
      cold('a', { a: 'Hi, ' })
        .pipe(rimeTts(base(fake, { events: throwingOn(type) })))
        .subscribe({ next: (chunk) => seen.push(text(chunk)), error: (error: unknown) => errors.push(error) });
      flush();
      expect(seen).toHaveLength(chunks); // what the event reports was emitted before it
      expect(errors).toEqual([failure]);
      expect(fake.connections).toHaveLength(1);
      const connection = fake.connections[0];
      expect(connection?.closedByClientAt ?? (connection?.endedByServer === true ? at : undefined)).toBe(at);
    });
  });

  it('reports first-audio after the chunk it times was emitted', () => {
    scheduler().run(({ cold, flush }) => {
      const order: string[] = [];
      const fake = scripted(cold, ['o-a-x']);
      cold('a|', { a: 'Hi.' })
        .pipe(rimeTts(base(fake, { events: { next: (event) => order.push(event.type) } })))
        .subscribe(() => order.push('chunk'));
      flush();
      expect(order).toEqual(['open', 'chunk', 'first-audio', 'close']);
    });
  });

  it('one first-audio per turn: from the first text after a flush or an interruption to the first byte after it', () => {
    scheduler().run(({ cold, hot, flush }) => {
      const events: RimeEvent[] = [];
      const fake = scripted(cold, ['o--a--x', 'o--a', 'o------a']);
      const flushes = hot('----f');
      const clear = hot('--------------c');
      cold('a-------b-------c', { a: 'One, ', b: 'two, ', c: 'three, ' })
        .pipe(rimeTts(base(fake, { flush: flushes, clear, events: { next: (event) => events.push(event) } })))
        .subscribe();
      flush();
      expect(events.filter((event) => event.type === 'first-audio')).toEqual([
        { type: 'first-audio', turn: 0, milliseconds: 3 },
        { type: 'first-audio', turn: 1, milliseconds: 3 }, // its own connection, opened when its text came (8; no prewarm)
        { type: 'first-audio', turn: 2, milliseconds: 5 }, // on the connection the interruption opened at 14
      ]);
    });
  });

  it('rejects an events value that is not an observer', () => {
    const errors: RimeError[] = [];
    of('x')
      .pipe(rimeTts(base(new FakeTransport(), { events: 42 as unknown as RimeTtsConfig['events'] })))
      .subscribe({ error: (error: RimeError) => errors.push(error) });
    expect(errors[0]?.issues).toEqual(['events must be an observer: an object whose next, if any, is a function']);
  });
});

describe('rimeTts() config', () => {
  const errorsOf = (config: RimeTtsConfig): RimeError[] => {
    const errors: RimeError[] = [];
    of('x').pipe(rimeTts(config)).subscribe({ error: (error: RimeError) => errors.push(error) }).unsubscribe();
    return errors;
  };

  it('each operator gets its own key, checked every time', () => {
    const fake = new FakeTransport(() => {});
    for (const apiKey of ['key-one', 'key-two']) of('x').pipe(rimeTts({ speaker: 'cove', apiKey, transport: fake.transport })).subscribe().unsubscribe();
    expect(fake.connections.map((connection) => connection.request.apiKey)).toEqual(['key-one', 'key-two']);
    expect(errorsOf({ speaker: 'cove', apiKey: 'not a key', transport: fake.transport })[0]?.issues).toEqual([
      'apiKey must be a non-empty string without whitespace, got a string (not shown)',
    ]);
  });

  it('a URL object where a string is expected is an error, even after the same URL as a string worked', () => {
    const url = 'ws://127.0.0.1:9/ws';
    expect(errorsOf({ speaker: 'cove', apiKey: 'k', url, transport: new FakeTransport(() => {}).transport })).toEqual([]);
    const issues = errorsOf({ speaker: 'cove', apiKey: 'k', url: new URL(url) as unknown as string })[0]?.issues;
    expect(issues).toEqual([expect.stringMatching(/^url must be a ws:\/\/ or wss:\/\/ URL/)]);
  });
});

describe('rimeTts() segments', () => {
  it('by default asks for segment=never and flushes every segment, so the server synthesizes exactly them', () => {
    const fake = new FakeTransport();
    of('Please call Dr. Jones. Then').pipe(rimeTts(base(fake))).subscribe().unsubscribe();
    expect(fake.connections[0]?.request.url.searchParams.get('segment')).toBe('never');
    expect(fake.connections[0]?.frames).toEqual(['Please call Dr. Jones.', '<FLUSH>', ' Then', '<FLUSH>', '<EOS>']);
  });

  it('sends a finished sentence once no token has come for releaseAfterMs', () => {
    scheduler().run(({ cold, flush }) => {
      const fake = scripted(cold, ['o']);
      cold('a 2s b', { a: 'Let me check that for you.', b: ' Found it' })
        .pipe(rimeTts(base(fake, { releaseAfterMs: 150 })))
        .subscribe({ error: () => {} }); // this server never speaks: the audio deadline ends it later
      flush();
      expect(fake.connections[0]?.sent.slice(0, 2)).toEqual([
        { time: 150, frame: 'Let me check that for you.' },
        { time: 150, frame: '<FLUSH>' },
      ]);
    });
  });

  it('rejects a releaseAfterMs that is not a timer delay', () => {
    const errors: RimeError[] = [];
    of('x')
      .pipe(rimeTts(base(new FakeTransport(), { releaseAfterMs: -1 })))
      .subscribe({ error: (error: RimeError) => errors.push(error) });
    expect(errors[0]?.issues).toEqual([expect.stringMatching(/^releaseAfterMs must be an integer number of milliseconds from 0/)]);
  });
});

describe('rimeTts() clean closes and text no audio answered (found in review)', () => {
  it('a 1000 close right after <EOS> with the last text unanswered is no completion: that text, and only it, is retried', () => {
    scheduler().run(({ cold, expectObservable, flush }) => {
      const events: RimeEvent[] = [];
      const fake = scripted(cold, ['o-a 22ms x', 'o-b-x']);
      const source = cold('a 20ms b|', { a: 'One, ', b: 'two.' });
      expectObservable(source.pipe(rimeTts(base(fake, { events: { next: (e) => events.push(e) } })), map(text))).toBe('--a 22ms 11ms -b-|', {
        a: 'aa',
        b: 'bb',
      });
      flush();
      expect(fake.connections[1]?.frames).toEqual([' two.', '<FLUSH>', '<EOS>']);
      expect(events.find((event) => event.type === 'retry')).toMatchObject({ replayedSegments: 1 });
    });
  });

  it('an idle close racing new text, the source still open: only the unanswered text is sent again', () => {
    scheduler().run(({ cold, flush }) => {
      const fake = scripted(cold, ['o-a 22ms x', 'o-b']);
      cold('a 20ms b', { a: 'One, ', b: 'two, ' }).pipe(rimeTts(base(fake))).subscribe();
      flush();
      expect(fake.connections[1]?.frames).toEqual([' two,', '<FLUSH>']);
    });
  });

  it('a byte carried from a connection closed idle is dropped: the next connection starts on a sample boundary', () => {
    scheduler().run(({ cold, expectObservable }) => {
      const odd = { ...steps, p: (c: FakeConnection) => c.audio(Uint8Array.of(1, 2, 3)), q: (c: FakeConnection) => c.audio(Uint8Array.of(4, 5)) };
      const fake = new FakeTransport((connection) => cold(connection.index === 0 ? 'o-p-x' : 'o-q', odd).subscribe((step) => step(connection)));
      const audio = cold('a-----b', { a: 'One, ', b: 'two, ' }).pipe(rimeTts(base(fake, { audioFormat: 'pcm' })), map((chunk) => [...chunk]));
      expectObservable(audio).toBe('--a-----b', { a: [1, 2], b: [4, 5] });
    });
  });

  it('after an idle close, completing the source opens no connection just for <EOS>', () => {
    scheduler().run(({ cold, expectObservable, flush }) => {
      const fake = scripted(cold, ['o-a-x']);
      expectObservable(cold('a-----|', { a: 'One, ' }).pipe(rimeTts(base(fake)), map(text))).toBe('--a---|', { a: 'aa' });
      flush();
      expect(fake.connections).toHaveLength(1);
    });
  });

  it("with the caller's segment=never, text the server only buffers owes no audio: the deadline waits for the flush", () => {
    scheduler().run(({ cold, hot, expectObservable }) => {
      const fake = scripted(cold, ['o']);
      const flushes = hot('10s f');
      const audio = cold('a', { a: 'Held by the server, ' }).pipe(rimeTts(base(fake, { segment: 'never', flush: flushes, retry: 0 })));
      expectObservable(audio).toBe('10s 5s #', undefined, expect.objectContaining({ kind: 'timeout' }));
    });
  });

  it("text the server was only holding (the caller's segment=never) when it closed idle goes to the next connection, no failure", () => {
    scheduler().run(({ cold, hot, flush }) => {
      const events: RimeEvent[] = [];
      const fake = scripted(cold, ['o---x', 'o-a-x']);
      const flushes = hot('------f');
      cold('a', { a: 'Held, ' })
        .pipe(rimeTts(base(fake, { segment: 'never', flush: flushes, events: { next: (event) => events.push(event) } })))
        .subscribe();
      flush();
      expect(fake.connections[1]?.sent).toEqual([
        { time: 6, frame: 'Held,' },
        { time: 6, frame: '<EOS>' }, // the flush ends the turn
      ]);
      expect(events.filter((event) => event.type === 'retry')).toEqual([]);
    });
  });

  it('a clear before anything went out drops the waiting text and keeps the connection', () => {
    scheduler().run(({ cold, hot, flush }) => {
      const fake = scripted(cold, ['---o-a-x']);
      const clear = hot('-c');
      cold('a--b|', { a: 'Dropped, ', b: 'kept.' }).pipe(rimeTts(base(fake, { clear }))).subscribe();
      flush();
      expect(fake.connections).toHaveLength(1);
      expect(fake.connections[0]?.frames).toEqual(['kept.', '<FLUSH>', '<EOS>']);
    });
  });

  it('each connection gets a URL of its own: a transport that changes it changes no later connection', () => {
    const urls: string[] = [];
    const fake = new FakeTransport((connection) => {
      urls.push(connection.request.url.href);
      connection.request.url.searchParams.set('speaker', 'astra');
    });
    const operator = rimeTts(base(fake));
    for (let index = 0; index < 2; index++) of('x').pipe(operator).subscribe().unsubscribe();
    expect(urls.every((url) => url.includes('speaker=cove'))).toBe(true);
  });
});

describe('rimeTts() spare connection edge cases (found in review)', () => {
  it('a spare promoted after an idle close and then closed idle itself is not replaced within the turn', () => {
    scheduler().run(({ cold, flush }) => {
      const fake = scripted(cold, ['o-a-x', 'o-----x', 'o-a', 'o']);
      cold('a-------b', { a: 'One, ', b: 'two, ' }).pipe(rimeTts(defaults(fake, { clear: NEVER }))).subscribe();
      flush();
      // 0 speaks, 1 is its spare, promoted when 0 closed idle, then closed idle; 2 speaks "two": no spare for it.
      expect(fake.connections).toHaveLength(3);
    });
  });

  it('a refused spare is tried again for the next turn', () => {
    scheduler().run(({ cold, hot, flush }) => {
      const fake = scripted(cold, ['o-a-x', 'r', 'o-----a', 'o']);
      const flushes = hot('---f');
      cold('a-----b', { a: 'One, ', b: 'two, ' }).pipe(rimeTts(defaults(fake, { clear: NEVER, flush: flushes }))).subscribe();
      flush();
      // 1 was refused (2); 2 carries the next turn (opened at the flush, 3); 3 is its spare, opened at its audio (9).
      expect(fake.connections.map((connection) => connection.frames)).toEqual([['One,', '<FLUSH>', '<EOS>'], [], [' two,', '<FLUSH>'], []]);
    });
  });

  it('an interruption from inside next: no first-audio from the old connection, no second spare at once', () => {
    scheduler().run(({ cold, flush }) => {
      const events: RimeEvent[] = [];
      const clear = new Subject<void>();
      const fake = scripted(cold, ['o-a-a-a', 'o', 'o']);
      cold('a', { a: 'One, ' })
        .pipe(rimeTts(defaults(fake, { clear, events: { next: (event) => events.push(event) } })))
        .subscribe(() => clear.next());
      flush();
      expect(events.filter((event) => event.type === 'first-audio')).toEqual([]);
      expect(fake.connections).toHaveLength(2);
    });
  });
});

describe('the marble example in docs/rime-tts.md', () => {
  it('runs as written', () => {
    new TestScheduler((a, b) => expect(a).toEqual(b)).run(({ cold, expectObservable }) => {
      const fake = new FakeTransport((connection) =>
        cold('-o-a-x').subscribe((step) =>
          step === 'o' ? connection.open() : step === 'a' ? connection.audio('ab') : connection.close(1000),
        ),
      );
      const audio = cold('h|', { h: 'Hi.' }).pipe(rimeTts({ speaker: 'cove', apiKey: 'test', transport: fake.transport }));
      expectObservable(audio.pipe(map((bytes) => new TextDecoder().decode(bytes)))).toBe('---a-|', { a: 'ab' });
    });
  });
});
