import type { AudioFormat } from '../options';

/**
 * Audio bytes that say what they are: a view (never a copy) on the bytes received, with the connection's
 * `audioFormat` and `samplingRate`, so that a sink can refuse to write mp3 under a WAV header, or pcm under a header
 * of another rate. `rimeTts` emits them. Arrays made from one (`subarray`, `slice`, `map`) are plain `Uint8Array`s:
 * a piece of an mp3 chunk is not a whole mp3 stream, and a mapped chunk is no longer the audio it was.
 */
export class AudioChunk extends Uint8Array<ArrayBufferLike> {
  static get [Symbol.species](): Uint8ArrayConstructor {
    return Uint8Array;
  }

  constructor(
    bytes: Uint8Array,
    readonly format: AudioFormat,
    readonly samplingRate: number,
  ) {
    super(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
}
