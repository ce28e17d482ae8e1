import * as E from 'fp-ts/Either';
import { type OperatorFunction, Observable, type Subscriber, Subject, Subscription, defer, from, throwError } from 'rxjs';
import { showValue } from '../codecs';
import { RimeError } from '../errors';
import { ttsCommands } from './commands';
import { type RimeTtsConfig, type TtsSettings, decodeSettings } from './config';
import type { SpeechOutput } from './output';
import { Speech } from './speech';

/**
 * The machinery of `rimeTts` and `rimeSpeech`, which differ only in what they emit (`output`): decodes the config
 * once per operator, and per subscription runs a `Speech` fed by the text and its controls.
 */
export function speechOperator<T>(config: RimeTtsConfig, output: (subscriber: Subscriber<T>, settings: TtsSettings) => SpeechOutput): OperatorFunction<string, T> {
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
      return new Observable<T>((subscriber) => {
        const speech = new Speech(subscriber, settings.right, output(subscriber, settings.right));
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
