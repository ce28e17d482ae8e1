import { AudioChunk } from '../audio/chunk';
import type { AudioFormat } from '../options';

/**
 * Chunk hygiene for what the subscriber receives: every pcm chunk holds whole 16-bit samples, and no chunk is a copy.
 *
 * Rime cuts pcm frames at arbitrary byte boundaries, so a frame can end inside a sample. Its last byte is carried,
 * and the next frame first completes the sample that straddles the two: that sample is emitted as a chunk of its own
 * (2 bytes, the only allocation, O(1) per frame), then a view on the rest of the frame. Joining the carried byte and
 * the frame into one new chunk instead would copy every frame after a single odd one (0.75–0.86x the raw client's
 * throughput, measured). Views are safe because transports hand over bytes they never write to again (see
 * `TransportEvent`). So a pcm chunk may be as small as 2 bytes; mp3 and mulaw have no samples to keep whole and pass
 * through as they come. Every chunk is an {@link AudioChunk}: it says its format and rate.
 */
export class AudioChunker {
  /** The last byte of the previous pcm frame when that frame ended inside a sample (a view on it, not a copy). */
  private carried: Uint8Array | undefined;
  /** Counts `reset()` calls, so that `push` notices one made by its own `emit` (a subscriber interrupting). */
  private resets = 0;

  constructor(
    private readonly format: AudioFormat,
    private readonly samplingRate: number,
  ) {}

  /** Passes to `emit`, in order, the chunks `bytes` completes: none, one or two, never an empty one. */
  push(bytes: Uint8Array, emit: (chunk: AudioChunk) => void): void {
    if (bytes.length === 0) return;
    if (this.format !== 'pcm') return emit(this.chunk(bytes));
    let start = 0;
    if (this.carried !== undefined) {
      const straddling = new Uint8Array(2);
      straddling.set(this.carried);
      straddling.set(bytes.subarray(0, 1), 1);
      this.carried = undefined;
      const resets = this.resets;
      emit(this.chunk(straddling));
      // Reset from inside emit: the audio was abandoned, and the rest of this frame belongs to it.
      if (this.resets !== resets) return;
      start = 1;
    }
    const end = bytes.length - ((bytes.length - start) % 2);
    // Carried before emitting, so that a reset() from inside emit forgets it.
    if (end < bytes.length) this.carried = bytes.subarray(end);
    if (end > start) emit(this.chunk(start === 0 && end === bytes.length ? bytes : bytes.subarray(start, end)));
  }

  private chunk(bytes: Uint8Array): AudioChunk {
    return new AudioChunk(bytes, this.format, this.samplingRate);
  }

  /** Forgets a carried byte: the audio it belonged to was abandoned (interruption, failed connection). */
  reset(): void {
    this.carried = undefined;
    this.resets++;
  }
}
