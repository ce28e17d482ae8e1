import * as t from 'io-ts';
import { PositiveInteger, described, isNumberIn } from '../codecs';
import { RimeError } from '../errors';
import { defaulted, parseFields, tableCodec } from '../fields';

const Seed = described('an integer', isNumberIn(-(2 ** 31), 2 ** 32, true));

const llmTokensFields = {
  /** The shortest token (default 1). */
  minLength: defaulted(PositiveInteger, 1, { doc: 'the shortest token' }),
  /** The longest token (default 8). */
  maxLength: defaulted(PositiveInteger, 8, { doc: 'the longest token' }),
  /** The same seed always cuts the same way (default 1). */
  seed: defaulted(Seed, 1, { doc: 'the same seed always cuts the same way' }),
};

export const LlmTokensOptions = tableCodec(llmTokensFields);
export type LlmTokensOptions = t.TypeOf<typeof LlmTokensOptions>;

/** mulberry32: a tiny seeded generator, so the same seed always cuts the same way. */
function randomSource(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let mixed = Math.imul(state ^ (state >>> 15), 1 | state);
    mixed = (mixed + Math.imul(mixed ^ (mixed >>> 7), 61 | mixed)) ^ mixed;
    return ((mixed ^ (mixed >>> 14)) >>> 0) / 2 ** 32;
  };
}

/**
 * Cuts `text` into tokens of `minLength`..`maxLength` characters, deterministically for a given `seed`, the way
 * an LLM's stream arrives: for feeding `from(llmTokens(text))` into a pipeline under test. Never splits a
 * surrogate pair; the tokens concatenate to `text`.
 *
 * @example
 * from(llmTokens('Hello there. How are you?', { seed: 7 })).pipe(sentences())
 */
export function llmTokens(text: string, options: Partial<LlmTokensOptions> = {}): string[] {
  const input = { minLength: options.minLength, maxLength: options.maxLength, seed: options.seed };
  const { minLength, maxLength, seed } = parseFields(llmTokensFields, input, LlmTokensOptions);
  if (minLength > maxLength) throw RimeError.invalidOptions([`minLength (${minLength}) exceeds maxLength (${maxLength})`]);
  const random = randomSource(seed);
  const tokens: string[] = [];
  let start = 0;
  while (start < text.length) {
    let end = Math.min(text.length, start + minLength + Math.floor(random() * (maxLength - minLength + 1)));
    const last = text.charCodeAt(end - 1);
    if (end < text.length && last >= 0xd800 && last <= 0xdbff) end++;
    tokens.push(text.slice(start, end));
    start = end;
  }
  return tokens;
}
