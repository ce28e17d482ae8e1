import { type OperatorFunction, Observable } from 'rxjs';
import { described, isNumberIn } from '../codecs';
import { RimeError } from '../errors';
import { defaulted, parseFields, required } from '../fields';
import { AudioChunk } from './chunk';

const frameFields = {
  /** Milliseconds of audio in each frame (telephony and WebRTC use 10 or 20). */
  ms: required(described('an integer number of milliseconds from 1 to 1000', isNumberIn(1, 1000, true)), { doc: 'milliseconds of audio in each frame' }),
  /** Fill the last frame with silence to the full duration (default true), or emit it short. */
  pad: defaulted(described('true or false', (u): u is boolean => typeof u === 'boolean'), true, { doc: 'fill the last frame with silence' }),
};

/** Bytes a sample takes, and the byte of silence, by format. */
const SAMPLES = { pcm: { bytes: 2, silence: 0 }, mulaw: { bytes: 1, silence: 0xff } } as const;

/**
 * Re-cuts pcm or mu-law audio into frames of exactly `ms` milliseconds each, as telephony and WebRTC want them
 * (8 kHz mu-law in 20 ms frames: 160 bytes). Sample-accurate; a frame that lies within one chunk is a view on it, and
 * only a frame that straddles chunks is copied. The last frame is padded with silence to the full length unless
 * `pad: false`. Chunks must say their format and rate (`AudioChunk`, as `rimeTts` emits them); mp3, whose frames are
 * its own, is refused, as is a change of format or rate in the middle.
 *
 * ```
 * audio:  -a----b--|        a = 250 bytes, b = 150 bytes (mu-law at 8000 Hz; ms: 20, so 160 bytes a frame)
 * frames: -x----y--(w|)     x = a's first 160   y = a's last 90 and b's first 70   w = b's last 80 and 80 of silence
 * ```
 *
 * @example
 * speech$.pipe(audioFrames({ ms: 20 })).subscribe((frame) => media.send(frame));
 */
export function audioFrames(options: { readonly ms: number; readonly pad?: boolean }): OperatorFunction<Uint8Array, AudioChunk> {
  const { ms, pad } = parseFields(frameFields, options);
  return (source) =>
    new Observable<AudioChunk>((subscriber) => {
      let kind: { readonly format: 'pcm' | 'mulaw'; readonly samplingRate: number; readonly frameBytes: number } | undefined;
      /** The start of a frame that the next chunk completes (a copy: its bytes come from two chunks or more). */
      let partial: Uint8Array | undefined;
      let partialLength = 0;
      const fail = (message: string) => subscriber.error(RimeError.invalidOptions([message]));
      return source.subscribe({
        next: (chunk) => {
          if (!(chunk instanceof AudioChunk) || chunk.format === 'mp3') {
            return fail(`audioFrames takes pcm or mulaw AudioChunks (as rimeTts emits them), got ${chunk instanceof AudioChunk ? 'mp3' : 'bytes that say no format'}`);
          }
          if (kind === undefined) {
            const frameBytes = (chunk.samplingRate * ms * SAMPLES[chunk.format].bytes) / 1000;
            if (!Number.isInteger(frameBytes / SAMPLES[chunk.format].bytes)) return fail(`${ms} ms is not a whole number of samples at ${chunk.samplingRate} Hz`);
            kind = { format: chunk.format, samplingRate: chunk.samplingRate, frameBytes };
          } else if (chunk.format !== kind.format || chunk.samplingRate !== kind.samplingRate) {
            return fail(`the audio changed from ${kind.format} at ${kind.samplingRate} Hz to ${chunk.format} at ${chunk.samplingRate} Hz`);
          }
          const { frameBytes, format, samplingRate } = kind;
          let start = 0;
          if (partial !== undefined) {
            const taken = Math.min(frameBytes - partialLength, chunk.length);
            partial.set(chunk.subarray(0, taken), partialLength);
            partialLength += taken;
            start = taken;
            if (partialLength < frameBytes) return;
            const frame = partial;
            partial = undefined;
            partialLength = 0;
            subscriber.next(new AudioChunk(frame, format, samplingRate));
          }
          for (; start + frameBytes <= chunk.length && !subscriber.closed; start += frameBytes) {
            subscriber.next(new AudioChunk(chunk.subarray(start, start + frameBytes), format, samplingRate));
          }
          if (start < chunk.length) {
            partial = new Uint8Array(frameBytes);
            partial.set(chunk.subarray(start));
            partialLength = chunk.length - start;
          }
        },
        error: (error: unknown) => subscriber.error(error),
        complete: () => {
          if (partial !== undefined && kind !== undefined) {
            const last = pad ? partial.fill(SAMPLES[kind.format].silence, partialLength) : partial.subarray(0, partialLength);
            subscriber.next(new AudioChunk(last, kind.format, kind.samplingRate));
          }
          subscriber.complete();
        },
      });
    });
}
