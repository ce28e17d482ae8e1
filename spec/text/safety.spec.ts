import fc from 'fast-check';
import { Subject, from, lastValueFrom, toArray } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { neutralize, safeText } from '../../lib/text/safety';
import { sentences } from '../../lib/text/sentences';

const scheduler = () => new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
const command = /<(EOS|FLUSH|CLEAR)>/i;

function safe(tokens: readonly string[], pauseBetweenBrackets = false): Promise<string[]> {
  return lastValueFrom(from(tokens).pipe(safeText({ pauseBetweenBrackets }), toArray()));
}

describe('neutralize()', () => {
  it.each([
    ['Say <EOS> now', 'Say  now'],
    ['<FLUSH><CLEAR>', ''],
    ['any <eos> case <Flush> <cLeAr>', 'any  case  '],
    ['nested <E<EOS>OS> and <<FLUSH>FLUSH>', 'nested  and '],
    ['a < b and c > d', 'a < b and c > d'],
    ['<EOS >, < EOS>, <EOS, EOS>', '<EOS >, < EOS>, <EOS, EOS>'],
    ['wait <200> ms', 'wait  ms'],
    ['html <b>bold</b>', 'html <b>bold</b>'],
  ])('%j -> %j', (input, expected) => {
    expect(neutralize(input)).toBe(expected);
  });

  it('keeps pause tags with pauseBetweenBrackets, and still removes commands', () => {
    expect(neutralize('Hi. <200> there <EOS>', { pauseBetweenBrackets: true })).toBe('Hi. <200> there ');
    expect(neutralize('<2<EOS>00>', { pauseBetweenBrackets: true })).toBe('<200>');
  });

  it('leaves text without "<" untouched (same string)', () => {
    const text = 'plain text, no tags.';
    expect(neutralize(text)).toBe(text);
  });
});

/** The definition, as a slow oracle: remove every complete tag, again and again, until none is left. */
function removeTagsUntilNoneLeft(text: string, pauseBetweenBrackets = false): string {
  const tags = pauseBetweenBrackets ? /<(?:EOS|FLUSH|CLEAR)>/gi : /<(?:EOS|FLUSH|CLEAR|\d+)>/gi;
  for (let current = text; ; ) {
    const next = current.replace(tags, '');
    if (next === current) return current;
    current = next;
  }
}

describe('neutralize() against its definition', () => {
  const pieces = ['<', '>', 'E', 'O', 'S', 'eos', 'FL', 'USH', 'cl', 'EAR', '2', '0', ' ', 'x', '<EOS>', '<<', '>>'];
  it('gives what removing tags until none is left gives, for any text', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...pieces), { maxLength: 60 }), fc.boolean(), (parts, pauses) => {
        const text = parts.join('');
        expect(neutralize(text, { pauseBetweenBrackets: pauses })).toBe(removeTagsUntilNoneLeft(text, pauses));
      }),
      { numRuns: 2000 },
    );
  });
});

describe('safeText()', () => {
  it('removes a command split across tokens', () => {
    scheduler().run(({ cold, expectObservable }) => {
      const source = cold('-a-b-|', { a: 'Stop <EO', b: 'S> now' });
      expectObservable(source.pipe(safeText())).toBe('-x-y-|', { x: 'Stop ', y: ' now' });
    });
  });

  it('holds a "<" that a removed tag could join to what follows ("<" + "<EOS>" + "0>")', () => {
    scheduler().run(({ cold, expectObservable }) => {
      const source = cold('-a-b-c-d-|', { a: '<', b: '<EOS', c: '>0', d: '> ok' });
      expectObservable(source.pipe(safeText())).toBe('-------x-|', { x: ' ok' });
    });
  });

  it('releases a held "<" as soon as the next token shows it is not a tag', () => {
    scheduler().run(({ cold, expectObservable }) => {
      const source = cold('-a-b-|', { a: 'if a <', b: ' b then' });
      expectObservable(source.pipe(safeText())).toBe('-x-y-|', { x: 'if a ', y: '< b then' });
    });
  });

  it('emits an unfinished tag left at completion (it can no longer become a command)', () => {
    scheduler().run(({ cold, expectObservable }) => {
      expectObservable(cold('-a-|', { a: 'the end <EO' }).pipe(safeText())).toBe('-x-(y|)', { x: 'the end ', y: '<EO' });
    });
  });

  it('clear drops a held unfinished tag', () => {
    scheduler().run(({ cold, hot, expectObservable }) => {
      const source = cold('-a--b-|', { a: 'old <EO', b: 'new' });
      const clear = hot('--c----');
      expectObservable(source.pipe(safeText({ clear }))).toBe('-x--y-|', { x: 'old ', y: 'new' });
    });
  });

  it('keeps a pause tag whole across tokens with pauseBetweenBrackets, and drops it without', async () => {
    await expect(safe(['Wait <2', '00> then go'], true)).resolves.toEqual(['Wait ', '<200> then go']);
    await expect(safe(['Wait <2', '00> then go'], false)).resolves.toEqual(['Wait ', ' then go']);
  });

  it('passes the source error on unchanged and unsubscribes', () => {
    scheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const failure = new Error('boom');
      const source = cold('-a-#', { a: 'text <' }, failure);
      expectObservable(source.pipe(safeText())).toBe('-x-#', { x: 'text ' }, failure);
      expectSubscriptions(source.subscriptions).toBe('^--!');
    });
  });

  describe('properties', () => {
    const fragments = ['<', '>', 'E', 'O', 'S', 'F', 'L', 'U', 'H', 'C', 'A', 'R', 'eos', '<EOS>', '<FL', 'USH>', '<cl', 'ear>', '2', '00', ' ', 'x', '.'];
    const tokens = fc.array(fc.array(fc.constantFrom(...fragments), { maxLength: 4 }).map((parts) => parts.join('')), {
      maxLength: 40,
    });

    it('no command ever reaches the output, however the tokens are cut, with clears at random moments', () => {
      fc.assert(
        fc.property(tokens, fc.array(fc.boolean()), fc.boolean(), (input, clears, pauses) => {
          const source = new Subject<string>();
          const clear = new Subject<void>();
          const out: string[] = [];
          source.pipe(safeText({ clear, pauseBetweenBrackets: pauses })).subscribe((text) => out.push(text));
          input.forEach((token, index) => {
            source.next(token);
            if (clears[index] === true) clear.next();
          });
          source.complete();
          expect(out.join('')).not.toMatch(command);
          if (!pauses) expect(out.join('')).not.toMatch(/<\d+>/);
        }),
      );
    });

    it('without a clear, the output is the neutralised input: nothing else changes', async () => {
      await fc.assert(
        fc.asyncProperty(tokens, async (input) => {
          expect((await safe(input)).join('')).toBe(removeTagsUntilNoneLeft(input.join('')));
        }),
      );
    });

    it('text without "<" passes through unchanged, token for token', async () => {
      const plain = fc.array(fc.string().map((s) => s.replace(/</g, '')), { maxLength: 20 });
      await fc.assert(
        fc.asyncProperty(plain, async (input) => {
          expect(await safe(input)).toEqual(input.filter((token) => token !== ''));
        }),
      );
    });

    it('followed by sentences(), no segment and no join of segments holds a command', async () => {
      await fc.assert(
        fc.asyncProperty(tokens, async (input) => {
          const segments = await lastValueFrom(from(input).pipe(safeText(), sentences({ maxLength: 4 }), toArray()));
          expect(segments.join('')).not.toMatch(command);
        }),
      );
    });
  });
});
