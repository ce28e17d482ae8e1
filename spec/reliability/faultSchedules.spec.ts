import fc from 'fast-check';
import { from, lastValueFrom, toArray } from 'rxjs';
import { RimeError } from '../../lib/errors';
import { type RimeServer, createRimeServer } from '../../lib/server/createRimeServer';
import type { Fault } from '../../lib/server/faults';
import { llmTokens } from '../../lib/testing/llmTokens';
import { decodeTestSpeech } from '../../lib/testing/testVoiceCodec';
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

/** Whether `text` is a run of prefixes of `story`, each starting it over: what failed connections may have said. */
function isRunOfPrefixes(text: string): boolean {
  const fromHere = new Map<number, boolean>([[text.length, true]]);
  for (let start = text.length - 1; start >= 0; start--) {
    let ok = false;
    for (let length = 1; !ok && start + length <= text.length && text[start + length - 1] === story[length - 1]; length++) {
      ok = fromHere.get(start + length) === true;
    }
    fromHere.set(start, ok);
  }
  return fromHere.get(0) === true;
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
  ['the default retry policy (resetOnSuccess: true, progress resets the count)', { delay: 1 }],
  ['resetOnSuccess: false', { count: RETRIES, delay: 1, resetOnSuccess: false }],
] as const;

describe.each(policies)('randomized fault schedules, %s', (_, retry) => {
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
        const outcome = await lastValueFrom(
          from(llmTokens(story, { seed })).pipe(
            rimeTts({
              speaker: 'cove',
              audioFormat: 'pcm',
              samplingRate: 8000,
              apiKey: 'fault-suite',
              url: server.url,
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
        expect(spoken.text.endsWith(story)).toBe(true);
        const heardBefore = spoken.text.slice(0, spoken.text.length - story.length);
        expect(isRunOfPrefixes(heardBefore)).toBe(true);
        totals.sentencesChecked += sentences.length;
        totals.duplicatedCharacters += heardBefore.length;
        await new Promise((resolve) => setImmediate(resolve));
      }),
      { numRuns: SCHEDULES, seed: 20261127 },
    );
    expect(totals.schedules).toBe(SCHEDULES);
    process.stdout.write(
      `fault suite (${retry === policies[0][1] ? 'default retry policy' : 'resetOnSuccess: false'}): ${totals.schedules} schedules, ${totals.completed} completed, ${totals.failed} failed as expected, ` +
        `${totals.retries} retries, ${totals.sentencesChecked} sentences checked in order, ` +
        `${totals.duplicatedCharacters} duplicated characters (${(totals.duplicatedCharacters / Math.max(1, totals.completed)).toFixed(1)} per completed schedule)\n`,
    );
  }, 120_000);
});
