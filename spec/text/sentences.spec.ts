import fc from 'fast-check';
import { EMPTY, Subject, from, lastValueFrom, of, toArray } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { RimeError } from '../../lib/errors';
import { sentences } from '../../lib/text/sentences';
import { llmTokens } from '../../lib/testing/llmTokens';
import { tokenize } from '../support/text';

const scheduler = () => new TestScheduler((actual, expected) => expect(actual).toEqual(expected));

/** Segments of `tokens` pushed synchronously through `sentences(config)`. */
function segment(tokens: readonly string[], config: Parameters<typeof sentences>[0] = {}): Promise<string[]> {
  return lastValueFrom(from(tokens).pipe(sentences(config), toArray()));
}

describe('sentences()', () => {
  describe('timing', () => {
    it('emits a segment in the frame whose token completes it, even mid-token', () => {
      scheduler().run(({ cold, expectObservable }) => {
        const source = cold('-a-b-|', { a: 'Hi', b: ', there' });
        expectObservable(source.pipe(sentences())).toBe('---x-(y|)', { x: 'Hi,', y: ' there' });
      });
    });

    it('holds a period until the next non-whitespace character arrives', () => {
      scheduler().run(({ cold, expectObservable }) => {
        const source = cold('-a-b-c-d-|', { a: 'Hello.', b: ' ', c: '\n', d: 'World' });
        expectObservable(source.pipe(sentences())).toBe('-------x-(y|)', { x: 'Hello.', y: ' \nWorld' });
      });
    });

    it('emits "?", "!" and "," as soon as whitespace follows, without waiting for the next word', () => {
      scheduler().run(({ cold, expectObservable }) => {
        const source = cold('-a-b-c-|', { a: 'Really?', b: ' Yes!', c: ' ' });
        expectObservable(source.pipe(sentences())).toBe('---x-y-|', { x: 'Really?', y: ' Yes!' });
      });
    });

    it('keeps a boundary at the end of a token undecided until the next token (3. vs 3.14)', () => {
      scheduler().run(({ cold, expectObservable }) => {
        const source = cold('-a-b-c-|', { a: 'Pi is 3.', b: '14. Yes', c: ' it is.' });
        expectObservable(source.pipe(sentences())).toBe('---x---(y|)', { x: 'Pi is 3.14.', y: ' Yes it is.' });
      });
    });

    describe('release after a pause (releaseAfterMs, default 150)', () => {
      it('sends a finished sentence once no token has come for 150 ms: a tool call does not hold it', () => {
        scheduler().run(({ cold, expectObservable }) => {
          const source = cold('a 2s b|', { a: 'Let me check that for you.', b: ' Found it.' });
          expectObservable(source.pipe(sentences())).toBe('150ms x 1851ms (y|)', { x: 'Let me check that for you.', y: ' Found it.' });
        });
      });

      it('counts the quiet time from the latest token; the whitespace after the sentence starts the next segment', () => {
        scheduler().run(({ cold, expectObservable }) => {
          const source = cold('a 99ms b 299ms c|', { a: 'Done.', b: ' ', c: 'Next.' });
          expectObservable(source.pipe(sentences())).toBe('250ms x 150ms (y|)', { x: 'Done.', y: ' Next.' });
        });
      });

      it('keeps 3.14 whole whenever the next token comes within the release time, and cuts it after a longer pause', () => {
        scheduler().run(({ cold, expectObservable }) => {
          const quick = cold('a 149ms b|', { a: 'Pi is 3.', b: '14.' });
          expectObservable(quick.pipe(sentences())).toBe('151ms (x|)', { x: 'Pi is 3.14.' });
          const slow = cold('a 199ms b|', { a: 'Pi is 3.', b: '14.' });
          expectObservable(slow.pipe(sentences())).toBe('150ms x 50ms (y|)', { x: 'Pi is 3.', y: '14.' });
        });
      });

      it('never releases what is not a sentence end whatever follows: Dr., e.g., an ellipsis', () => {
        scheduler().run(({ cold, expectObservable }) => {
          const source = cold('a 1s b 1s c 1s d|', { a: 'Call Dr.', b: ' Smith, e.g.', c: ' now. Wait...', d: ' ok' });
          expectObservable(source.pipe(sentences())).toBe('1001ms x 1000ms y 1001ms (z|)', {
            x: 'Call Dr. Smith,',
            y: ' e.g. now.',
            z: ' Wait... ok',
          });
        });
      });

      it('takes releaseAfterMs, and the timer goes with the subscription', () => {
        scheduler().run(({ cold, expectObservable }) => {
          const source = cold('a 1s b|', { a: 'Yes.', b: ' No.' });
          expectObservable(source.pipe(sentences({ releaseAfterMs: 40 }))).toBe('40ms x 961ms (y|)', { x: 'Yes.', y: ' No.' });
          expectObservable(source.pipe(sentences()), '^ 100ms !').toBe('');
        });
      });

      it('rejects a releaseAfterMs that no timer can honour', () => {
        expect(() => sentences({ releaseAfterMs: -1 })).toThrow(/releaseAfterMs must be an integer number of milliseconds from 0 to 2147483647, got -1/);
      });
    });

    it('flush emits what is held at once; clear drops it', () => {
      scheduler().run(({ cold, hot, expectObservable }) => {
        const source = cold('-a--b--c--d-|', { a: 'one two', b: ' three', c: ' four', d: ' five.' });
        const flush = hot('--f----------', { f: 0 });
        const clear = hot('-------c-----', { c: 0 });
        expectObservable(source.pipe(sentences({ flush, clear }))).toBe('--x---------(y|)', {
          x: 'one two',
          y: ' four five.',
        });
      });
    });

    it('a flush between the halves of a surrogate pair keeps the pair whole', () => {
      scheduler().run(({ cold, hot, expectObservable }) => {
        const source = cold('-a--b-|', { a: 'Look \ud83d', b: '\ude00 here' });
        const flush = hot('--f----');
        expectObservable(source.pipe(sentences({ flush }))).toBe('--x---(y|)', { x: 'Look ', y: '\ud83d\ude00 here' });
      });
    });

    it('flush on an empty or whitespace-only buffer emits nothing and keeps the whitespace', () => {
      scheduler().run(({ cold, hot, expectObservable }) => {
        const source = cold('-a--b-|', { a: 'Yes, ', b: 'no' });
        const flush = hot('f-f----', { f: 0 });
        expectObservable(source.pipe(sentences({ flush }))).toBe('-x----(y|)', { x: 'Yes,', y: ' no' });
      });
    });

    it('a flush in the same frame as a token sees the token when the token was scheduled first', () => {
      scheduler().run(({ hot, expectObservable }) => {
        const source = hot('-a-|', { a: 'now' });
        const flush = hot('-f--', { f: 0 });
        expectObservable(source.pipe(sentences({ flush }))).toBe('-x-|', { x: 'now' });
      });
    });

    it('on completion emits the remainder and drops trailing whitespace-only text', () => {
      scheduler().run(({ cold, expectObservable }) => {
        expectObservable(cold('-a-|', { a: 'no period' }).pipe(sentences())).toBe('---(x|)', { x: 'no period' });
        expectObservable(cold('-a-|', { a: 'Done. \n ' }).pipe(sentences())).toBe('---(x|)', { x: 'Done.' });
        expectObservable(cold('-a-|', { a: 'Done.' }).pipe(sentences())).toBe('---(x|)', { x: 'Done.' });
      });
    });

    it('on a source error drops the held text and passes the very same error on', () => {
      scheduler().run(({ cold, expectObservable }) => {
        const failure = new Error('llm stream broke');
        const source = cold('-a-b-#', { a: 'Kept, ', b: 'dropped' }, failure);
        expectObservable(source.pipe(sentences())).toBe('-x---#', { x: 'Kept,' }, failure);
      });
    });

    it('an error from a control observable ends the stream with that error', () => {
      scheduler().run(({ cold, hot, expectObservable }) => {
        const failure = new Error('control broke');
        const flush = hot('---#', undefined, failure);
        expectObservable(cold('-a----|', { a: 'text' }).pipe(sentences({ flush }))).toBe('---#', undefined, failure);
      });
    });

    it('unsubscribing releases the source and every control at once', () => {
      scheduler().run(({ cold, hot, expectObservable, expectSubscriptions }) => {
        const source = cold('-a-b-c-|', { a: 'One. ', b: 'Two', c: '. Three' });
        const flush = hot('-------');
        const clear = hot('-------');
        expectObservable(source.pipe(sentences({ flush, clear })), '^--!').toBe('---');
        expectSubscriptions(source.subscriptions).toBe('^--!');
        expectSubscriptions(flush.subscriptions).toBe('^--!');
        expectSubscriptions(clear.subscriptions).toBe('^--!');
      });
    });

    it('releases the controls when the source completes or errors', () => {
      scheduler().run(({ cold, hot, expectObservable, expectSubscriptions }) => {
        const flush = hot('-----');
        expectObservable(cold('--|').pipe(sentences({ flush }))).toBe('--|');
        expectSubscriptions(flush.subscriptions).toBe('^-!');
      });
    });

    it('controls that complete change nothing', () => {
      scheduler().run(({ cold, expectObservable }) => {
        const source = cold('-a--|', { a: 'Hi there' });
        expectObservable(source.pipe(sentences({ flush: EMPTY, clear: EMPTY }))).toBe('----(x|)', { x: 'Hi there' });
      });
    });

    it('works with a synchronous source and synchronous controls', async () => {
      await expect(lastValueFrom(of('A cat.', ' Then').pipe(sentences({ flush: of(0), clear: of(0) }), toArray()))).resolves.toEqual([
        'A cat.',
        ' Then',
      ]);
    });

    it('each subscription has its own buffer', async () => {
      const tokens = new Subject<string>();
      const first: string[] = [];
      const second: string[] = [];
      const segmented = tokens.pipe(sentences());
      segmented.subscribe((s) => first.push(s));
      tokens.next('Only the first sees this');
      segmented.subscribe((s) => second.push(s));
      tokens.next('. Both see this. ');
      tokens.complete();
      expect(first).toEqual(['Only the first sees this.', ' Both see this.']);
      expect(second).toEqual(['.', ' Both see this.']);
    });
  });

  describe('rules', () => {
    const table: [string, string[]][] = [
      ['Hello there. How are you?', ['Hello there.', ' How are you?']],
      ['It costs $29.99, or 3.14 each.', ['It costs $29.99,', ' or 3.14 each.']],
      ['We sold 1,000 units. Then 2,500.', ['We sold 1,000 units.', ' Then 2,500.']],
      ['Mr. and Mrs. Smith met Dr. Jones on St. James St. today.', ['Mr. and Mrs. Smith met Dr. Jones on St. James St. today.']],
      ['Use a tool, e.g. a hammer, i.e. something hard.', ['Use a tool,', ' e.g. a hammer,', ' i.e. something hard.']],
      ['Apples, pears, etc. and more. Then etc. Next one.', ['Apples,', ' pears,', ' etc. and more.', ' Then etc.', ' Next one.']],
      ['She moved to the U.S. in 1999. It was cold.', ['She moved to the U.S. in 1999.', ' It was cold.']],
      ['J. R. R. Tolkien wrote it.', ['J. R. R. Tolkien wrote it.']],
      ['Open at 9 a.m. sharp. Close at 5 p.m. Bye.', ['Open at 9 a.m. sharp.', ' Close at 5 p.m. Bye.']],
      ['Wait... what? Well… fine.', ['Wait... what?', ' Well… fine.']],
      ['He said "Stop." Then he left.', ['He said "Stop."', ' Then he left.']],
      ["(This is an aside.) And 'quoted!' text.", ['(This is an aside.)', " And 'quoted!'", ' text.']],
      ['She said “Hi.” He smiled.', ['She said “Hi.”', ' He smiled.']],
      ['Visit https://example.com/a.b?x=1,2 or mail a.b@c.co.uk today.', ['Visit https://example.com/a.b?x=1,2 or mail a.b@c.co.uk today.']],
      ['What?! No way!! Really?', ['What?!', ' No way!!', ' Really?']],
      ['Line one.\nLine two.\n\nLine three.', ['Line one.', '\nLine two.', '\n\nLine three.']],
      ['Chapter 3. The end.', ['Chapter 3.', ' The end.']],
      ['  Leading space. ', ['  Leading space.']],
      ['Ünïcode sentence. Élan vital.', ['Ünïcode sentence.', ' Élan vital.']],
      ['Ends with a number 42. 7 more.', ['Ends with a number 42.', ' 7 more.']],
    ];

    it.each(table)('%j', async (text, expected) => {
      await expect(segment(llmTokens(text, { seed: 11 }))).resolves.toEqual(expected);
      await expect(segment([text])).resolves.toEqual(expected);
    });

    it('takes custom boundaries, e.g. sentence ends only', async () => {
      await expect(segment(['One, two. Three; four! Five'], { boundaries: '.!' })).resolves.toEqual([
        'One, two.',
        ' Three; four!',
        ' Five',
      ]);
      await expect(segment(['One; two. Three'], { boundaries: ';' })).resolves.toEqual(['One;', ' two. Three']);
    });

    it('cuts a segment longer than maxLength at the last whitespace within the limit', async () => {
      await expect(segment(['aaaa bbbb cccc dddd.'], { maxLength: 10 })).resolves.toEqual(['aaaa bbbb', ' cccc', ' dddd.']);
      await expect(segment(['aaaa bbbb cccc. D'], { maxLength: 10 })).resolves.toEqual(['aaaa bbbb', ' cccc.', ' D']);
    });

    it('hard-cuts text with no whitespace at maxLength, never inside a surrogate pair', async () => {
      await expect(segment(['abcdefghijkl'], { maxLength: 5 })).resolves.toEqual(['abcde', 'fghij', 'kl']);
      await expect(segment(['abcd😀efgh'], { maxLength: 5 })).resolves.toEqual(['abcd', '😀efg', 'h']);
    });

    it('drops leading whitespace that leaves no room for text within maxLength', async () => {
      await expect(segment(['Hi,' + ' '.repeat(12) + 'there friend'], { maxLength: 8 })).resolves.toEqual(['Hi,', 'there', ' friend']);
    });

    it('cuts long text as it streams in, without waiting for a boundary', () => {
      scheduler().run(({ cold, expectObservable }) => {
        const source = cold('-a-b-c-|', { a: 'one two ', b: 'three four ', c: 'five' });
        expectObservable(source.pipe(sentences({ maxLength: 12 }))).toBe('---x-y-(z|)', {
          x: 'one two',
          y: ' three four',
          z: ' five',
        });
      });
    });

    it('rejects invalid configuration with every problem named', () => {
      expect(() => sentences({ maxLength: 0 })).toThrow(RimeError);
      expect(() => sentences({ maxLength: 1.5, boundaries: 'ab' })).toThrow(/maxLength must be an integer of at least 2, got 1.5/);
      expect(() => sentences({ maxLength: 1.5, boundaries: 'ab' })).toThrow(/boundaries must be a non-empty string of punctuation/);
      expect(() => sentences({ boundaries: '. ' })).toThrow(/boundaries must be/);
    });
  });

  describe('properties', () => {
    const alphabet = ['a', 'B', 'é', '1', ' ', '\n', '.', ',', '?', '!', '"', ')', 'Dr', 'e.g', '...', 'x'];
    const text = fc.array(fc.constantFrom(...alphabet), { maxLength: 80 }).map((parts) => parts.join(''));
    const cuts = fc.array(fc.integer({ min: 1, max: 9 }), { minLength: 1, maxLength: 20 });
    const config = fc.record({ maxLength: fc.integer({ min: 2, max: 40 }) });

    it('loses nothing: segments concatenate to the input, minus whitespace at the very end', async () => {
      await fc.assert(
        fc.asyncProperty(text, cuts, config, async (input, sizes, options) => {
          fc.pre(!new RegExp(`\\s{${options.maxLength - 1},}`).test(input));
          const joined = (await segment(tokenize(input, sizes), options)).join('');
          expect(input.startsWith(joined)).toBe(true);
          expect(input.slice(joined.length).trim()).toBe('');
        }),
      );
    });

    it('never loses or reorders text, even around whitespace runs as long as maxLength', async () => {
      const spaced = fc.array(fc.constantFrom(...alphabet, '     ', '\n\n\n'), { maxLength: 60 }).map((parts) => parts.join(''));
      await fc.assert(
        fc.asyncProperty(spaced, cuts, config, async (input, sizes, options) => {
          const joined = (await segment(tokenize(input, sizes), options)).join('');
          expect(joined.replace(/\s/g, '')).toBe(input.replace(/\s/g, ''));
        }),
      );
    });

    it('does not depend on how the text was cut into tokens', async () => {
      await fc.assert(
        fc.asyncProperty(text, cuts, cuts, config, async (input, first, second, options) => {
          expect(await segment(tokenize(input, first), options)).toEqual(await segment(tokenize(input, second), options));
        }),
      );
    });

    it('does not depend on tokens either when runs without whitespace are cut at maxLength (one token or many)', async () => {
      const run = fc.tuple(fc.integer({ min: 1, max: 60 }), fc.constantFrom('x', 'e.g', '.', 'Dr', ',')).map(([count, piece]) => piece.repeat(count));
      const longText = fc.array(fc.oneof(run, fc.constantFrom(...alphabet)), { maxLength: 20 }).map((parts) => parts.join(''));
      await fc.assert(
        fc.asyncProperty(longText, cuts, fc.integer({ min: 2, max: 30 }), async (input, cut, maxLength) => {
          expect(await segment([input], { maxLength })).toEqual(await segment(tokenize(input, cut), { maxLength }));
        }),
        { numRuns: 1000 },
      );
      expect(await segment([`${'x'.repeat(999)}.. Then more.`])).toEqual(await segment([...`${'x'.repeat(999)}.. Then more.`]));
    });

    it('never emits an empty or whitespace-only segment, nor one over maxLength', async () => {
      await fc.assert(
        fc.asyncProperty(text, cuts, config, async (input, sizes, options) => {
          for (const piece of await segment(tokenize(input, sizes), options)) {
            expect(piece.trim()).not.toBe('');
            expect(piece.length).toBeLessThanOrEqual(options.maxLength);
          }
        }),
      );
    });

    it('loses nothing with flushes at random moments either', async () => {
      await fc.assert(
        fc.asyncProperty(text, cuts, fc.array(fc.boolean(), { minLength: 1 }), async (input, sizes, flushAfter) => {
          const tokens = new Subject<string>();
          const flush = new Subject<void>();
          const emitted: string[] = [];
          tokens.pipe(sentences({ flush })).subscribe((piece) => emitted.push(piece));
          tokenize(input, sizes).forEach((token, index) => {
            tokens.next(token);
            if (flushAfter[index % flushAfter.length] === true) flush.next();
          });
          tokens.complete();
          const joined = emitted.join('');
          expect(input.startsWith(joined)).toBe(true);
          expect(input.slice(joined.length).trim()).toBe('');
        }),
      );
    });
  });
});
