import { Subject, from, map } from 'rxjs';
import { type RimeServer, createRimeServer } from '../../lib/server/createRimeServer';
import { decodeTestSpeech } from '../../lib/server/voices/testVoiceCodec';
import { type Interruption, type TurnEvent, rimeTurns } from '../../lib/tts/rimeTurns';

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
    await until(() => events.some((event) => event.type === 'audio' && event.turn === 1));
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
