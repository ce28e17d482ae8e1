import { once } from 'node:events';
import { open } from 'node:fs/promises';
import { Readable, type Writable } from 'node:stream';
import { Observable, type Subscription, concatMap, lastValueFrom } from 'rxjs';
import { WAV_HEADER_BYTES, WAV_UNKNOWN_LENGTH, wavHeader } from './wav';

/**
 * Writes every chunk of `audio` to a Node `Writable`, waiting for `drain` when it pushes back, so a slow destination
 * slows the pipeline instead of filling memory. Resolves with the bytes written when `audio` completes (the writable
 * is ended unless `end: false`); rejects with `audio`'s error.
 */
export async function writeAudio(audio: Observable<Uint8Array>, writable: Writable, options: { end?: boolean } = {}): Promise<number> {
  let bytes = 0;
  await lastValueFrom(
    audio.pipe(
      concatMap(async (chunk) => {
        bytes += chunk.length;
        if (!writable.write(chunk)) await once(writable, 'drain');
      }),
    ),
    { defaultValue: undefined },
  );
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
 * Writes `audio` to the file at `path`. With `wav`, a header goes first and is patched with the real length when the
 * stream ends, errors, or is unsubscribed, so the file is always playable. Resolves with the audio bytes written.
 */
export async function writeAudioFile(audio: Observable<Uint8Array>, path: string, options: AudioFileOptions = {}): Promise<number> {
  const file = await open(path, 'w');
  let bytes = 0;
  let position = 0;
  const writeAt = async (chunk: Uint8Array, at: number) => {
    await file.write(chunk, 0, chunk.length, at);
  };
  try {
    if (options.wav !== undefined) {
      await writeAt(wavHeader(options.wav.samplingRate, 0), 0);
      position = WAV_HEADER_BYTES;
    }
    await lastValueFrom(
      audio.pipe(
        concatMap(async (chunk) => {
          await writeAt(chunk, position);
          position += chunk.length;
          bytes += chunk.length;
        }),
      ),
      { defaultValue: undefined },
    );
    return bytes;
  } finally {
    if (options.wav !== undefined) await writeAt(wavHeader(options.wav.samplingRate, bytes), 0);
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
    readable.setEncoding('utf8');
    const onData = (text: string) => subscriber.next(text);
    const onEnd = () => subscriber.complete();
    const onError = (error: Error) => subscriber.error(error);
    readable.on('data', onData).once('end', onEnd).once('error', onError);
    return () => {
      readable.off('data', onData).off('end', onEnd).off('error', onError);
      readable.destroy();
    };
  });
}
