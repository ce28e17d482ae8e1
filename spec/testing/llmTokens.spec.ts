import fc from 'fast-check';
import { RimeError } from '../../lib/errors';
import { llmTokens } from '../../lib/testing/llmTokens';

describe('llmTokens()', () => {
  it('cuts text into tokens that concatenate back to it, within the length bounds', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme' }), fc.integer({ min: 1, max: 5 }), fc.integer({ min: 0, max: 5 }), fc.integer(), (text, min, extra, seed) => {
        const tokens = llmTokens(text, { minLength: min, maxLength: min + extra, seed });
        expect(tokens.join('')).toBe(text);
        tokens.slice(0, -1).forEach((token) => expect(token.length).toBeGreaterThanOrEqual(min));
        tokens.forEach((token) => expect(token.length).toBeLessThanOrEqual(min + extra + 1));
      }),
    );
  });

  it('is deterministic per seed and varies across seeds', () => {
    const text = 'The quick brown fox jumps over the lazy dog. '.repeat(4);
    expect(llmTokens(text, { seed: 5 })).toEqual(llmTokens(text, { seed: 5 }));
    expect(llmTokens(text, { seed: 5 })).not.toEqual(llmTokens(text, { seed: 6 }));
  });

  it('never splits a surrogate pair', () => {
    for (const token of llmTokens('😀'.repeat(50), { minLength: 1, maxLength: 3 })) {
      expect(token).not.toMatch(/^[\uDC00-\uDFFF]|[\uD800-\uDBFF]$/);
    }
  });

  it('rejects bad bounds clearly', () => {
    expect(() => llmTokens('x', { minLength: 0 })).toThrow(RimeError);
    expect(() => llmTokens('x', { minLength: 5, maxLength: 2 })).toThrow('minLength (5) exceeds maxLength (2)');
  });
});
