import { Subject, asyncScheduler, firstValueFrom, from, lastValueFrom, map, of, toArray } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { RimeError } from '../../lib/errors';
import { type RimeServer, createRimeServer } from '../../lib/server/createRimeServer';
import { decodeTestSpeech } from '../../lib/server/voices/testVoiceCodec';
import type { FakeTransport } from '../../lib/testing/fakeTransport';
import type { RimeEvent } from '../../lib/tts/events';
import { type RimeConnectionConfig, rimeConnection } from '../../lib/tts/rimeConnection';
import { type TurnEvent, rimeTurns } from '../../lib/tts/rimeTurns';
import { rimeTts } from '../../lib/tts/rimeTts';
import { answering } from '../support/ws3Fake';

const scheduler = () => new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

const onFake = (fake: FakeTransport, extra: Partial<RimeConnectionConfig> = {}): RimeConnectionConfig => ({
  speaker: 'cove',
  apiKey: 'test-key',
  url: 'ws://rime.test/ws3',
  protocol: 'ws3',
  transport: fake.transport,
  keepAliveMs: Number.POSITIVE_INFINITY,
  ...extra,
});

describe('rimeConnection() with a fake /ws3 server', () => {
  it('uses in sequence share one connection: each ends with its last done, no eos, and leaves the socket open', () => {
    scheduler().run(({ cold, expectObservable, flush }) => {
      const fake = answering();
      const rime = rimeConnection(onFake(fake));
      expectObservable(cold('a|', { a: 'First reply.' }).pipe(rime.tts(), map(text))).toBe('--(a|)', { a: '[First reply.]' });
      // Subscribed once the first is over (at frame 5), as an agent's next reply is.
      expectObservable(cold('a|', { a: 'Second reply.' }).pipe(rime.tts(), map(text)), '-----^').toBe('-------(a|)', { a: '[Second reply.]' });
      flush();
      expect(fake.connections).toHaveLength(1);
      expect(fake.connections[0]?.messages.map((message) => message.type)).toEqual(['text', 'flush', 'text', 'flush']);
      expect(fake.connections[0]?.live).toBe(true);
      rime.close();
      expect(fake.connections[0]?.live).toBe(false);
    });
  });

  it('a use whose text ends while its connection is still opening hands it back all the same, once open', () => {
    scheduler().run(({ cold, expectObservable, flush }) => {
      const fake = answering({ handshake: 5 });
      const rime = rimeConnection(onFake(fake));
      expectObservable(cold('a|', { a: 'Before the open.' }).pipe(rime.tts(), map(text))).toBe('------(a|)', { a: '[Before the open.]' });
      expectObservable(cold('a|', { a: 'On the same one.' }).pipe(rime.tts(), map(text)), '----------^').toBe('------------(a|)', { a: '[On the same one.]' });
      flush();
      expect(fake.connections).toHaveLength(1);
      expect(fake.connections[0]?.messages.map((message) => message.type)).toEqual(['text', 'flush', 'text', 'flush']);
      rime.close();
    });
  });

  it('a use interrupted is not handed back (answers of what it asked may still come): the next opens ahead', () => {
    scheduler().run(({ cold, hot, expectObservable, flush }) => {
      const fake = answering({ delay: 3 });
      const rime = rimeConnection(onFake(fake));
      const clear = hot('--c');
      expectObservable(cold('a--b|', { a: 'Old one? ', b: 'New one? ' }).pipe(rime.tts({ clear }), map(text))).toBe('------b|', { b: '[New one?]' });
      flush();
      expect(fake.connections[0]?.messages.map((message) => message.type)).toEqual(['text', 'flush', 'clear', 'text', 'flush', 'eos']);
      expect(fake.connections).toHaveLength(2);
      expect(fake.connections[1]?.live).toBe(true);
      rime.close();
    });
  });

  it('a use unsubscribed mid-speech closes its connection; the next use goes on one opened ahead, with no handshake', () => {
    scheduler().run(({ cold, expectObservable, flush }) => {
      const fake = answering({ delay: 5 });
      const rime = rimeConnection(onFake(fake));
      const events: RimeEvent[] = [];
      expectObservable(cold('a|', { a: 'Cut short.' }).pipe(rime.tts()), '--!').toBe('');
      expectObservable(cold('---a|', { a: 'Next.' }).pipe(rime.tts({ events: { next: (event) => events.push(event) } }), map(text))).toBe('---------(a|)', {
        a: '[Next.]',
      });
      flush();
      expect(fake.connections[0]?.closedByClientAt).toBe(2);
      expect(fake.connections).toHaveLength(2);
      expect(events[0]).toEqual({ type: 'open', attempt: 0, handshakeMs: 0 });
      rime.close();
    });
  });

  it('a failure while handing back retries on a fresh connection that ends with eos', () => {
    scheduler().run(({ cold, expectObservable, flush }) => {
      let dropped = false;
      const fake = answering({
        before: (connection, message) => {
          if (message.type !== 'flush' || dropped) return true;
          dropped = true;
          asyncScheduler.schedule(() => connection.close(1006), 1);
          return false;
        },
      });
      const rime = rimeConnection(onFake(fake));
      expectObservable(cold('a|', { a: 'Again.' }).pipe(rime.tts({ retry: { count: 1, delay: 5 } }), map(text))).toBe('--------(a|)', { a: '[Again.]' });
      flush();
      const retried = fake.connections.find((connection) => connection.messages.some((message) => message.type === 'eos'));
      expect(retried?.messages.map((message) => message.type)).toEqual(['text', 'flush', 'eos']);
      rime.close();
    });
  });

  it("refuses, in a use, the connection's own options, naming each", async () => {
    const fake = answering();
    const rime = rimeConnection(onFake(fake));
    const refusal = lastValueFrom(of('Hi.').pipe(rime.tts({ speaker: 'astra', transport: fake.transport } as never)));
    await expect(refusal).rejects.toMatchObject({
      kind: 'invalid-options',
      issues: [
        "speaker is the connection's: give it to rimeConnection(), not to one of its uses",
        "transport is the connection's: give it to rimeConnection(), not to one of its uses",
      ],
    });
    await expect(lastValueFrom(of('Hi.').pipe(rime.tts({ warm: 2 } as never)))).rejects.toMatchObject({
      issues: ["warm is the connection's: give it to rimeConnection(), not to one of its uses"],
    });
    const iterator = rime.speak('Hi.', { modelId: 'mistv2' } as never);
    await expect(iterator.next()).rejects.toBeInstanceOf(RimeError);
    rime.close();
  });

  it("refuses a use's own options (they would apply to every use, unseen there), naming each", () => {
    const fake = answering();
    const attempt = () => rimeConnection(onFake(fake, { retry: 1, clear: of(1), events: {}, handshakeTimeoutMs: 500 } as never));
    expect(attempt).toThrow(
      expect.objectContaining({
        issues: [
          'retry is an option of each use: give it to rime.tts(), speech(), turns() or speak(), not to rimeConnection()',
          'clear is an option of each use: give it to rime.tts(), speech(), turns() or speak(), not to rimeConnection()',
          'events is an option of each use: give it to rime.tts(), speech(), turns() or speak(), not to rimeConnection()',
        ],
      }),
    );
    expect(fake.connections).toHaveLength(0);
  });

  it('throws every problem with its config at once, without the key', () => {
    const attempt = () => rimeConnection({ speaker: 'cove', apiKey: 'sk-secret-123', warm: 9, keepAliveMs: -1, samplingRate: 3 } as never);
    expect(attempt).toThrow(RimeError);
    try {
      attempt();
    } catch (error: unknown) {
      const issues = (error as RimeError).issues ?? [];
      expect(issues.join('\n')).toMatch(/warm/);
      expect(issues.join('\n')).toMatch(/keepAliveMs/);
      expect(issues.join('\n')).toMatch(/samplingRate/);
      expect(JSON.stringify(error) + String(error)).not.toContain('sk-secret-123');
    }
  });
});

describe.each(['ws', 'ws3'] as const)('rimeConnection() against the local server, 300 ms handshakes (protocol %s)', (protocol) => {
  let server: RimeServer;
  let upgrades = 0;
  beforeAll(async () => {
    server = await createRimeServer({ log: () => {}, realTimeFactor: 0.05, handshakeDelayMs: 300 });
    server.events.subscribe((event) => event.type === 'open' && upgrades++);
  });
  afterAll(() => server.close());

  const config = (): RimeConnectionConfig => ({ speaker: 'cove', audioFormat: 'pcm', apiKey: 'test', url: server.urls[protocol], protocol });
  const warmedUp = async <R>(rime: R): Promise<R> => {
    await new Promise((resolve) => setTimeout(resolve, 400));
    return rime;
  };

  it('replies in sequence, each a rimeTts use, wait for no handshake and each says exactly its text', async () => {
    upgrades = 0;
    const rime = await warmedUp(rimeConnection(config()));
    const replies = ['Hello there.', 'Your order shipped today.', 'Anything else?', 'Goodbye!'];
    for (const reply of replies) {
      await warmedUp(rime); // the listener speaks between replies (on /ws, the next connection opens meanwhile)
      const events: RimeEvent[] = [];
      const audio = await lastValueFrom(from([reply]).pipe(rime.tts({ events: { next: (event) => events.push(event) } }), toArray()));
      expect(decodeTestSpeech(Buffer.concat(audio)).text).toBe(reply);
      expect(events.filter((event) => event.type === 'open')).toEqual([{ type: 'open', attempt: 0, handshakeMs: 0 }]);
    }
    rime.close();
    // /ws3: the one connection opened ahead served them all; /ws: one a reply, each opened ahead of it.
    if (protocol === 'ws3') expect(upgrades).toBe(1);
    else expect(upgrades === replies.length || upgrades === replies.length + 1).toBe(true); // the last one opened ahead may be cut short
    await until(() => server.connectionCount === 0);
  }, 20_000);

  it('rimeTurns on it: the first turn too goes without a handshake, and says so in its metrics', async () => {
    const rime = await warmedUp(rimeConnection(config()));
    const replies = new Subject<string>();
    const events = lastValueFrom(replies.pipe(map((reply) => from([reply])), rime.turns(), toArray()));
    replies.next('First turn.');
    replies.next('Second turn.');
    replies.complete();
    const dones = (await events).flatMap((event: TurnEvent) => (event.type === 'done' ? [event.metrics] : []));
    expect(dones).toHaveLength(2);
    expect(dones[0]).toMatchObject({ connectionReused: true, handshakeMs: 0 });
    rime.close();
    await until(() => server.connectionCount === 0);
  }, 20_000);

  it('speak() on it: an async iterable of the audio, on the warm connection', async () => {
    const rime = await warmedUp(rimeConnection(config()));
    const chunks: Uint8Array[] = [];
    for await (const chunk of rime.speak('Spoken without RxJS.')) chunks.push(chunk);
    expect(decodeTestSpeech(Buffer.concat(chunks)).text).toBe('Spoken without RxJS.');
    rime.close();
    await until(() => server.connectionCount === 0);
  }, 20_000);

  it('without it, each reply pays the handshake (the baseline these numbers are against)', async () => {
    const events: RimeEvent[] = [];
    await firstValueFrom(from(['Cold.']).pipe(rimeTts({ ...config(), events: { next: (event) => events.push(event) } }), toArray()));
    const open = events.find((event) => event.type === 'open');
    expect(open?.type === 'open' && open.handshakeMs).toBeGreaterThanOrEqual(250);
  }, 20_000);
});

describe("Rime's idle close (after 1.2 s here)", () => {
  let server: RimeServer;
  let upgrades = 0;
  beforeAll(async () => {
    server = await createRimeServer({ log: () => {}, realTimeFactor: 0.05, idleTimeoutMs: 1200, handshakeDelayMs: 100 });
    server.events.subscribe((event) => event.type === 'open' && upgrades++);
  });
  afterAll(() => server.close());

  it('a connection the server closes idle is opened again ahead: the reply after the idle period pays no handshake', async () => {
    upgrades = 0;
    const rime = rimeConnection({ speaker: 'cove', audioFormat: 'pcm', apiKey: 'test', url: server.urls.ws3, protocol: 'ws3' });
    await until(() => upgrades >= 2); // the first, closed idle after 1.2 s, and the one opened in its place
    await new Promise((resolve) => setTimeout(resolve, 200));
    const events: RimeEvent[] = [];
    const audio = await lastValueFrom(of('After a pause.').pipe(rime.tts({ events: { next: (event) => events.push(event) } }), toArray()));
    expect(decodeTestSpeech(Buffer.concat(audio)).text).toBe('After a pause.');
    expect(events.find((event) => event.type === 'open')).toEqual({ type: 'open', attempt: 0, handshakeMs: 0 });
    rime.close();
    await until(() => server.connectionCount === 0);
  }, 20_000);

  it('without a rimeConnection(), on /ws3 the conversation\'s connection closed idle between replies is opened again at once: the next turn waits for none', async () => {
    upgrades = 0;
    const replies = new Subject<string>();
    const events = lastValueFrom(
      replies.pipe(
        map((reply) => from([reply])),
        rimeTurns({ speaker: 'cove', audioFormat: 'pcm', apiKey: 'test', url: server.urls.ws3, protocol: 'ws3' }),
        toArray(),
      ),
    );
    replies.next('Before the pause.');
    await until(() => upgrades >= 2); // closed idle after 1.2 s, and opened again
    await new Promise((resolve) => setTimeout(resolve, 300));
    replies.next('After the pause.');
    replies.complete();
    const all = await events;
    const dones = all.flatMap((event) => (event.type === 'done' ? [event.metrics] : []));
    expect(dones[1]).toMatchObject({ connectionReused: true, handshakeMs: 0 });
    const turn1 = Buffer.concat(all.flatMap((event) => (event.type === 'audio' && event.turn === 1 ? [event.bytes] : [])));
    expect(decodeTestSpeech(turn1).text).toBe('After the pause.');
    await until(() => server.connectionCount === 0);
  }, 20_000);
});

async function until(check: () => boolean): Promise<void> {
  for (let waited = 0; !check(); waited += 5) {
    if (waited > 10_000) throw new Error('timed out waiting');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
