import type { AudioFormat } from '../options';

/**
 * Chunk hygiene for what the subscriber receives: pcm chunks hold whole 16-bit samples (a dangling odd byte is
 * carried into the next chunk). Bytes are passed on without a copy when they are whole already: transports hand
 * over buffers they never write to again (see `TransportEvent`), so no chunk is a view on a reused buffer.
 */
export class AudioChunker {
  private carry: number | undefined;

  constructor(private readonly format: AudioFormat) {}

  /** The chunk to emit for `bytes`, or undefined when nothing whole is ready. */
  next(bytes: Uint8Array): Uint8Array | undefined {
    if (bytes.length === 0) return undefined;
    if (this.format !== 'pcm' || (this.carry === undefined && bytes.length % 2 === 0)) return bytes;
    const carried = this.carry === undefined ? 0 : 1;
    const total = carried + bytes.length;
    const whole = total - (total % 2);
    if (whole === 0) {
      if (bytes.length === 1) this.carry = bytes[0];
      return undefined;
    }
    const chunk = new Uint8Array(whole);
    if (this.carry !== undefined) chunk[0] = this.carry;
    chunk.set(bytes.subarray(0, whole - carried), carried);
    this.carry = total % 2 === 1 ? bytes[bytes.length - 1] : undefined;
    return chunk;
  }

  /** Forgets a carried byte: the audio it belonged to was abandoned (interruption, failed connection). */
  reset(): void {
    this.carry = undefined;
  }
}
