import fc from 'fast-check';
import { Subject, filter, from, lastValueFrom, toArray } from 'rxjs';
import { type RimeServer, createRimeServer } from '../../lib/server/createRimeServer';
import type { ServerEvent } from '../../lib/server/events';
import { FakeTransport } from '../../lib/testing/fakeTransport';
import { rimeTts } from '../../lib/tts/rimeTts';
import { tokenize } from '../support/text';

const command = /<(EOS|FLUSH|CLEAR)>/i;
const ourCommands = new Set(['<EOS>', '<FLUSH>', '<CLEAR>']);

/** Text an LLM might write, full of command tags and bracket markup, cut into tokens at random points. */
const hostileText = fc
  .array(fc.constantFrom('<EOS>', '<eos>', '<FLUSH>', '<Clear>', '<', '>', 'EO', 'S', 'FLU', 'SH', '<20', '0>', '<200>', '{h@loU}', 'word ', '. ', ', ', '?'), {
    maxLength: 30,
  })
  .map((parts) => parts.join(''));
const cuts = fc.array(fc.integer({ min: 1, max: 6 }), { minLength: 1, maxLength: 10 });

/** No command in any text frame, nor across consecutive text frames; command frames only as the client means them. */
function checkFrames(frames: readonly string[], pauses: boolean): void {
  let run = '';
  for (const frame of frames) {
    if (ourCommands.has(frame)) {
      run = '';
      continue;
    }
    run += frame;
    expect(run).not.toMatch(command);
    if (!pauses) expect(run).not.toMatch(/<\d+>/);
  }
  // `<EOS>` once, last, when there was text to end; a stream with nothing to say completes without a connection's worth.
  const spoke = frames.some((frame) => !ourCommands.has(frame));
  expect(frames.filter((frame) => frame === '<EOS>')).toHaveLength(spoke ? 1 : 0);
  if (spoke) expect(frames.at(-1)).toBe('<EOS>');
}

describe('text safety under fuzzing', () => {
  it('10,000 random token streams: no command reaches the socket unintended', () => {
    let streams = 0;
    fc.assert(
      fc.property(hostileText, cuts, fc.boolean(), (text, sizes, pauses) => {
        const fake = new FakeTransport((connection) => connection.open());
        const subscription = from(tokenize(text, sizes))
          .pipe(rimeTts({ speaker: 'cove', apiKey: 'fuzz', transport: fake.transport, pauseBetweenBrackets: pauses, prewarm: false }))
          .subscribe({ error: () => {} });
        checkFrames(fake.connections[0]?.frames ?? [], pauses);
        subscription.unsubscribe();
        streams++;
      }),
      { numRuns: 10_000, seed: 4242 },
    );
    expect(streams).toBe(10_000);
    process.stdout.write(`text safety: ${streams} fuzzed token streams checked at the socket seam\n`);
  });

  describe('checked at the server', () => {
    let server: RimeServer;
    beforeAll(async () => {
      server = await createRimeServer({ log: () => {} });
    });
    afterAll(() => server.close());

    it('300 random streams with flushes: the server sees only the commands the client sent', async () => {
      await fc.assert(
        fc.asyncProperty(hostileText, cuts, fc.array(fc.boolean(), { minLength: 1 }), async (text, sizes, flushAt) => {
          const seen: ServerEvent[] = [];
          const watching = server.events.pipe(filter((event) => event.type === 'text' || event.type === 'command')).subscribe((event) => seen.push(event));
          const tokens = new Subject<string>();
          const flush = new Subject<void>();
          const done = lastValueFrom(tokens.pipe(rimeTts({ speaker: 'cove', apiKey: 'fuzz', url: server.url, flush, prewarm: false, samplingRate: 4000, audioFormat: 'pcm' }), toArray()));
          let flushes = 0;
          tokenize(text, sizes).forEach((token, index) => {
            tokens.next(token);
            if (flushAt[index % flushAt.length] === true) {
              flush.next();
              flushes++;
            }
          });
          tokens.complete();
          await done;
          watching.unsubscribe();
          // Each flush ends its turn's connection with <EOS>: the frames are checked connection by connection.
          const byConnection = new Map<number, string[]>();
          for (const event of seen) {
            if (event.type !== 'text' && event.type !== 'command') continue;
            const frame = event.type === 'text' ? event.text : `<${event.command.toUpperCase()}>`;
            byConnection.set(event.connection, [...(byConnection.get(event.connection) ?? []), frame]);
          }
          byConnection.forEach((connectionFrames) => checkFrames(connectionFrames, false));
          const frames = [...byConnection.values()].flat();
          expect(seen.filter((event) => event.type === 'command' && event.command === 'clear')).toHaveLength(0);
          expect(seen.filter((event) => event.type === 'command' && event.command === 'flush').length).toBeLessThanOrEqual(flushes + frames.length);
        }),
        { numRuns: 300, seed: 77 },
      );
    }, 60_000);
  });
});
