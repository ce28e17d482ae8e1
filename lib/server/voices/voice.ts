import type { WordTiming } from '../../protocol/messages';

/** What a voice is asked to speak: one utterance, with the connection's synthesis parameters. */
export interface SynthesisRequest {
  /** The utterance, markup included (`<200>` pauses, `{h'El.o}` phonemes) when the flags below allow it. */
  readonly text: string;
  /** The catalog's three-letter language code (`eng`, `spa`, `fra`, `ger`, ...). */
  readonly lang: string;
  readonly speaker: string;
  /** > 1 is faster. */
  readonly speedAlpha: number;
  /** Samples per second of the PCM the voice must produce. */
  readonly samplingRate: number;
  readonly pauseBetweenBrackets: boolean;
  readonly phonemizeBetweenBrackets: boolean;
  /** Hears the timings of the words spoken (seconds from the start of the utterance's audio), as a voice learns them. */
  readonly words?: (timings: readonly WordTiming[]) => void;
}

/**
 * A speech synthesizer. `synthesize` yields 16-bit signed mono PCM at `request.samplingRate`, in chunks as they are
 * produced (never the whole utterance at once when it is long), and stops early when the consumer stops iterating.
 */
export interface Voice {
  readonly name: string;
  synthesize(request: SynthesisRequest): AsyncIterable<Int16Array>;
  /** Releases workers and memory; the voice is unusable afterwards. */
  close(): Promise<void>;
}

/**
 * The longest pause a `<N>` tag makes. Rime's docs give no limit; the local server caps pauses so that one tag
 * (`<3000000>`) cannot make a client's connection hold gigabytes of silence.
 */
export const MAX_PAUSE_MS = 10_000;

/** A piece of an utterance after markup parsing. */
export type MarkupPiece =
  | { readonly kind: 'text'; readonly text: string }
  | { readonly kind: 'pause'; readonly milliseconds: number }
  | { readonly kind: 'phonemes'; readonly phonemes: string };

/**
 * Splits an utterance into text, pauses (`<200>`, only with `pauseBetweenBrackets`) and phoneme groups (`{h'El.o}`,
 * only with `phonemizeBetweenBrackets`). Without the flags the brackets are plain text, as Rime reads them.
 */
export function parseMarkup(text: string, flags: Pick<SynthesisRequest, 'pauseBetweenBrackets' | 'phonemizeBetweenBrackets'>): MarkupPiece[] {
  const alternatives = [
    ...(flags.pauseBetweenBrackets ? ['<(\\d+)>'] : []),
    ...(flags.phonemizeBetweenBrackets ? ['\\{([^{}]*)\\}'] : []),
  ];
  if (alternatives.length === 0) return text === '' ? [] : [{ kind: 'text', text }];
  const pattern = new RegExp(alternatives.map((alternative) => `(?:${alternative})`).join('|'), 'g');
  const pieces: MarkupPiece[] = [];
  let last = 0;
  for (const match of text.matchAll(pattern)) {
    if (match.index > last) pieces.push({ kind: 'text', text: text.slice(last, match.index) });
    const [whole, first, second] = match;
    const pause = flags.pauseBetweenBrackets ? first : undefined;
    const phonemes = flags.pauseBetweenBrackets ? second : first;
    if (pause !== undefined) pieces.push({ kind: 'pause', milliseconds: Math.min(Number(pause), MAX_PAUSE_MS) });
    else if (phonemes !== undefined) pieces.push({ kind: 'phonemes', phonemes });
    last = match.index + whole.length;
  }
  if (last < text.length) pieces.push({ kind: 'text', text: text.slice(last) });
  return pieces;
}

/** `milliseconds` of silence at `samplingRate`. */
export function silence(milliseconds: number, samplingRate: number): Int16Array {
  return new Int16Array(Math.round((milliseconds / 1000) * samplingRate));
}
