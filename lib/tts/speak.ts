import { Subject, from, of } from 'rxjs';
import type { AudioChunk } from '../audio/chunk';
import { RimeError } from '../errors';
import type { RimeTtsConfig } from './config';
import { rimeTts } from './rimeTts';

/** Audio waiting for the reader past which the socket is not read (then read again at half of it). */
const WAITING_BYTES = 256 * 1024;

/**
 * `rimeTts` for code that does not use RxJS: text (a string, or tokens as an iterable or an async iterable, such as
 * an LLM SDK's stream) in, audio chunks out as an async iterable. Audio waits for the reader: past 256 KiB not read
 * yet, the socket is not read either (the operator's `backpressure`), so a slow reader holds Rime back instead of
 * filling memory. `break` (or `return()`) stops everything: the connection is closed and nothing more is spoken.
 *
 * @example
 * for await (const chunk of speak(tokens, { speaker: 'cove', audioFormat: 'pcm' })) player.write(chunk);
 */
export async function* speak(text: string | Iterable<string> | AsyncIterable<string>, config: Omit<RimeTtsConfig, 'backpressure'>): AsyncGenerator<AudioChunk, void, undefined> {
  if ('backpressure' in config && config.backpressure !== undefined) {
    throw RimeError.invalidOptions(['speak() holds the audio back for its reader itself: give no backpressure']);
  }
  const backpressure = new Subject<boolean>();
  const waiting: AudioChunk[] = [];
  let waitingBytes = 0;
  let full = false;
  let outcome: { readonly error: unknown } | 'complete' | undefined;
  let wake = (): void => {};
  const subscription = (typeof text === 'string' ? of(text) : from(text)).pipe(rimeTts({ ...config, backpressure })).subscribe({
    next: (chunk) => {
      waiting.push(chunk);
      waitingBytes += chunk.length;
      if (!full && waitingBytes > WAITING_BYTES) backpressure.next((full = true));
      wake();
    },
    error: (error: unknown) => {
      outcome = { error };
      wake();
    },
    complete: () => {
      outcome = 'complete';
      wake();
    },
  });
  try {
    for (;;) {
      const chunk = waiting.shift();
      if (chunk !== undefined) {
        waitingBytes -= chunk.length;
        if (full && waitingBytes <= WAITING_BYTES / 2) backpressure.next((full = false));
        yield chunk;
        continue;
      }
      if (outcome === 'complete') return;
      if (outcome !== undefined) throw outcome.error;
      await new Promise<void>((resolve) => (wake = resolve));
    }
  } finally {
    subscription.unsubscribe();
  }
}
