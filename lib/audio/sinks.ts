import { once } from 'node:events';
import { open } from 'node:fs/promises';
import { Readable, type Writable } from 'node:stream';
import { Observable, type Subscription } from 'rxjs';
import { RimeError } from '../errors';
import { AudioChunk } from './chunk';
import { WAV_HEADER_BYTES, WAV_UNKNOWN_LENGTH, wavHeader } from './wav';

/**
 * Where a sink says whether it can take more audio: `true` when it is full, `false` when it can again. Pass the same
 * `Subject<boolean>` to `rimeTts({ backpressure })` and to the sink, and the socket is not read while the sink is
 * full, so a slow destination holds the audio back in the network instead of in memory.
 */
export interface Backpressure {
  readonly next: (full: boolean) => void;
}

export interface SinkOptions {
  /**
   * Told `true` when the sink is full, `false` when it can take more: for `writeAudio` and `writeAudioFile`, more
   * than `highWaterMark` bytes waiting to be written, then half of that left; for the readables, as they describe.
   */
  readonly backpressure?: Backpressure;
  /** Bytes waiting to be written past which the sink is full (default: the destination's own, or 64 KiB). */
  readonly highWaterMark?: number;
}

const DEFAULT_HIGH_WATER_MARK = 64 * 1024;

/** Tells `backpressure` each change between full and not full, never the same twice. */
function pressureGauge(backpressure: Backpressure | undefined): { full(now: boolean): void } {
  let full = false;
  return {
    full(now) {
      if (now === full) return;
      full = now;
      backpressure?.next(now);
    },
  };
}

/**
 * Writes every chunk of `audio` in order with `write`, one write at a time. On completion or a source error, the
 * writes already queued finish first (nothing that arrived is lost); a failed write, or `abandon` rejecting,
 * unsubscribes from `audio` at once. Resolves when everything is written. While more than `highWaterMark` bytes wait,
 * `backpressure` is told the sink is full.
 */
function writeEach(
  audio: Observable<Uint8Array>,
  write: (chunk: Uint8Array) => Promise<void> | void,
  options: SinkOptions & { readonly highWaterMark: number },
  abandon?: Promise<never>,
): Promise<void> {
  return new Promise((resolve, reject) => {
    let queue: Promise<void> = Promise.resolve();
    let subscription: Subscription | undefined;
    let failed = false;
    let waiting = 0;
    const gauge = pressureGauge(options.backpressure);
    const fail = (error: unknown) => {
      if (failed) return;
      failed = true;
      subscription?.unsubscribe();
      reject(error);
    };
    abandon?.catch(fail);
    subscription = audio.subscribe({
      next: (chunk) => {
        waiting += chunk.length;
        if (waiting > options.highWaterMark) gauge.full(true);
        queue = queue
          .then(() => (failed ? undefined : write(chunk)))
          .then(() => {
            waiting -= chunk.length;
            if (waiting <= options.highWaterMark / 2) gauge.full(false);
          });
        queue.catch(fail);
      },
      error: (error: unknown) => void queue.then(() => fail(error), fail),
      complete: () => void queue.then(() => !failed && resolve(), fail),
    });
    if (failed) subscription.unsubscribe();
  });
}

/**
 * Writes every chunk of `audio` to a Node `Writable`, one at a time, waiting for `drain` when it pushes back.
 * Resolves with the bytes written when `audio` completes (the writable is ended unless `end: false`); rejects with
 * `audio`'s error, or when the destination fails or closes first (an HTTP client that went away), and then stops
 * listening to `audio` so no more speech is made for nobody.
 *
 * Audio arrives at the pace Rime makes it, faster than a player or a slow client takes it: what the destination has
 * not taken waits in memory, unless `backpressure` is given (the same `Subject<boolean>` as `rimeTts`'s), which
 * stops reading the socket while more than `highWaterMark` bytes (default: the writable's own) wait.
 *
 * @example
 * const backpressure = new Subject<boolean>();
 * await writeAudio(text$.pipe(rimeTts({ speaker: 'cove', backpressure })), response, { backpressure });
 */
export async function writeAudio(
  audio: Observable<Uint8Array>,
  writable: Writable,
  options: SinkOptions & { readonly end?: boolean } = {},
): Promise<number> {
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
      { ...options, highWaterMark: options.highWaterMark ?? writable.writableHighWaterMark },
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

export interface AudioFileOptions extends SinkOptions {
  /** Write a WAV header for this pcm stream (16-bit mono at `samplingRate`), patched with the real length at the end. */
  readonly wav?: { readonly samplingRate: number };
}

/**
 * Writes `audio` to the file at `path`. With `wav`, a header goes first (audio that says it is not pcm at that rate,
 * as `rimeTts`'s {@link AudioChunk}s do, is refused with an `invalid-options` error before anything is written) and is patched with the length actually
 * written when the stream ends, errors, or is unsubscribed, so the file always plays. Resolves with the audio bytes
 * written; on a source error, everything that arrived is written before the error is passed on. With
 * `backpressure`, the socket is not read while more than `highWaterMark` (64 KiB) bytes wait for the disk.
 */
export async function writeAudioFile(audio: Observable<Uint8Array>, path: string, options: AudioFileOptions = {}): Promise<number> {
  const file = await open(path, 'w');
  const headerBytes = options.wav === undefined ? 0 : WAV_HEADER_BYTES;
  let bytes = 0;
  try {
    if (options.wav !== undefined) await file.write(wavHeader(options.wav.samplingRate, 0), 0, WAV_HEADER_BYTES, 0);
    await writeEach(
      audio,
      async (chunk) => {
        if (options.wav !== undefined) checkWavAudio(chunk, options.wav.samplingRate);
        await file.write(chunk, 0, chunk.length, headerBytes + bytes);
        bytes += chunk.length;
      },
      { ...options, highWaterMark: options.highWaterMark ?? DEFAULT_HIGH_WATER_MARK },
    );
    return bytes;
  } finally {
    if (options.wav !== undefined) await file.write(wavHeader(options.wav.samplingRate, bytes), 0, WAV_HEADER_BYTES, 0);
    await file.close();
  }
}

/**
 * A WAV file holds 16-bit pcm at one rate: audio that says it is something else (an {@link AudioChunk} of mp3, or of
 * another rate) would play as noise, so it is refused before a byte of it is written. Plain `Uint8Array`s say
 * nothing and are written as they are.
 */
function checkWavAudio(chunk: Uint8Array, samplingRate: number): void {
  if (!(chunk instanceof AudioChunk)) return;
  if (chunk.format !== 'pcm') {
    const file = chunk.format === 'mp3' ? '.mp3' : '.ulaw';
    throw RimeError.invalidOptions([`the audio is ${chunk.format}, and a WAV file holds pcm: ask rimeTts for audioFormat 'pcm', or write a ${file} file without wav`]);
  }
  if (chunk.samplingRate !== samplingRate) {
    throw RimeError.invalidOptions([`the audio is ${chunk.samplingRate} Hz pcm, and the WAV header would say ${samplingRate} Hz: give wav: { samplingRate: ${chunk.samplingRate} }`]);
  }
}

/** `audio` with a WAV header of unknown length first: for pipes, which cannot be rewritten at the end. */
export function streamingWavHeader(samplingRate: number): Uint8Array {
  return wavHeader(samplingRate, WAV_UNKNOWN_LENGTH);
}

/**
 * A Node `Readable` of `audio`; the subscription starts on the first read and ends when the stream is destroyed.
 * Audio arrives at the pace Rime synthesizes it, so chunks the reader has not taken yet are buffered, not refused;
 * with `backpressure`, the socket is not read from when the buffer passes `highWaterMark` (64 KiB) until Node asks
 * for more (the buffer is under it again), so the flag may turn at every chunk read near the mark.
 */
export function toNodeReadable(audio: Observable<Uint8Array>, options: SinkOptions = {}): Readable {
  let subscription: Subscription | undefined;
  const gauge = pressureGauge(options.backpressure);
  return new Readable({
    highWaterMark: options.highWaterMark ?? DEFAULT_HIGH_WATER_MARK,
    read() {
      gauge.full(false);
      subscription ??= audio.subscribe({
        next: (chunk) => {
          if (!this.push(chunk)) gauge.full(true);
        },
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

/**
 * A web `ReadableStream` of `audio`; cancelling the stream unsubscribes. With `backpressure`, the socket is not read
 * while the stream's queue is past `highWaterMark` bytes (64 KiB); the stream says nothing of its reader but `pull`,
 * so reading starts again at the next pull (each time the reader takes a chunk from a full queue).
 */
export function toReadableStream(audio: Observable<Uint8Array>, options: SinkOptions = {}): ReadableStream<Uint8Array> {
  let subscription: Subscription | undefined;
  const gauge = pressureGauge(options.backpressure);
  return new ReadableStream<Uint8Array>(
    {
      start(controller) {
        subscription = audio.subscribe({
          next: (chunk) => {
            controller.enqueue(chunk);
            if ((controller.desiredSize ?? 1) <= 0) gauge.full(true);
          },
          error: (error: unknown) => controller.error(error),
          complete: () => controller.close(),
        });
      },
      pull() {
        gauge.full(false);
      },
      cancel() {
        subscription?.unsubscribe();
      },
    },
    new ByteLengthQueuingStrategy({ highWaterMark: options.highWaterMark ?? DEFAULT_HIGH_WATER_MARK }),
  );
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
