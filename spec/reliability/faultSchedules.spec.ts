import fc from 'fast-check';
import { Observable, Subject, lastValueFrom, toArray } from 'rxjs';
import { RimeError } from '../../lib/errors';
import { type RimeServer, createRimeServer } from '../../lib/server/createRimeServer';
import type { Fault } from '../../lib/server/faults';
import { llmTokens } from '../../lib/testing/llmTokens';
import { decodeTestSpeech } from '../../lib/server/voices/testVoiceCodec';
import type { RimeEvent } from '../../lib/tts/events';
import { rimeTts } from '../../lib/tts/rimeTts';

const SCHEDULES = 200;
const RETRIES = 3;
const sentences = [
  'The first sentence starts the story.',
  ' Then a second one follows, with a clause!',
  ' Does the third one ask a question?',
  ' The fourth is short.',
  ' And the fifth ends it all.',
];
const story = sentences.join('');

/** The segments `rimeTts` cuts the story into (at `. , ? !` followed by whitespace). */
const segments = story.split(/(?<=[.,?!])(?=\s)/);

/**
 * Where, from `start`, a run of prefixes of `target` can end with the whole of it: what a turn's failed connections
 * may have said (each retry starts the turn over), then the turn. With `proper`, the prefixes before the whole must
 * be shorter than it: the whole is said once.
 */
function endsOfRun(text: string, start: number, target: string, proper: boolean): Set<number> {
  const ends = new Set<number>();
  const seen = new Set<number>();
  const positions = [start];
  for (let at = positions.pop(); at !== undefined; at = positions.pop()) {
    if (seen.has(at)) continue;
    seen.add(at);
    for (let length = 1; at + length <= text.length && text[at + length - 1] === target[length - 1]; length++) {
      if (length === target.length) ends.add(at + length);
      if (!proper || length < target.length) positions.push(at + length);
    }
  }
  return ends;
}

/**
 * Whether `text` is each turn in order, each preceded only by prefixes of itself: no replay reaches an earlier turn.
 * With `proper`, no turn is said whole twice.
 */
function isTurnsWithReplays(text: string, turns: readonly string[], proper = false): boolean {
  let reached = new Set([0]);
  for (const turn of turns) reached = new Set([...reached].flatMap((start) => [...endsOfRun(text, start, turn, proper)]));
  return reached.has(text.length);
}

/** A fault that fails the connection it strikes. */
const failure: fc.Arbitrary<Fault> = fc.oneof(
  fc.integer({ min: 0, max: 60_000 }).map((afterBytes) => ({ kind: 'drop' as const, afterBytes })),
  fc.record({
    kind: fc.constant('close' as const),
    code: fc.constantFrom(1011, 1012, 1013),
    reason: fc.constantFrom('internal error', 'service restart', 'try again later'),
    afterBytes: fc.integer({ min: 0, max: 60_000 }),
  }),
  fc.record({ kind: fc.constant('refuse' as const), status: fc.constantFrom(503, 502, 429), body: fc.constant('unavailable') }),
  fc.integer({ min: 0, max: 60_000 }).map((afterBytes) => ({ kind: 'stall' as const, afterBytes })),
);

/**
 * A schedule: the faults of consecutive connections, up to one more than the retries allow (to see the error), and
 * when the retries suffice, maybe a slow link for the connection that finally succeeds (so every fault is used).
 */
const schedule = fc
  .tuple(fc.array(failure, { minLength: 1, maxLength: RETRIES + 1 }), fc.boolean())
  .map(([failures, slowLink]): Fault[] =>
    slowLink && failures.length <= RETRIES ? [...failures, { kind: 'slow', bytesPerSecond: 4_000_000 }] : failures,
  );

/**
 * The retry policies the suite runs under: the defaults a user gets (only the deadlines are shortened, so that 200
 * schedules with stalls fit in the suite's time), and one that never forgets a failure.
 */
const policies = [
  ['the default retry policy (resetOnSuccess: true, progress resets the count)', { delay: 1 }, false, 'ws'],
  ['resetOnSuccess: false', { count: RETRIES, delay: 1, resetOnSuccess: false }, false, 'ws'],
  ['the default retry policy, a flush after every sentence (five turns, a connection each)', { delay: 1 }, true, 'ws'],
  ['/ws3, the default retry policy (a retry says again only the segments not done)', { delay: 1 }, false, 'ws3'],
  ['/ws3, the default retry policy, a flush after every sentence (five turns on one connection)', { delay: 1 }, true, 'ws3'],
] as const;

/** The story's tokens, and with `turns` a flush after each sentence's, as an agent ends its turns. */
function tokensOf(seed: number, turns: boolean): { readonly text: Observable<string>; readonly flush: Subject<void> } {
  const flush = new Subject<void>();
  const text = new Observable<string>((subscriber) => {
    for (const sentence of turns ? sentences : [story]) {
      llmTokens(sentence, { seed }).forEach((token) => subscriber.next(token));
      if (turns) flush.next();
    }
    subscriber.complete();
  });
  return { text, flush };
}

describe.each(policies)('randomized fault schedules, %s', (name, retry, turns, protocol) => {
  let server: RimeServer;
  beforeAll(async () => {
    server = await createRimeServer({ log: () => {} });
  });
  afterAll(() => server.close());

  it(`${SCHEDULES} schedules: every sentence in order, duplicates only of what was heard, the right error when retries run out`, async () => {
    const totals = { schedules: 0, completed: 0, failed: 0, sentencesChecked: 0, duplicatedCharacters: 0, retries: 0 };
    await fc.assert(
      fc.asyncProperty(schedule, fc.integer(), async (faults, seed) => {
        faults.forEach((each) => server.inject(each));
        const events: RimeEvent[] = [];
        const failing = faults.filter((each) => each.kind !== 'slow').length;
        const { text, flush } = tokensOf(seed, turns);
        const outcome = await lastValueFrom(
          text.pipe(
            rimeTts({
              flush,
              speaker: 'cove',
              audioFormat: 'pcm',
              samplingRate: 8000,
              apiKey: 'fault-suite',
              url: server.urls[protocol],
              protocol,
              eosTimeoutMs: 150,
              audioTimeoutMs: 150,
              retry,
              events: { next: (event) => events.push(event) },
            }),
            toArray(),
          ),
        ).then(
          (chunks) => ({ audio: Buffer.concat(chunks) }),
          (error: unknown) => ({ error }),
        );
        totals.schedules++;
        totals.retries += events.filter((event) => event.type === 'retry').length;
        if ('error' in outcome) {
          // Only a schedule with more failing connections than retries may end in an error, and it is Rime's; it ends
          // after exactly RETRIES retries when no failing connection got further than the one before it.
          totals.failed++;
          expect(failing).toBeGreaterThan(RETRIES);
          expect(events.filter((event) => event.type === 'retry').length).toBeGreaterThanOrEqual(RETRIES);
          expect(outcome.error).toBeInstanceOf(RimeError);
          expect((outcome.error as RimeError).retryable).toBe(true);
          return;
        }
        totals.completed++;
        const spoken = decodeTestSpeech(outcome.audio);
        // A failed connection's audio may end inside a character's header: at most one unreadable block per cut.
        expect(spoken.corruptBlocks).toBeLessThanOrEqual(events.filter((event) => event.type === 'retry').length);
        expect(isTurnsWithReplays(spoken.text, turns ? sentences : [story])).toBe(true);
        // On /ws3 a retry says again only what Rime had not finished: each segment is heard whole once, at most
        // a part of the one a fault cut before it.
        if (protocol === 'ws3') expect(isTurnsWithReplays(spoken.text, segments, true)).toBe(true);
        totals.sentencesChecked += sentences.length;
        totals.duplicatedCharacters += spoken.text.length - story.length;
        await new Promise((resolve) => setImmediate(resolve));
      }),
      { numRuns: SCHEDULES, seed: 20261127 },
    );
    expect(totals.schedules).toBe(SCHEDULES);
    process.stdout.write(
      `fault suite (${name}): ${totals.schedules} schedules, ${totals.completed} completed, ${totals.failed} failed as expected, ` +
        `${totals.retries} retries, ${totals.sentencesChecked} sentences checked in order, ` +
        `${totals.duplicatedCharacters} duplicated characters (${(totals.duplicatedCharacters / Math.max(1, totals.completed)).toFixed(1)} per completed schedule)\n`,
    );
  }, 120_000);
});
