import * as t from 'io-ts';
import { isLeft } from 'fp-ts/Either';
import type { MonoTypeOperatorFunction } from 'rxjs';
import { TimerDelay, described, isNumberIn } from '../codecs';
import { defaulted, parseFields, tableCodec } from '../fields';
import { RimeError } from '../errors';
import { RIME_BUFFER_BOUNDARIES, RIME_TEXT_LIMIT } from '../protocol/rules';
import { DEFAULT_RELEASE_AFTER_MS, type Emit, type TextControls, type TextStage, textStage } from './textStage';

/** Rime's own buffering characters (seed page): `. , ? !`. */
export const DEFAULT_BOUNDARIES = RIME_BUFFER_BOUNDARIES;

/** Rime's limit on the text of one synthesis. */
export const DEFAULT_MAX_LENGTH = RIME_TEXT_LIMIT;

const Boundaries = described(
  'a non-empty string of punctuation characters (no letters, digits or whitespace)',
  (u): u is string => typeof u === 'string' && u.length > 0 && !/[\p{L}\p{N}\s]/u.test(u) && !/[\uD800-\uDFFF]/.test(u),
);
const MaxLength = described('an integer of at least 2', isNumberIn(2, Number.MAX_SAFE_INTEGER, true));

const sentencesFields = {
  /** The characters that end a segment when whitespace follows (default Rime's `. , ? !`). */
  boundaries: defaulted(Boundaries, DEFAULT_BOUNDARIES, { doc: 'the characters that end a segment when whitespace follows' }),
  /** The longest segment; a longer text is cut at whitespace (default Rime's 1000). */
  maxLength: defaulted(MaxLength, DEFAULT_MAX_LENGTH, { doc: 'the longest segment; a longer text is cut at whitespace' }),
  /** Milliseconds without a token after which an undecided end is released (default 150). */
  releaseAfterMs: defaulted(TimerDelay, DEFAULT_RELEASE_AFTER_MS, { doc: 'milliseconds without a token after which an undecided end is released' }),
};

export const SentencesOptions = tableCodec(sentencesFields);
export type SentencesOptions = t.TypeOf<typeof SentencesOptions>;

export interface SentencesConfig extends Partial<SentencesOptions>, Omit<TextControls, 'releaseAfterMs'> {}

/** Titles and Latin abbreviations that are followed by more of the same sentence. */
const neverFinal = new Set([
  'mr', 'mrs', 'ms', 'dr', 'prof', 'st', 'mt', 'jr', 'sr', 'vs', 'cf', 'fig', 'rev', 'hon', 'gov', 'sen', 'rep', 'gen',
  'col', 'lt', 'sgt', 'capt',
]);

// Single letters (initials) and dotted initialisms (e.g, i.e, U.S, a.m): the word before the final dot.
const initialism = /^(?:[A-Za-z]\.)*[A-Za-z]$/;

const UNDECIDED = -1;
const NOT_A_BOUNDARY = -2;

function isWhitespace(code: number): boolean {
  return code === 32 || (code >= 9 && code <= 13) || (code > 127 && /\s/.test(String.fromCharCode(code)));
}

/** Closing quotes and brackets that stay with the sentence they close. */
function isCloser(code: number): boolean {
  return (
    code === 0x22 || code === 0x27 || code === 0x29 || code === 0x5d || code === 0x7d ||
    code === 0x2019 || code === 0x201d || code === 0xbb
  );
}

function isAsciiLetterOrDot(code: number): boolean {
  return code === 0x2e || (code >= 0x41 && code <= 0x5a) || (code >= 0x61 && code <= 0x7a);
}

function startsLowercase(text: string, index: number): boolean {
  const code = text.charCodeAt(index);
  if (code < 128) return code >= 0x61 && code <= 0x7a;
  const char = String.fromCodePoint(text.codePointAt(index) ?? code);
  return char !== char.toUpperCase() && char === char.toLowerCase();
}

/** A membership test for the boundary characters: a table lookup, since it runs once per input character. */
function boundaryTest(boundaries: string): (code: number) => boolean {
  const table = new Uint8Array(0x10000);
  for (const char of boundaries) table[char.charCodeAt(0)] = 1;
  return (code) => table[code] === 1;
}

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}

function isBlank(text: string): boolean {
  return !/\S/.test(text);
}

/**
 * The segmentation rules, applied incrementally. `buffer` holds text not yet emitted; `scanned` is where the search
 * for the next boundary resumes, so every character is examined a bounded number of times (linear time).
 */
export class SentenceSegmenter implements TextStage {
  private buffer = '';
  private scanned = 0;
  /** Where the boundary character that only more text can decide stands, or -1. */
  private undecidedAt = -1;
  constructor(
    private readonly isBoundary: (code: number) => boolean,
    private readonly maxLength: number,
  ) {}

  /**
   * A token longer than `maxLength` is taken a `maxLength` piece at a time: the buffer then never holds much more than
   * one segment, so the scan that starts again after each cut stays short (a megabyte token is linear, not quadratic),
   * and since segments do not depend on how the text is cut into tokens, the result is the same.
   */
  write(token: string, emit: Emit): void {
    for (let start = 0; start < token.length; start += this.maxLength) {
      this.take(token.length <= this.maxLength ? token : token.slice(start, start + this.maxLength), emit);
    }
  }

  private take(token: string, emit: Emit): void {
    this.buffer += token;
    for (;;) {
      const end = this.nextBoundary();
      if (end !== UNDECIDED && end <= this.maxLength) this.emitUpTo(end, emit);
      else if (end !== UNDECIDED || (this.scanned >= this.maxLength && this.buffer.length > this.maxLength))
        this.cutLong(emit);
      else return;
    }
  }

  /** Emits what is held, but a trailing high surrogate waits for its other half: a pair is never sent in two. */
  flush(emit: Emit): void {
    this.emitHeld(emit, true);
  }

  clear(): void {
    this.buffer = '';
    this.scanned = 0;
    this.undecidedAt = -1;
  }

  get undecided(): boolean {
    return this.undecidedAt >= 0;
  }

  /** Judges the undecided boundary as if a new sentence followed: `Done.` goes, `Dr.` and `Wait...` stay. */
  release(emit: Emit): void {
    if (this.undecidedAt < 0) return;
    const end = this.judge(this.undecidedAt, true);
    this.undecidedAt = -1;
    if (end === NOT_A_BOUNDARY) return;
    if (end <= this.maxLength) this.emitUpTo(end, emit);
    else this.cutLong(emit);
  }

  end(emit: Emit): void {
    this.buffer = this.buffer.trimEnd();
    this.emitHeld(emit, false);
    this.clear();
  }

  private emitHeld(emit: Emit, keepHalfPair: boolean): void {
    while (this.buffer.length > this.maxLength) this.cutLong(emit);
    const { length } = this.buffer;
    const end = keepHalfPair && isHighSurrogate(this.buffer.charCodeAt(length - 1)) ? length - 1 : length;
    if (!isBlank(this.buffer.slice(0, end))) this.emitUpTo(end, emit);
  }

  private emitUpTo(end: number, emit: Emit): void {
    const segment = this.buffer.slice(0, end);
    this.buffer = this.buffer.slice(end);
    this.scanned = 0;
    this.undecidedAt = -1;
    emit(segment);
  }

  /** End (exclusive) of the first certain segment, or UNDECIDED, leaving `scanned` at the first undecided spot. */
  private nextBoundary(): number {
    const text = this.buffer;
    for (let index = this.scanned; index < text.length; index++) {
      if (!this.isBoundary(text.charCodeAt(index))) continue;
      const verdict = this.judge(index, false);
      if (verdict === NOT_A_BOUNDARY) continue;
      this.scanned = index;
      this.undecidedAt = verdict === UNDECIDED ? index : -1;
      return verdict;
    }
    this.scanned = text.length;
    this.undecidedAt = -1;
    return UNDECIDED;
  }

  /**
   * Is the boundary character at `index` the end of a segment? Returns the segment's end, or a verdict. With
   * `atPause`, the text is taken to go on with a new sentence, so nothing is left undecided.
   */
  private judge(index: number, atPause: boolean): number {
    const text = this.buffer;
    let end = index + 1;
    while (end < text.length && isCloser(text.charCodeAt(end))) end++;
    if (end === text.length) {
      if (!atPause) return UNDECIDED;
    } else if (!isWhitespace(text.charCodeAt(end))) return NOT_A_BOUNDARY; // 3.14, 1,000, example.com, "?!"
    if (text.charCodeAt(index) !== 0x2e) return end;
    if (index > 0 && text.charCodeAt(index - 1) === 0x2e) return NOT_A_BOUNDARY; // an ellipsis
    let wordStart = index;
    while (wordStart > 0 && isAsciiLetterOrDot(text.charCodeAt(wordStart - 1))) wordStart--;
    const word = text.slice(wordStart, index);
    if (initialism.test(word) || neverFinal.has(word.toLowerCase())) return NOT_A_BOUNDARY;
    let next = end + 1;
    while (next < text.length && isWhitespace(text.charCodeAt(next))) next++;
    if (next >= text.length) return atPause ? end : UNDECIDED;
    return startsLowercase(text, next) ? NOT_A_BOUNDARY : end; // "etc. and", "a.m. today"
  }

  /**
   * Emits the head of a buffer that would make a segment longer than `maxLength`: up to the last whitespace within
   * the limit, else exactly the limit (never inside a surrogate pair). Leading whitespace that leaves no room for
   * text within the limit is dropped: emitting it would make a whitespace-only segment.
   */
  private cutLong(emit: Emit): void {
    const text = this.buffer;
    const firstText = text.search(/\S/);
    if (firstText === -1 || firstText >= this.maxLength - 1) {
      this.buffer = firstText === -1 ? '' : text.slice(firstText);
      this.scanned = 0;
      return;
    }
    for (let cut = this.maxLength; cut > firstText; cut--) {
      if (isWhitespace(text.charCodeAt(cut))) return this.emitUpTo(cut, emit);
    }
    this.emitUpTo(isHighSurrogate(text.charCodeAt(this.maxLength - 1)) ? this.maxLength - 1 : this.maxLength, emit);
  }
}

/**
 * Buffers a token stream into speakable segments: each ends at a boundary character (default `. , ? !`, as Rime
 * buffers) followed by whitespace, and is emitted as soon as its end is certain.
 *
 * ```
 * source: --a--b--c--d--e--|      a = 'Hi'   b = ', th'   c = 'ere. How'   d = ' are'   e = ' you?'
 * result: -----x--y--------(z|)   x = 'Hi,'  y = ' there.'  z = ' How are you?'
 * ```
 * A period waits for the next word (`c`), to tell `etc. and` from `etc. Then`; whitespace after a boundary starts
 * the next segment. When no token comes for `releaseAfterMs` (default 150), a boundary that only the next token
 * could decide is released as if a new sentence followed, so a pause (a tool call) never holds a finished sentence:
 * ```
 * source: a 2s b|                a = 'Let me check.'   b = ' Found it.'
 * result: 150ms x 1851ms (y|)    x = 'Let me check.'   y = ' Found it.'
 * ```
 *
 * Not split: decimals and thousands (`3.14`, `1,000`), URLs and e-mail addresses, ellipses, titles and initials
 * (`Dr.`, `St.`, `e.g.`, `U.S.`), and any period followed by a lowercase word. Closing quotes and brackets stay
 * with their sentence. Segments longer than `maxLength` are cut at the last whitespace within the limit.
 *
 * Nothing is lost: without `clear`, the segments concatenate to the input (whitespace at the very end excepted, and
 * a run of whitespace as long as `maxLength`, which could only make a blank segment), and they do not depend on how
 * the text was cut into tokens. No segment is empty or whitespace-only.
 *
 * `flush` emits what is held now; `clear` drops it; completion emits the rest. On a source error the held text is
 * dropped and the error passed on unchanged.
 *
 * @example
 * llmTokens$.pipe(sentences({ flush: endOfTurn$ })).subscribe(sentence => console.log(sentence));
 *
 * @throws RimeError (`invalid-options`) when `boundaries`, `maxLength` or `releaseAfterMs` is invalid.
 */
export function sentences(config: SentencesConfig = {}): MonoTypeOperatorFunction<string> {
  const { createSegmenter, releaseAfterMs } = segmenterFactory(config);
  return textStage(createSegmenter, { flush: config.flush, clear: config.clear, releaseAfterMs });
}

/**
 * Validates the segmentation options once: a factory of fresh segmenters (one per subscription) and the decoded
 * release time.
 * @throws RimeError (`invalid-options`)
 */
export function segmenterFactory(config: Partial<SentencesOptions>): {
  readonly createSegmenter: () => TextStage;
  readonly releaseAfterMs: number;
} {
  const input = { boundaries: config.boundaries, maxLength: config.maxLength, releaseAfterMs: config.releaseAfterMs };
  const { boundaries, maxLength, releaseAfterMs } = parseFields(sentencesFields, input, SentencesOptions);
  const isBoundary = boundaryTest(boundaries);
  return { createSegmenter: () => new SentenceSegmenter(isBoundary, maxLength), releaseAfterMs };
}
