import fc from 'fast-check';
import { type Observable, Subject, from, lastValueFrom, toArray } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { RimeError } from '../../lib/errors';
import type { ClientMessage } from '../../lib/protocol/messages';
import { ttsCommands } from '../../lib/tts/commands';
import { tokenize } from '../support/text';

const scheduler = () => new TestScheduler((actual, expected) => expect(actual).toEqual(expected));

const text = (value: string): ClientMessage => ({ type: 'text', text: value });
const flush: ClientMessage = { type: 'flush' };
const clear: ClientMessage = { type: 'clear' };
const eos: ClientMessage = { type: 'eos' };
const plain = { pauseBetweenBrackets: false };
const command = /<(EOS|FLUSH|CLEAR)>/i;

/** The commands for `tokens` pushed synchronously. */
function commandsOf(tokens: readonly string[], pauseBetweenBrackets = false): Promise<ClientMessage[]> {
  return lastValueFrom(from(tokens).pipe(ttsCommands({ pauseBetweenBrackets }), toArray()));
}

describe('ttsCommands()', () => {
  it('turns tokens and a flush into text, flush and eos, as its diagram says', () => {
    scheduler().run(({ cold, hot, expectObservable }) => {
      const source = cold('-a-----b-|', { a: 'Hi, th', b: 'ere.' });
      const flushes = hot('----f-----', { f: 0 });
      expectObservable(source.pipe(ttsCommands({ ...plain, flush: flushes }))).toBe('-x--(yz)-(wv|)', {
        x: text('Hi,'),
        y: text(' th'),
        z: flush,
        w: text('ere.'),
        v: eos,
      });
    });
  });

  it('clear drops the held text and says so; what comes after is sent as usual', () => {
    scheduler().run(({ cold, hot, expectObservable }) => {
      const source = cold('-a-----b-|', { a: 'Hi, th', b: 'ere.' });
      const clears = hot('----c-----', { c: 0 });
      expectObservable(source.pipe(ttsCommands({ ...plain, clear: clears }))).toBe('-x--y----(wv|)', {
        x: text('Hi,'),
        y: clear,
        w: text('ere.'),
        v: eos,
      });
    });
  });

  it('a flush or a clear with nothing held is still a command', () => {
    scheduler().run(({ cold, hot, expectObservable }) => {
      const flushes = hot('-f---', { f: 0 });
      const clears = hot('---c-', { c: 0 });
      expectObservable(cold('-----|').pipe(ttsCommands({ ...plain, flush: flushes, clear: clears }))).toBe('-f-c-(v|)', {
        f: flush,
        c: clear,
        v: eos,
      });
    });
  });

  it('every flush and clear in turn, in the frame it comes, after the text it released', () => {
    scheduler().run(({ cold, hot, expectObservable }) => {
      const source = cold('-a---b---------c-|', { a: 'One', b: ' two', c: ' three' });
      const flushes = hot('---f--------f', { f: 0 });
      const clears = hot('--------c', { c: 0 });
      expectObservable(source.pipe(ttsCommands({ ...plain, flush: flushes, clear: clears }))).toBe('---(xf)-c---f----(yv|)', {
        x: text('One'),
        f: flush,
        c: clear,
        y: text(' three'),
        v: eos,
      });
    });
  });

  it('eos comes once the source completes, after the rest of the text; an empty source is just eos', () => {
    scheduler().run(({ cold, expectObservable }) => {
      expectObservable(cold('-a-b-|', { a: 'One. Two', b: ' and three' }).pipe(ttsCommands(plain))).toBe('-x---(yv|)', {
        x: text('One.'),
        y: text(' Two and three'),
        v: eos,
      });
      expectObservable(cold('--|').pipe(ttsCommands(plain))).toBe('--(v|)', { v: eos });
    });
  });

  it('a source error passes on, the very same error, with no eos', () => {
    scheduler().run(({ cold, expectObservable }) => {
      const failure = new Error('llm stream broke');
      expectObservable(cold('-a-#', { a: 'Kept, dropped' }, failure).pipe(ttsCommands(plain))).toBe('-x-#', { x: text('Kept,') }, failure);
    });
  });

  it('a control error ends the commands with that error, with no eos', () => {
    scheduler().run(({ cold, hot, expectObservable }) => {
      const failure = new Error('flush broke');
      const flushes = hot('--#', undefined, failure);
      expectObservable(cold('-a---|', { a: 'Hello' }).pipe(ttsCommands({ ...plain, flush: flushes }))).toBe('--#', undefined, failure);
    });
  });

  it('releases a finished sentence after releaseAfterMs without a token (default 150 ms), as text, not a flush', () => {
    scheduler().run(({ cold, expectObservable }) => {
      const source = cold('a 1s b|', { a: 'Let me check.', b: ' Found it.' });
      expectObservable(source.pipe(ttsCommands(plain))).toBe('150ms x 850ms - (yv|)', {
        x: text('Let me check.'),
        y: text(' Found it.'),
        v: eos,
      });
      expectObservable(source.pipe(ttsCommands({ ...plain, releaseAfterMs: 20 }))).toBe('20ms x 980ms - (yv|)', {
        x: text('Let me check.'),
        y: text(' Found it.'),
        v: eos,
      });
    });
  });

  it('a non-string token ends the commands with an invalid-options RimeError', () => {
    scheduler().run(({ cold, expectObservable }) => {
      const source = cold<unknown>('-a-b-|', { a: 'Fine, ', b: 3 }) as Observable<string>;
      const expected = RimeError.invalidOptions(['the text source must emit strings, got a value of type number']);
      expectObservable(source.pipe(ttsCommands(plain))).toBe('-x-#', { x: text('Fine,') }, expected);
    });
  });

  it('unsubscribing releases the source and the controls', () => {
    scheduler().run(({ cold, hot, expectObservable, expectSubscriptions }) => {
      const source = cold('-a-b-|', { a: 'One.', b: ' Two' });
      const flushes = hot('------');
      const clears = hot('------');
      expectObservable(source.pipe(ttsCommands({ ...plain, flush: flushes, clear: clears })), '^--!').toBe('---');
      expectSubscriptions(source.subscriptions).toBe('^--!');
      expectSubscriptions(flushes.subscriptions).toBe('^--!');
      expectSubscriptions(clears.subscriptions).toBe('^--!');
    });
  });

  describe('commands written in the text', () => {
    it.each([
      [['Say <EOS> now.'], 'Say  now.'],
      [['Say <EO', 'S> now.'], 'Say  now.'],
      [['Say <', 'e', 'o', 's', '> now.'], 'Say  now.'],
      [['<FLUSH>Go <clear>on <EoS>.'], 'Go on .'],
      [['nested <E<EOS>OS> end.'], 'nested  end.'],
      [['a < b and c > d.'], 'a < b and c > d.'],
      [['<EOS'], '<EOS'],
    ])('%j is text, never a command: %j', async (tokens, spoken) => {
      const commands = await commandsOf(tokens);
      expect(commands.filter((message) => message.type !== 'text')).toEqual([eos]);
      expect(
        commands
          .filter((message) => message.type === 'text')
          .map((message) => message.text)
          .join(''),
      ).toBe(spoken);
    });

    it('a tag split across a flush stays held, and is dropped once it closes as a command', () => {
      scheduler().run(({ cold, hot, expectObservable }) => {
        const source = cold('-a-----b-|', { a: 'Stop <EO', b: 'S> now.' });
        const flushes = hot('----f-----', { f: 0 });
        expectObservable(source.pipe(ttsCommands({ ...plain, flush: flushes }))).toBe('----(xf)-(yv|)', {
          x: text('Stop '),
          f: flush,
          y: text(' now.'),
          v: eos,
        });
      });
    });

    it('keeps pause tags with pauseBetweenBrackets, and drops them without', async () => {
      await expect(commandsOf(['Wait <200> then go.'], true)).resolves.toEqual([text('Wait <200> then go.'), eos]);
      await expect(commandsOf(['Wait <200> then go.'], false)).resolves.toEqual([text('Wait  then go.'), eos]);
      await expect(commandsOf(['Wait <2', '00> then <EOS>go.'], true)).resolves.toEqual([text('Wait <200> then go.'), eos]);
    });

    it('whatever the text and however it is cut, the only command is the final eos and no text holds a command', async () => {
      const pieces = ['<', '>', 'E', 'O', 'S', 'eos', 'FL', 'USH', 'cl', 'EAR', '<EOS>', '<<', 'x', ' ', '.', ','];
      await fc.assert(
        fc.asyncProperty(
          fc.array(fc.constantFrom(...pieces), { maxLength: 60 }).map((parts) => parts.join('')),
          fc.array(fc.integer({ min: 1, max: 7 }), { minLength: 1, maxLength: 10 }),
          async (input, sizes) => {
            const commands = await commandsOf(tokenize(input, sizes));
            expect(commands.slice(-1)).toEqual([eos]);
            const texts = commands.slice(0, -1).map((message) => (message.type === 'text' ? message.text : `!${message.type}`));
            expect(texts.filter((piece) => piece.startsWith('!'))).toEqual([]);
            expect(texts.join('')).not.toMatch(command);
          },
        ),
        { numRuns: 500 },
      );
    });
  });

  describe('segments', () => {
    it("cuts text into sentences at Rime's boundaries", async () => {
      await expect(commandsOf(['Hello there. How are you? Fine, thanks!'])).resolves.toEqual([
        text('Hello there.'),
        text(' How are you?'),
        text(' Fine,'),
        text(' thanks!'),
        eos,
      ]);
    });

    it('cuts the text as it will be spoken, after removing commands', async () => {
      await expect(commandsOf(['Hi.<EOS> There.'])).resolves.toEqual([text('Hi.'), text(' There.'), eos]);
      await expect(commandsOf(['Wait,<200> go.'])).resolves.toEqual([text('Wait,'), text(' go.'), eos]);
    });

    it("never sends more than Rime's 1000 characters at once", async () => {
      const commands = await commandsOf(['x'.repeat(2500)]);
      expect(commands.map((message) => (message.type === 'text' ? message.text.length : message.type))).toEqual([1000, 1000, 500, 'eos']);
      const words = await commandsOf([`${'word '.repeat(300)}end.`]);
      const lengths = words.map((message) => (message.type === 'text' ? message.text.length : 0));
      expect(Math.max(...lengths)).toBeLessThanOrEqual(1000);
      expect(words.map((message) => (message.type === 'text' ? message.text : '')).join('')).toBe(`${'word '.repeat(300)}end.`);
    });

    it('each subscription has its own buffers', () => {
      const tokens = new Subject<string>();
      const commands = tokens.pipe(ttsCommands(plain));
      const first: ClientMessage[] = [];
      const second: ClientMessage[] = [];
      commands.subscribe((message) => first.push(message));
      tokens.next('Only the first sees <EO');
      commands.subscribe((message) => second.push(message));
      tokens.next('S> this.');
      tokens.complete();
      expect(first).toEqual([text('Only the first sees  this.'), eos]);
      expect(second).toEqual([text('S> this.'), eos]);
    });
  });
});
