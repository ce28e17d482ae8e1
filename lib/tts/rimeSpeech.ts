import type { OperatorFunction } from 'rxjs';
import type { AudioChunk } from '../audio/chunk';
import { audioClock } from '../audio/clock';
import type { WordTiming } from '../protocol/messages';
import type { RimeTtsConfig } from './config';
import { speechOperator } from './speechOperator';

/**
 * What `rimeSpeech` emits, in order: audio, the timings of words, and the end of each turn (the text up to a
 * flush, or to the end). Times are seconds on the stream's own audio clock: where the word's audio starts in the
 * concatenation of every audio chunk emitted so far, across syntheses, interruptions and retries.
 */
export type SpeechEvent =
  | { readonly type: 'audio'; readonly turn: number | undefined; readonly bytes: AudioChunk }
  | { readonly type: 'words'; readonly turn: number; readonly words: readonly WordTiming[] }
  | { readonly type: 'done'; readonly turn: number };

/** Segments whose start is remembered for their word timings: their timestamps come right after their audio. */
const REMEMBERED_STARTS = 64;

/**
 * `rimeTts` with more to say: its audio, plus word timings and turn ends, as `SpeechEvent`s. On `/ws3`
 * (`protocol: 'ws3'`) Rime sends word timestamps (English and Spanish) and says when each synthesis is done; on
 * `/ws` nothing tells which word is being spoken, so only audio and turn ends come (a turn ends when Rime closes its
 * connection after its last audio).
 *
 * ```
 * text:   --a--f-b--|                  a = 'Hi there.'   f = flush   b = 'Bye.'
 * events: -----x-w-d--y-w-(d|)         x, y = audio   w = words   d = done (turn 0, then 1)
 * ```
 *
 * @example
 * llmTokens$.pipe(rimeSpeech({ speaker: 'cove', audioFormat: 'pcm', protocol: 'ws3' }))
 *   .subscribe((event) => event.type === 'words' ? captions.show(event.words) : event.type === 'audio' && speaker.write(event.bytes));
 */
export function rimeSpeech(config: RimeTtsConfig): OperatorFunction<string, SpeechEvent> {
  return speechOperator<SpeechEvent>(config, (subscriber, settings) => {
    const clock = audioClock(settings.options.audioFormat, settings.options.samplingRate);
    const starts = new Map<string, number>();
    return {
      audio: (bytes, turn, contextId) => {
        if (contextId !== undefined && !starts.has(contextId)) {
          starts.set(contextId, clock.seconds);
          if (starts.size > REMEMBERED_STARTS) starts.delete(starts.keys().next().value ?? contextId);
        }
        clock.add(bytes);
        subscriber.next({ type: 'audio', turn, bytes });
      },
      words: (words, turn, contextId) => {
        // Timestamps count from the start of their synthesis's audio; one that came first starts where it will.
        const start = starts.get(contextId) ?? clock.seconds;
        subscriber.next({ type: 'words', turn, words: words.map(({ word, start: from, end }) => ({ word, start: start + from, end: start + end })) });
      },
      done: (turn) => subscriber.next({ type: 'done', turn }),
      // Segments heard again from their start: their words count from where they start again.
      restart: () => starts.clear(),
    };
  });
}
