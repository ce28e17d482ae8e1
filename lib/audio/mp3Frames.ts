/** MPEG audio Layer III frame headers: enough to check mp3 output and to count its duration. */
export interface FrameHeader {
  readonly samplingRate: number;
  readonly length: number;
  readonly samples: number;
  readonly mono: boolean;
}

const LAYER_3_KILOBITS = {
  mpeg1: [0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320],
  mpeg2: [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160],
};
/** By the header's two version bits: 0 MPEG-2.5, 1 reserved, 2 MPEG-2, 3 MPEG-1. */
const SAMPLING_RATES = [[11025, 12000, 8000], [], [22050, 24000, 16000], [44100, 48000, 32000]];

/** The MPEG Layer III frame header at `offset`, or undefined if there is none. */
export function frameHeaderAt(bytes: Uint8Array, offset: number): FrameHeader | undefined {
  const [b0 = 0, b1 = 0, b2 = 0, b3 = 0] = bytes.subarray(offset, offset + 4);
  const version = (b1 >> 3) & 3;
  const isLayer3 = ((b1 >> 1) & 3) === 1;
  if (b0 !== 0xff || (b1 & 0xe0) !== 0xe0 || version === 1 || !isLayer3) return undefined;
  const mpeg1 = version === 3;
  const kilobits = (mpeg1 ? LAYER_3_KILOBITS.mpeg1 : LAYER_3_KILOBITS.mpeg2)[b2 >> 4];
  const samplingRate = SAMPLING_RATES[version]?.[(b2 >> 2) & 3];
  if (!kilobits || !samplingRate) return undefined;
  const padding = (b2 >> 1) & 1;
  const length = Math.floor(((mpeg1 ? 144 : 72) * kilobits * 1000) / samplingRate) + padding;
  return { samplingRate, length, samples: mpeg1 ? 1152 : 576, mono: b3 >> 6 === 3 };
}

/** Every frame of `bytes`, which must be frames back to back and nothing else. */
export function framesOf(bytes: Uint8Array): FrameHeader[] {
  const frames: FrameHeader[] = [];
  for (let offset = 0; offset < bytes.length; ) {
    const header = frameHeaderAt(bytes, offset);
    if (!header) throw new Error(`no frame header at byte ${offset} of ${bytes.length}`);
    if (offset + header.length > bytes.length) {
      throw new Error(`the frame at byte ${offset} is cut short: ${bytes.length - offset} of its ${header.length} bytes`);
    }
    frames.push(header);
    offset += header.length;
  }
  return frames;
}


/**
 * Counts the seconds of mp3 audio in a stream of chunks that may cut frames anywhere: feed it every chunk, read
 * `seconds`. Bytes before the first frame header (or between frames, e.g. an ID3 tag) are skipped.
 */
export class Mp3Duration {
  private pending = new Uint8Array(0);
  private samples = 0;
  private samplingRate = 0;

  add(chunk: Uint8Array): void {
    const bytes = new Uint8Array(this.pending.length + chunk.length);
    bytes.set(this.pending);
    bytes.set(chunk, this.pending.length);
    let offset = 0;
    while (offset + 4 <= bytes.length) {
      const header = frameHeaderAt(bytes, offset);
      if (header === undefined) {
        offset++;
        continue;
      }
      if (offset + header.length > bytes.length) break;
      this.samples += header.samples;
      this.samplingRate = header.samplingRate;
      offset += header.length;
    }
    this.pending = bytes.slice(offset);
  }

  get seconds(): number {
    return this.samplingRate === 0 ? 0 : this.samples / this.samplingRate;
  }
}
