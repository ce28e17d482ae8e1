import { from } from 'rxjs';
import { sentences } from '../lib/text/sentences';
import { type Emit, type TextStage, textStage } from '../lib/text/textStage';
import { llmTokens } from '../lib/testing/llmTokens';
import { type BenchOptions, type Section, format, timeRuns } from './harness';

const words = (
  'the model said that we should ship it today because the tests pass and users wait for speech ' +
  'latency matters most when a voice agent answers a question about pricing plans or delivery times'
).split(' ');
const pieces = ['Dr. Smith', 'e.g. this', '3.14', '$29.99', '1,000', 'U.S.', 'etc. and', 'https://rime.ai/docs', 'Wait...'];
const ends = ['.', '.', '.', ',', ',', '?', '!'];

interface ProseShape {
  /** Words per sentence: at least `minWords`, plus up to `extraWords`. */
  readonly minWords: number;
  readonly extraWords: number;
  readonly ends: readonly string[];
  /** One word in this many is a number, abbreviation or URL. */
  readonly pieceEvery: number;
}

const chatty: ProseShape = { minWords: 4, extraWords: 14, ends, pieceEvery: 10 };
const longWinded: ProseShape = { minWords: 60, extraWords: 90, ends: ['.', '?', '!'], pieceEvery: Infinity };

/** Deterministic LLM-like prose of about `size` characters: words, numbers, abbreviations, punctuation. */
export function prose(size: number, shape: ProseShape = chatty): string {
  let state = 42;
  const next = (n: number) => {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    return state % n;
  };
  const parts: string[] = [];
  let length = 0;
  while (length < size) {
    const sentenceLength = shape.minWords + next(shape.extraWords);
    const sentence: string[] = [];
    for (let i = 0; i < sentenceLength; i++) {
      sentence.push(next(shape.pieceEvery) === 0 ? (pieces[next(pieces.length)] ?? '') : (words[next(words.length)] ?? ''));
    }
    const text = `${sentence.join(' ')}${shape.ends[next(shape.ends.length)] ?? '.'} `;
    const capitalised = text.charAt(0).toUpperCase() + text.slice(1);
    parts.push(capitalised);
    length += capitalised.length;
  }
  return parts.join('');
}

/** The baseline: append each token, then run a regex over the whole accumulated buffer. */
class NaiveSplitter implements TextStage {
  private buffer = '';
  write(token: string, emit: Emit): void {
    this.buffer += token;
    for (let match = /^([^]*?[.,?!])(?=\s)/.exec(this.buffer); match; match = /^([^]*?[.,?!])(?=\s)/.exec(this.buffer)) {
      const segment = match[1] ?? '';
      emit(segment);
      this.buffer = this.buffer.slice(segment.length);
    }
  }
  flush(emit: Emit): void {
    if (this.buffer.trim() !== '') emit(this.buffer);
    this.buffer = '';
  }
  clear(): void {
    this.buffer = '';
  }
  end(emit: Emit): void {
    this.flush(emit);
  }
  readonly undecided = false;
  release(): void {}
}

const naiveSplitter = () => textStage(() => new NaiveSplitter(), {});

function countSegments(tokens: readonly string[], operator: typeof naiveSplitter): () => void {
  return () => {
    let count = 0;
    from(tokens)
      .pipe(operator())
      .subscribe(() => count++);
    if (count === 0) throw new Error('no segments');
  };
}

export async function benchSentences(options: BenchOptions): Promise<Section> {
  const megabytes = options.quick ? 0.2 : 10;
  const repeats = options.quick ? 1 : 5;
  const rows: string[] = [];
  let summary = '';
  const inputs = [
    { label: '1x', text: prose(megabytes * 1e6) },
    { label: '2x', text: prose(megabytes * 1e6).repeat(2) },
    { label: '4x', text: prose(megabytes * 1e6).repeat(4) },
    { label: 'long sentences', text: prose(megabytes * 1e6, longWinded) },
  ];
  for (const { label, text } of inputs) {
    const tokens = llmTokens(text, { minLength: 1, maxLength: 8, seed: 9 });
    const ours = timeRuns(repeats, countSegments(tokens, () => sentences()));
    const naive = timeRuns(repeats, countSegments(tokens, naiveSplitter));
    const rate = (ms: number) => tokens.length / (ms / 1000);
    rows.push(
      `| ${label} (${format.int(tokens.length)} tokens) | ${format.spread(ours, 'ms')} | ${format.int(rate(ours.median))} | ` +
        `${format.fixed((ours.median * 1000) / tokens.length, 3)} | ${format.spread(naive, 'ms')} | ${format.int(rate(naive.median))} | ` +
        `${format.fixed(naive.median / ours.median)}x |`,
    );
    if (label === '1x') {
      summary =
        `sentences(): **${format.int(rate(ours.median))} tokens/s** (${format.fixed((ours.median * 1000) / tokens.length, 3)} µs a token), ` +
        `**${format.fixed(naive.median / ours.median)}x** the naive splitter's speed (target: at least 5,000,000 tokens/s).`;
    }
    await new Promise((resolve) => setImmediate(resolve));
  }
  return {
    title: 'sentences() against a naive splitter',
    markdown: [
      `About ${megabytes} MB of LLM-like prose (words, numbers, abbreviations, URLs, mixed punctuation, sentences of 4 to`,
      `18 words), cut into tokens of 1 to 8 characters, pushed synchronously through each operator; the naive splitter`,
      'appends each token and runs a regex over the accumulated buffer (same RxJS plumbing, only the algorithm differs).',
      `Median (min–max) of ${repeats} runs after a warm-up. The input repeated 2x and 4x shows whether time grows linearly;`,
      `"long sentences" is the same size of prose in sentences of 60 to 150 plain words (no commas, numbers or`,
      'abbreviations), where a splitter that rescans its buffer for every token pays for the length of the sentence.',
      '',
      summary,
      '',
      '| input | sentences() | tokens/s | µs/token | naive splitter | naive tokens/s | speed-up |',
      '|---|---|---|---|---|---|---|',
      ...rows,
    ].join('\n'),
  };
}
