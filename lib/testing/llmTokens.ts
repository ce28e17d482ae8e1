import * as t from 'io-ts';
import { isLeft } from 'fp-ts/Either';
import { type FieldSet, described, fieldIssues, isNumberIn, withDefault } from '../codecs';
import { RimeError } from '../errors';

const Length = described('an integer of at least 1', isNumberIn(1, Number.MAX_SAFE_INTEGER, true));
const Seed = described('an integer', isNumberIn(-(2 ** 31), 2 ** 32, true));

export const LlmTokensOptions = t.exact(
  t.type({ minLength: withDefault(Length, 1), maxLength: withDefault(Length, 8), seed: withDefault(Seed, 1) }),
);
export type LlmTokensOptions = t.TypeOf<typeof LlmTokensOptions>;

const llmTokensFields: FieldSet = { codecs: { minLength: Length, maxLength: Length, seed: Seed } };

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
  const decoded = LlmTokensOptions.decode(input);
  if (isLeft(decoded)) throw RimeError.invalidOptions(fieldIssues(decoded.left, llmTokensFields, input));
  const { minLength, maxLength, seed } = decoded.right;
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
