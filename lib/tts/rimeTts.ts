import type { OperatorFunction } from 'rxjs';
import type { AudioChunk } from '../audio/chunk';
import type { RimeTtsConfig } from './config';
import { speechOperator } from './speechOperator';

export type { RimeOptionsInput, RimeTtsConfig } from './config';

/**
 * Speaks a text stream through Rime's websocket API: text in (LLM tokens, a transcript), audio bytes out, in the
 * connection's `audioFormat` (pcm chunks always hold whole 16-bit samples).
 *
 * ```
 * text:   --a--b------|            a = 'Hello there.'   b = ' How are you?'
 * audio:  -----x-x-x--y-y-y-|      (audio of a, then of b; completes when Rime closes after <EOS>)
 * ```
 *
 * Cold: each subscription opens its own connection; text is segmented as `sentences()` does and made safe as
 * `safeText()` does, then sent segment by segment (queued until the socket opens). `flush` ends a turn: what is
 * held is sent, then `<EOS>`, and the next turn goes on a connection opened ahead; `clear` interrupts (no audio of
 * earlier text is emitted after it); completion sends `<EOS>` and completes when Rime closes. Failures are retried
 * inside the operator, replaying the failed connection's text (a downstream `retry()` would resubscribe the text
 * source, which an LLM stream cannot replay).
 *
 * @example
 * llmTokens$.pipe(rimeTts({ speaker: 'cove', audioFormat: 'pcm', clear: userStartedSpeaking$ }))
 *   .subscribe(chunk => speaker.write(chunk));
 */
export function rimeTts(config: RimeTtsConfig): OperatorFunction<string, AudioChunk> {
  return speechOperator<AudioChunk>(config, (subscriber) => ({ audio: (chunk) => subscriber.next(chunk) }));
}
