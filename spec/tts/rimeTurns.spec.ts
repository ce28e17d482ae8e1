import { Subject, asyncScheduler, from, map, tap } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { jsonWire } from '../../lib/protocol/json';
import { FakeTransport } from '../../lib/testing/fakeTransport';
import { type RimeServer, createRimeServer } from '../../lib/server/createRimeServer';
import { decodeTestSpeech } from '../../lib/server/voices/testVoiceCodec';
import { type Interruption, type TurnEvent, rimeTurns } from '../../lib/tts/rimeTurns';
import { answering } from '../support/ws3Fake';

const until = async (check: () => boolean) => {
  while (!check()) await new Promise((resolve) => setTimeout(resolve, 5));
};
const audioOf = (events: readonly TurnEvent[], turn: number) =>
  Buffer.concat(events.flatMap((event) => (event.type === 'audio' && event.turn === turn ? [event.bytes] : [])));

describe.each(['ws', 'ws3'] as const)('rimeTurns() against the local server (protocol %s)', (protocol) => {
  let server: RimeServer;
  let opened = 0;
  beforeAll(async () => {
    server = await createRimeServer({ log: () => {}, realTimeFactor: 0.1 });
    server.events.subscribe((event) => event.type === 'open' && opened++);
  });
  afterAll(() => server.close());

  /** A conversation: replies pushed by the test, barge-ins too, every event recorded. */
  function conversation() {
    const replies = new Subject<readonly string[]>();
    const clear = new Subject<Interruption>();
    const events: TurnEvent[] = [];
    const done = new Promise<void>((resolve, reject) =>
      replies
        .pipe(
          map((tokens) => from(tokens)),
          rimeTurns({ speaker: 'cove', audioFormat: 'pcm', apiKey: 'test', url: server.urls[protocol], protocol, clear }),
        )
        .subscribe({ next: (event) => events.push(event), complete: resolve, error: reject }),
    );
    return { replies, clear, events, done };
  }

  it('speaks the replies in order, each its own turn with its audio and a done with its metrics', async () => {
    opened = 0;
    const { replies, events, done } = conversation();
    replies.next(['Hello there. ', 'How can I help?']);
    replies.next(['Your order shipped.']);
    replies.next(['   ']); // a reply with nothing to say is no turn
    replies.next(['Goodbye!']);
    replies.complete();
    await done;
    expect(decodeTestSpeech(audioOf(events, 0)).text).toBe('Hello there. How can I help?');
    expect(decodeTestSpeech(audioOf(events, 1)).text).toBe('Your order shipped.');
    expect(decodeTestSpeech(audioOf(events, 3)).text).toBe('Goodbye!');
    const dones = events.filter((event) => event.type === 'done');
    expect(dones.map((event) => event.turn)).toEqual([0, 1, 3]);
    const first = dones[0]?.type === 'done' ? dones[0].metrics : undefined;
    expect(first).toMatchObject({ charactersSent: 'Hello there. How can I help?'.length, charactersBilled: 'Hello there. How can I help?'.length, retries: 0 });
    expect(first?.audioSeconds).toBeCloseTo(audioOf(events, 0).length / 2 / 22050, 6);
    expect(first?.firstAudioMs).toBeGreaterThanOrEqual(0);
    // Every event of a turn comes before the next turn's first.
    const order = events.map((event) => event.turn);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    // /ws3: one connection for the conversation; /ws: one per turn.
    expect(opened).toBe(protocol === 'ws3' ? 1 : 3);
  });

  it('a barge-in: the reply being read is dropped (none of it leaks into the next turn), no stale byte, the next starts at once', async () => {
    const { replies, clear, events, done } = conversation();
    const tokens = new Subject<string>();
    replies.next(['First turn, spoken whole.']);
    replies.next(tokens as unknown as readonly string[]);
    await until(() => events.some((event) => event.type === 'done' && event.turn === 0));
    tokens.next('The second turn is long enough to be interrupted while it is spoken, ');
    // The player has heard 400 ms of the turn: as much has come (pcm at 22,050 Hz: 17,640 bytes).
    await until(() => audioOf(events, 1).length >= 17_640);
    clear.next({ playedMs: 400 });
    tokens.next('and this part, after the barge-in, must never be spoken.');
    replies.next(['Third.']);
    replies.complete();
    await done;
    const interrupted = events.find((event) => event.type === 'interrupted');
    expect(interrupted).toMatchObject({ type: 'interrupted', turn: 1, playedMs: 400 });
    if (protocol === 'ws3') {
      // 400 ms of the test voice at 60 ms a character: "The sec" started, so the words heard are "The second".
      expect(interrupted).toMatchObject({ heard: 'The second', notHeard: 'turn is long enough to be interrupted while it is spoken,' });
    } else {
      expect(interrupted?.type === 'interrupted' && interrupted.heard).toBeUndefined();
    }
    const afterInterruption = events.slice(events.indexOf(interrupted as TurnEvent) + 1);
    expect(afterInterruption.filter((event) => event.turn === 1)).toEqual([]);
    expect(decodeTestSpeech(audioOf(events, 2)).text).toBe('Third.');
    expect(decodeTestSpeech(Buffer.concat(events.flatMap((event) => (event.type === 'audio' ? [event.bytes] : [])))).text).not.toContain('never');
    expect(events.filter((event) => event.type === 'done').map((event) => event.turn)).toEqual([0, 2]);
  });
});

describe('rimeTurns() with a fake /ws3 transport (marbles)', () => {
  const scheduler = () => new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
  // pcm at 8 kHz: 16,000 bytes a second of audio, which the fakes below size their chunks by.
  const config = (fake: FakeTransport, extra = {}) => ({ speaker: 'cove', apiKey: 'k', audioFormat: 'pcm' as const, samplingRate: 8000, protocol: 'ws3' as const, transport: fake.transport, ...extra });
  const brief = (event: TurnEvent) => (event.type === 'audio' ? `a${event.turn}` : event.type === 'words' ? `w${event.turn}` : `${event.type[0]}${event.turn}`);

  /** Every event, with the virtual time it came at. */
  const timeline = (events: ReturnType<typeof rimeTurns> extends (source: never) => infer O ? O : never) => {
    const seen: string[] = [];
    events.subscribe((event) => seen.push(`${asyncScheduler.now()}:${brief(event)}`));
    return seen;
  };

  it('speaks the replies in order, each a turn: its words, audio and done before the next', () => {
    scheduler().run(({ cold, flush }) => {
      const fake = answering({ words: true, bytesPerSecond: 16_000 });
      const replies = cold('r---s|', { r: cold('a|', { a: 'One. ' }), s: cold('b|', { b: 'Two. ' }) });
      const seen = timeline(replies.pipe(rimeTurns(config(fake))));
      flush();
      // Each reply's text goes at its end (nothing decides "One." sooner), and is answered a frame later.
      expect(seen).toEqual(['2:w0', '2:a0', '2:d0', '6:w1', '6:a1', '6:d1']);
      expect(fake.connections).toHaveLength(1);
    });
  });

  it('every turn whose text waited for the upgrade says how long it waited; a turn after it waited for none', () => {
    scheduler().run(({ cold, flush }) => {
      const fake = answering({ handshake: 5 });
      const replies = cold('rs--------t|', { r: cold('a|', { a: 'First. ' }), s: cold('b|', { b: 'Second. ' }), t: cold('c|', { c: 'Third. ' }) });
      const events: TurnEvent[] = [];
      replies.pipe(rimeTurns(config(fake))).subscribe((event) => events.push(event));
      flush();
      const metrics = events.flatMap((event) => (event.type === 'done' ? [[event.turn, event.metrics.handshakeMs, event.metrics.connectionReused]] : []));
      // Turn 0's text was given at 1 (its reply's end), turn 1's at 2: the upgrade came at 5.
      expect(metrics).toEqual([
        [0, 4, false],
        [1, 3, false],
        [2, 0, true],
      ]);
    });
  });

  it('a barge-in stops the agent: the turn being spoken, and the replies queued behind it (read or not), are each interrupted', () => {
    scheduler().run(({ cold, hot, flush, expectSubscriptions }) => {
      const fake = answering({ words: true, bytesPerSecond: 16_000 });
      const reading = cold('b---|', { b: 'Read and queued. Still' });
      const unread = cold('c|', { c: 'Queued, never read. ' });
      const replies = cold('rst---u|', { r: cold('a|', { a: 'Being spoken now. ' }), s: reading, t: unread, u: cold('d|', { d: 'After it. ' }) });
      // Turn 0's audio has all come (at 2), but the player is still in it: the barge-in says so.
      const clear = hot('---x', { x: { playedMs: 0, turn: 0 } });
      const events: TurnEvent[] = [];
      const seen = timeline(replies.pipe(rimeTurns(config(fake, { clear })), tap((event) => events.push(event))));
      flush();
      expectSubscriptions(reading.subscriptions).toBe('-^-!');
      expect(unread.subscriptions).toEqual([]); // emitted before the barge-in: never subscribed to
      expect(events.filter((event) => event.type === 'interrupted')).toEqual([
        { type: 'interrupted', turn: 0, playedMs: 0, heard: '', notHeard: 'Being spoken now.' },
        { type: 'interrupted', turn: 1, playedMs: undefined, heard: '', notHeard: 'Read and queued. Still' },
        { type: 'interrupted', turn: 2, playedMs: undefined, heard: '' },
      ]);
      // Turn 0 is answered at 2 (sent at its end, 1); the reply after the barge-in is sent at its end (7), answered at 8.
      expect(seen).toEqual(['2:w0', '2:a0', '2:d0', '2:w1', '2:a1', '3:i0', '3:i1', '3:i2', '8:w3', '8:a3', '8:d3']);
      expect(fake.connections[0]?.messages.filter((message) => message.type === 'text').map((message) => message.type === 'text' && message.text)).toEqual([
        'Being spoken now.',
        'Read and queued.',
        'After it.',
      ]);
    });
  });

  it('a barge-in also ends the turns the player had not reached (their audio all come), and a reply whose text is still held', () => {
    scheduler().run(({ cold, hot, flush }) => {
      const fake = answering({ words: true, bytesPerSecond: 16_000 });
      const replies = cold('rs-t', { r: cold('a|', { a: 'One two. ' }), s: cold('b|', { b: 'Three four. ' }), t: cold('c', { c: 'Let me think about ' }) });
      // Turns 0 and 1 have all come by 3; the player is still in turn 0 (at 0.7 s) when the listener speaks, at 5.
      const clear = hot('-----x', { x: { playedMs: 700, turn: 0 } });
      const events: TurnEvent[] = [];
      replies.pipe(rimeTurns(config(fake, { clear }))).subscribe((event) => events.push(event));
      flush();
      expect(events.filter((event) => event.type === 'interrupted')).toEqual([
        { type: 'interrupted', turn: 0, playedMs: 700, heard: 'One two.', notHeard: '' },
        { type: 'interrupted', turn: 1, playedMs: undefined, heard: '', notHeard: 'Three four.' },
        { type: 'interrupted', turn: 2, playedMs: undefined, heard: '', notHeard: 'Let me think about' },
      ]);
    });
  });

  it('a clear mid-turn: the reply being read is unsubscribed at once, interrupted with the words heard, the next reply at once', () => {
    scheduler().run(({ cold, hot, flush, expectSubscriptions }) => {
      const fake = answering({ words: true, bytesPerSecond: 16_000 });
      const first = cold('a-----b|', { a: 'Hello there friend. More', b: ' never said. ' });
      const replies = cold('r---s|', { r: first, s: cold('c|', { c: 'Next. ' }) });
      const clear = hot('---x', { x: { playedMs: 700 } });
      const events: TurnEvent[] = [];
      const seen = timeline(replies.pipe(rimeTurns(config(fake, { clear })), tap((event) => events.push(event))));
      flush();
      expectSubscriptions(first.subscriptions).toBe('^--!');
      // "Hello there friend." is sent at once ("More" decides it) and answered at 1, but the reply is still being read:
      // the clear at 3 interrupts its turn (no done), and the reply after it (at 4) starts at once: sent when it
      // completes, at 5, answered at 6.
      expect(seen).toEqual(['1:w0', '1:a0', '3:i0', '6:w1', '6:a1', '6:d1']);
      expect(events.find((event) => event.type === 'interrupted')).toEqual({ type: 'interrupted', turn: 0, playedMs: 700, heard: 'Hello there', notHeard: 'friend. More' });
      expect(fake.connections[0]?.messages.filter((message) => message.type === 'text').map((message) => message.type === 'text' && message.text)).toEqual(['Hello there friend.', 'Next.']);
    });
  });

  it('a clear while a turn is spoken: interrupted, with the words heard up to playedMs and the rest of the reply', () => {
    scheduler().run(({ cold, hot, flush }) => {
      // A server slower to finish: the done comes two frames after the audio.
      const fake = new FakeTransport((connection) => {
        connection.open((message) => {
          if (message.type !== 'text') return;
          const { contextId } = message;
          const words = message.text.trim().split(/\s+/).map((word, index) => ({ word, start: index * 0.5, end: index * 0.5 + 0.4 }));
          asyncScheduler.schedule(() => connection.send({ type: 'words', words, contextId: contextId ?? null }), 1);
          asyncScheduler.schedule(() => connection.audio(new Uint8Array(words.length * 0.5 * 16_000), contextId), 1);
          asyncScheduler.schedule(() => connection.live && connection.send({ type: 'done', contextId: contextId ?? null }), 5);
        });
      }, jsonWire);
      const replies = cold('r|', { r: cold('a-----|', { a: 'One two three four. Five' }) });
      const clear = hot('---x', { x: { playedMs: 1200 } });
      const events: TurnEvent[] = [];
      replies.pipe(rimeTurns(config(fake, { clear }))).subscribe((event) => events.push(event));
      flush();
      expect(events.find((event) => event.type === 'interrupted')).toEqual({
        type: 'interrupted',
        turn: 0,
        playedMs: 1200,
        heard: 'One two three',
        notHeard: 'four. Five',
      });
      expect(events.some((event) => event.type === 'done')).toBe(false);
    });
  });
});
