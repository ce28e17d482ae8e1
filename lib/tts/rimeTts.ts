import * as E from 'fp-ts/Either';
import { type OperatorFunction, Observable, Subject, Subscription, defer, from, throwError } from 'rxjs';
import type { AudioChunk } from '../audio/chunk';
import { showValue } from '../codecs';
import { RimeError } from '../errors';
import { type RimeTtsConfig, type TtsSettings, decodeSettings } from './config';
import { ttsCommands } from './commands';
import { Speech } from './speech';

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
  // Decoded once per operator; again only if RIME_API_KEY or RIME_URL changed since (read when a subscription starts).
  let decoded: { readonly environment: string; readonly settings: E.Either<RimeError, TtsSettings> } | undefined;
  const settingsNow = () => {
    const environment = JSON.stringify([process.env['RIME_API_KEY'], process.env['RIME_URL']]);
    if (decoded === undefined || decoded.environment !== environment) decoded = { environment, settings: decodeSettings(config) };
    return decoded.settings;
  };
  return (source) =>
    defer(() => {
      const settings = settingsNow();
      if (E.isLeft(settings)) return throwError(() => settings.left);
      const { flush, clear, backpressure } = config;
      const { pauseBetweenBrackets } = settings.right.options;
      return new Observable<AudioChunk>((subscriber) => {
        const speech = new Speech(subscriber, settings.right);
        const subscriptions = new Subscription(() => speech.dispose());
        // `clear` is listened to for the operator's whole life, not only while text flows: a barge-in usually comes
        // after the LLM finished writing, while the speech is still arriving.
        const clears = new Subject<void>();
        if (clear !== undefined) {
          subscriptions.add(
            from(clear).subscribe({
              next: () => {
                if (!speech.clearAfterEnd()) clears.next();
              },
              error: (error: unknown) => subscriber.error(error),
            }),
          );
        }
        if (backpressure !== undefined) {
          subscriptions.add(
            from(backpressure).subscribe({
              next: (full) => {
                if (typeof full === 'boolean') return speech.read(!full);
                subscriber.error(RimeError.invalidOptions([`backpressure must emit booleans (true: downstream is full), got ${showValue(full)}`]));
              },
              // A control that ends holds nothing back any more.
              complete: () => speech.read(true),
              error: (error: unknown) => subscriber.error(error),
            }),
          );
        }
        speech.start();
        subscriptions.add(
          source.pipe(ttsCommands({ flush, clear: clears, pauseBetweenBrackets, releaseAfterMs: settings.right.releaseAfterMs })).subscribe({
            next: (command) => speech.handle(command),
            error: (error: unknown) => subscriber.error(error),
          }),
        );
        return subscriptions;
      });
    });
}
