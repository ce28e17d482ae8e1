import type { AudioChunk } from '../audio/chunk';
import type { WordTiming } from '../protocol/messages';

/** Where a speech puts what it has for its subscriber: `rimeTts` takes the audio, `rimeSpeech` everything. */
export interface SpeechOutput {
  /** Audio, in order; of `turn` (undefined: of none known) and, on `/ws3`, of the segment of `contextId`. */
  audio(chunk: AudioChunk, turn: number | undefined, contextId: string | undefined): void;
  /** The timings of a segment's words, seconds from the start of its audio (`/ws3` only). */
  words?(words: readonly WordTiming[], turn: number, contextId: string): void;
  /** All of a turn's audio has come. */
  done?(turn: number): void;
  /** A retry says again from their start the segments not done (mp3, which cannot resume at the byte). */
  restart?(): void;
}
