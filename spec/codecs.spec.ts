import * as t from 'io-ts';
import { type Either, isLeft, isRight } from 'fp-ts/Either';
import {
  MAX_TIMER_MS,
  Timeout,
  TimerDelay,
  described,
  isNumberIn,
  isRecord,
  numberFromText,
  showValue,
  withDefault,
} from '../lib/codecs';

const isEven = (u: unknown): u is number => typeof u === 'number' && u % 2 === 0;

/** The decoded value, or the values the errors name. */
function outcome<A>(decoded: Either<t.Errors, A>): { ok: A } | { failed: unknown[] } {
  return isRight(decoded) ? { ok: decoded.right } : { failed: decoded.left.map((error) => error.value) };
}

describe('described()', () => {
  const Even = described('an even number', isEven);

  it('is named by its description, which messages quote', () => {
    expect(Even.name).toBe('an even number');
  });

  it('accepts exactly what the guard accepts, as the very same value', () => {
    expect(outcome(Even.decode(4))).toEqual({ ok: 4 });
    expect(outcome(Even.decode(3))).toEqual({ failed: [3] });
    expect(outcome(Even.decode('4'))).toEqual({ failed: ['4'] });
    expect(Even.is(0)).toBe(true);
    expect(Even.is(1)).toBe(false);
    const list = [2];
    const Listed = described('a list', (u): u is number[] => Array.isArray(u));
    const decoded = Listed.decode(list);
    expect(isRight(decoded) && decoded.right).toBe(list);
  });

  it('reports the failure in the context it was decoded in', () => {
    const decoded = t.type({ count: Even }).decode({ count: 5 });
    expect(isLeft(decoded) && decoded.left.map((error) => error.context.map((entry) => entry.key))).toEqual([['', 'count']]);
  });

  it('encodes as the identity', () => {
    expect(Even.encode(6)).toBe(6);
  });
});

describe('withDefault()', () => {
  const Even = described('an even number', isEven);

  it('decodes undefined to the fallback, and only undefined', () => {
    const codec = withDefault(Even, 8);
    expect(outcome(codec.decode(undefined))).toEqual({ ok: 8 });
    expect(outcome(codec.decode(2))).toEqual({ ok: 2 });
    expect(outcome(codec.decode(null))).toEqual({ failed: [null] });
    expect(outcome(codec.decode(3))).toEqual({ failed: [3] });
  });

  it('fills a missing field of an object', () => {
    const decoded = t.type({ count: withDefault(Even, 8), name: withDefault(t.string, 'x') }).decode({ name: 'y' });
    expect(isRight(decoded) && decoded.right).toEqual({ count: 8, name: 'y' });
  });

  it("keeps the codec's name, guard and encoder", () => {
    const Text = new t.Type<number, string, unknown>(
      'a number as text',
      (u): u is number => typeof u === 'number',
      (u, c) => (typeof u === 'number' ? t.success(u) : t.failure(u, c)),
      (n) => `#${n}`,
    );
    const codec = withDefault(Text, 1);
    expect(codec.name).toBe('a number as text');
    expect(codec.is(5)).toBe(true);
    expect(codec.is(undefined)).toBe(false);
    expect(codec.encode(5)).toBe('#5');
  });
});

describe('isNumberIn()', () => {
  const within = isNumberIn(-1, 2, false);
  const integers = isNumberIn(-1, 2, true);

  it.each([-1, 0, 1.5, 2])('accepts %p within the bounds', (value) => {
    expect(within(value)).toBe(true);
  });

  it.each([-1.0001, 2.0001, NaN, Infinity, -Infinity, '1', null, undefined, [1]])('rejects %p', (value) => {
    expect(within(value)).toBe(false);
  });

  it('with integer, rejects fractions', () => {
    expect([integers(-1), integers(0), integers(2), integers(1.5), integers(0.1)]).toEqual([true, true, true, false, false]);
  });

  it('accepts an infinite bound but never an infinite number', () => {
    const positive = isNumberIn(0, Infinity, false);
    expect([positive(Number.MAX_VALUE), positive(Infinity)]).toEqual([true, false]);
  });
});

describe('TimerDelay and Timeout', () => {
  it('MAX_TIMER_MS is the longest delay a Node timer honours', () => {
    expect(MAX_TIMER_MS).toBe(2147483647);
  });

  it('TimerDelay: an integer number of milliseconds from 0 to MAX_TIMER_MS', () => {
    expect(TimerDelay.name).toBe('an integer number of milliseconds from 0 to 2147483647');
    expect([0, 1, 150, MAX_TIMER_MS].map((value) => TimerDelay.is(value))).toEqual([true, true, true, true]);
    expect([-1, 1.5, MAX_TIMER_MS + 1, NaN, Infinity, '150'].map((value) => TimerDelay.is(value))).toEqual([false, false, false, false, false, false]);
    expect(outcome(TimerDelay.decode(150))).toEqual({ ok: 150 });
    expect(outcome(TimerDelay.decode(-5))).toEqual({ failed: [-5] });
  });

  it('Timeout: the same, but at least 1', () => {
    expect(Timeout.name).toBe('an integer number of milliseconds from 1 to 2147483647');
    expect([0, 1, MAX_TIMER_MS, MAX_TIMER_MS + 1, 2.5].map((value) => Timeout.is(value))).toEqual([false, true, true, false, false]);
    expect(outcome(Timeout.decode(0))).toEqual({ failed: [0] });
  });
});

describe('showValue()', () => {
  it.each<[unknown, string]>([
    [undefined, 'nothing'],
    [null, 'null'],
    [0, '0'],
    [48000, '48000'],
    [-1.5, '-1.5'],
    [NaN, 'NaN'],
    [Infinity, 'Infinity'],
    [true, 'true'],
    [false, 'false'],
    ['', '""'],
    ['cove', '"cove"'],
    ['say "hi"', '"say \\"hi\\""'],
    [[1, 2], 'an array'],
    [{ apiKey: 'sk-123' }, 'an object'],
    [new Date(0), 'an object'],
    [() => 1, 'a function'],
    [Symbol('s'), 'a symbol'],
    [10n, 'a bigint'],
  ])('shows %p as %s', (value, shown) => {
    expect(showValue(value)).toBe(shown);
  });

  it('cuts a string after 40 characters, quoted, with an ellipsis', () => {
    expect(showValue('x'.repeat(40))).toBe(`"${'x'.repeat(40)}"`);
    expect(showValue(`${'x'.repeat(40)}y`)).toBe(`"${'x'.repeat(40)}…"`);
    expect(showValue(`${'x'.repeat(40)}SECRET`)).toBe(`"${'x'.repeat(40)}…"`);
  });

  it('never shows a secret, only its type', () => {
    expect(showValue('sk-live-123', true)).toBe('a string (not shown)');
    expect(showValue(12345, true)).toBe('a number (not shown)');
    expect(showValue(true, true)).toBe('a boolean (not shown)');
    for (const secret of ['sk-live-123', 12345, 'x', ['sk-live-123'], { key: 'sk-live-123' }, null]) {
      const shown = showValue(secret, true);
      expect(shown).toMatch(/\(not shown\)$/);
      expect(shown).not.toContain('sk-live');
      expect(shown).not.toContain('12345');
    }
  });

  it('shows a missing secret as nothing', () => {
    expect(showValue(undefined, true)).toBe('nothing');
  });

  it('says "an object (not shown)" for a secret object or null, with the right article', () => {
    expect(showValue({}, true)).toBe('an object (not shown)');
    expect(showValue(null, true)).toBe('an object (not shown)');
    expect(showValue([], true)).toBe('an object (not shown)');
    expect(showValue(12, true)).toBe('a number (not shown)');
  });
});

describe('isRecord()', () => {
  it.each<[unknown, boolean]>([
    [{}, true],
    [{ a: 1 }, true],
    [Object.create(null), true],
    [new Date(0), true],
    [[], false],
    [null, false],
    [undefined, false],
    ['text', false],
    [1, false],
    [() => ({}), false],
  ])('%p -> %p', (value, expected) => {
    expect(isRecord(value)).toBe(expected);
  });
});

describe('numberFromText()', () => {
  it.each<[string, number]>([
    ['16000', 16000],
    [' 1.5 ', 1.5],
    ['+3', 3],
    ['-2', -2],
    ['.5', 0.5],
    ['5.', 5],
    ['1e3', 1000],
    ['1E-2', 0.01],
    ['0', 0],
  ])('%j is the number %p', (text, number) => {
    expect(numberFromText(text)).toBe(number);
  });

  it.each(['', ' ', 'abc', '0x10', '1,5', '1.2.3', 'Infinity', 'NaN', '1e', '.', '--1', '١٢', '16000hz'])(
    '%j stays text, so an error can quote it',
    (text) => {
      expect(numberFromText(text)).toBe(text);
    },
  );
});
