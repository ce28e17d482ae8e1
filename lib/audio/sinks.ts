import { once } from 'node:events';
import { open } from 'node:fs/promises';
import { Readable, type Writable } from 'node:stream';
import { Observable, type Subscription } from 'rxjs';
import { WAV_HEADER_BYTES, WAV_UNKNOWN_LENGTH, wavHeader } from './wav';

/**
 * Writes every chunk of `audio` in order with `write`, one write at a time. On completion or a source error, the
 * writes already queued finish first (nothing that arrived is lost); a failed write, or `abandon` rejecting,
 * unsubscribes from `audio` at once. Resolves when everything is written.
 */
function writeEach(audio: Observable<Uint8Array>, write: (chunk: Uint8Array) => Promise<void> | void, abandon?: Promise<never>): Promise<void> {
  return new Promise((resolve, reject) => {
    let queue: Promise<void> = Promise.resolve();
    let subscription: Subscription | undefined;
    let failed = false;
    const fail = (error: unknown) => {
      if (failed) return;
      failed = true;
      subscription?.unsubscribe();
      reject(error);
    };
    abandon?.catch(fail);
    subscription = audio.subscribe({
      next: (chunk) => {
        queue = queue.then(() => (failed ? undefined : write(chunk)));
        queue.catch(fail);
      },
      error: (error: unknown) => void queue.then(() => fail(error), fail),
      complete: () => void queue.then(() => !failed && resolve(), fail),
    });
    if (failed) subscription.unsubscribe();
  });
}

/**
 * Writes every chunk of `audio` to a Node `Writable`, waiting for `drain` when it pushes back, so a slow destination
 * slows the pipeline instead of filling memory. Resolves with the bytes written when `audio` completes (the writable
 * is ended unless `end: false`); rejects with `audio`'s error, or when the destination fails or closes first (an
 * HTTP client that went away), and then stops listening to `audio` so no more speech is made for nobody.
 */
export async function writeAudio(audio: Observable<Uint8Array>, writable: Writable, options: { end?: boolean } = {}): Promise<number> {
  if (writable.destroyed) throw new Error('the destination is already closed');
  let bytes = 0;
  let stopWatching = (): void => {};
  const abandon = new Promise<never>((_, reject) => {
    const closed = () => reject(new Error('the destination closed before the audio ended'));
    writable.once('close', closed).once('error', reject);
    stopWatching = () => writable.off('close', closed).off('error', reject);
  });
  try {
    await writeEach(
      audio,
      (chunk) => {
        bytes += chunk.length;
        if (!writable.write(chunk)) return once(writable, 'drain').then(() => undefined);
      },
      abandon,
    );
  } finally {
    stopWatching();
  }
  if (options.end !== false) {
    writable.end();
    await once(writable, 'finish');
  }
  return bytes;
}

export interface AudioFileOptions {
  /** Write a WAV header for this pcm stream (16-bit mono at `samplingRate`), patched with the real length at the end. */
  readonly wav?: { readonly samplingRate: number };
}

/**
 * Writes `audio` to the file at `path`. With `wav`, a header goes first and is patched with the length actually
 * written when the stream ends, errors, or is unsubscribed, so the file always plays. Resolves with the audio bytes
 * written; on a source error, everything that arrived is written before the error is passed on.
 */
export async function writeAudioFile(audio: Observable<Uint8Array>, path: string, options: AudioFileOptions = {}): Promise<number> {
  const file = await open(path, 'w');
  const headerBytes = options.wav === undefined ? 0 : WAV_HEADER_BYTES;
  let bytes = 0;
  try {
    if (options.wav !== undefined) await file.write(wavHeader(options.wav.samplingRate, 0), 0, WAV_HEADER_BYTES, 0);
    await writeEach(audio, async (chunk) => {
      await file.write(chunk, 0, chunk.length, headerBytes + bytes);
      bytes += chunk.length;
    });
    return bytes;
  } finally {
    if (options.wav !== undefined) await file.write(wavHeader(options.wav.samplingRate, bytes), 0, WAV_HEADER_BYTES, 0);
    await file.close();
  }
}

/** `audio` with a WAV header of unknown length first: for pipes, which cannot be rewritten at the end. */
export function streamingWavHeader(samplingRate: number): Uint8Array {
  return wavHeader(samplingRate, WAV_UNKNOWN_LENGTH);
}

/**
 * A Node `Readable` of `audio`; the subscription starts on the first read and ends when the stream is destroyed.
 * Audio arrives at the pace Rime synthesizes it, so chunks the reader has not taken yet are buffered, not refused.
 */
export function toNodeReadable(audio: Observable<Uint8Array>): Readable {
  let subscription: Subscription | undefined;
  return new Readable({
    read() {
      subscription ??= audio.subscribe({
        next: (chunk) => void this.push(chunk),
        error: (error: unknown) => this.destroy(error instanceof Error ? error : new Error(String(error))),
        complete: () => void this.push(null),
      });
    },
    destroy(error, callback) {
      subscription?.unsubscribe();
      callback(error);
    },
  });
}

/** A web `ReadableStream` of `audio`; cancelling the stream unsubscribes. */
export function toReadableStream(audio: Observable<Uint8Array>): ReadableStream<Uint8Array> {
  let subscription: Subscription | undefined;
  return new ReadableStream<Uint8Array>({
    start(controller) {
      subscription = audio.subscribe({
        next: (chunk) => controller.enqueue(chunk),
        error: (error: unknown) => controller.error(error),
        complete: () => controller.close(),
      });
    },
    cancel() {
      subscription?.unsubscribe();
    },
  });
}

/**
 * The text of a Node `Readable` (a file, stdin, a child process's stdout) as it arrives, decoded as UTF-8 without
 * splitting a character across chunks. Unsubscribing destroys the stream.
 */
export function textFromReadable(readable: Readable): Observable<string> {
  return new Observable<string>((subscriber) => {
    if (readable.errored !== null) return subscriber.error(readable.errored);
    if (readable.readableEnded) return subscriber.complete();
    if (readable.destroyed) return subscriber.error(new Error('the text stream was destroyed before it ended'));
    readable.setEncoding('utf8');
    const onData = (text: string) => subscriber.next(text);
    const onEnd = () => subscriber.complete();
    const onError = (error: Error) => subscriber.error(error);
    // 'close' without 'end' or 'error': destroyed half way.
    const onClose = () => subscriber.error(new Error('the text stream closed before it ended'));
    readable.on('data', onData).once('end', onEnd).once('error', onError).once('close', onClose);
    return () => {
      readable.off('data', onData).off('end', onEnd).off('error', onError).off('close', onClose);
      readable.destroy();
    };
  });
}
