import fc from 'fast-check';
import { Mp3Duration, frameHeaderAt, framesOf } from '../../lib/audio/mp3Frames';
import { createMp3Encoder } from '../../lib/server/encode/mp3';
import { concatenated, tone } from '../support/audio';


/** Real mp3: `seconds` of a tone encoded by lamejs at `samplingRate` (an mp3 rate, so no resampling). */
async function mp3(seconds: number, samplingRate: number): Promise<Uint8Array> {
  const encoder = await createMp3Encoder(samplingRate);
  expect(encoder.outputRate).toBe(samplingRate);
  return concatenated([encoder.encode(tone(seconds, samplingRate)), encoder.end()]);
}

/** A frame with the given four header bytes and a silent (all-zero) body, `length` bytes in all. */
function frame(header: readonly number[], length: number): Uint8Array {
  const bytes = new Uint8Array(length);
  bytes.set(header);
  return bytes;
}

// MPEG-1 Layer III, no CRC, 128 kbit/s, 44100 Hz, no padding, mono: 144 * 128000 / 44100 = 417.9 -> 417 bytes.
const MPEG1_128K_44100 = [0xff, 0xfb, 0x90, 0xc4];

describe('frameHeaderAt()', () => {
  it.each<[string, number[], { samplingRate: number; length: number; samples: number; mono: boolean }]>([
    ['MPEG-1, 128 kbit/s, 44100 Hz, mono', MPEG1_128K_44100, { samplingRate: 44100, length: 417, samples: 1152, mono: true }],
    ['MPEG-1, 128 kbit/s, 44100 Hz, padded', [0xff, 0xfb, 0x92, 0xc4], { samplingRate: 44100, length: 418, samples: 1152, mono: true }],
    ['MPEG-1, 64 kbit/s, 48000 Hz, stereo', [0xff, 0xfb, 0x54, 0x00], { samplingRate: 48000, length: 192, samples: 1152, mono: false }],
    ['MPEG-1, 320 kbit/s, 32000 Hz, joint stereo', [0xff, 0xfb, 0xe8, 0x44], { samplingRate: 32000, length: 1440, samples: 1152, mono: false }],
    ['MPEG-1 with CRC', [0xff, 0xfa, 0x90, 0xc4], { samplingRate: 44100, length: 417, samples: 1152, mono: true }],
    ['MPEG-2, 64 kbit/s, 22050 Hz, mono', [0xff, 0xf3, 0x80, 0xc4], { samplingRate: 22050, length: 208, samples: 576, mono: true }],
    ['MPEG-2, 160 kbit/s, 16000 Hz, dual channel', [0xff, 0xf3, 0xe8, 0x80], { samplingRate: 16000, length: 720, samples: 576, mono: false }],
    ['MPEG-2.5, 32 kbit/s, 8000 Hz, mono', [0xff, 0xe3, 0x48, 0xc4], { samplingRate: 8000, length: 288, samples: 576, mono: true }],
    ['MPEG-2.5, 32 kbit/s, 8000 Hz, padded', [0xff, 0xe3, 0x4a, 0xc4], { samplingRate: 8000, length: 289, samples: 576, mono: true }],
    ['MPEG-2.5, 8 kbit/s, 12000 Hz', [0xff, 0xe3, 0x14, 0xc4], { samplingRate: 12000, length: 48, samples: 576, mono: true }],
  ])('reads %s', (_, header, expected) => {
    expect(frameHeaderAt(Uint8Array.from(header), 0)).toEqual(expected);
  });

  it.each<[string, number[]]>([
    ['no sync byte', [0xfe, 0xfb, 0x90, 0xc4]],
    ['a sync cut short', [0xff, 0xdb, 0x90, 0xc4]],
    ['the reserved version', [0xff, 0xeb, 0x90, 0xc4]],
    ['Layer I', [0xff, 0xff, 0x90, 0xc4]],
    ['Layer II', [0xff, 0xfd, 0x90, 0xc4]],
    ['the reserved layer', [0xff, 0xf9, 0x90, 0xc4]],
    ['a free bitrate', [0xff, 0xfb, 0x00, 0xc4]],
    ['the bad bitrate', [0xff, 0xfb, 0xf0, 0xc4]],
    ['the reserved sampling rate', [0xff, 0xfb, 0x9c, 0xc4]],
    ['ID3', [0x49, 0x44, 0x33, 0x04]],
    ['zeros', [0, 0, 0, 0]],
    ['nothing', []],
    ['two bytes', [0xff, 0xfb]],
  ])('finds no header in %s', (_, bytes) => {
    expect(frameHeaderAt(Uint8Array.from(bytes), 0)).toBeUndefined();
  });

  it('reads the header at the offset given', () => {
    const bytes = Uint8Array.from([0, 1, 2, ...MPEG1_128K_44100]);
    expect(frameHeaderAt(bytes, 0)).toBeUndefined();
    expect(frameHeaderAt(bytes, 3)).toEqual({ samplingRate: 44100, length: 417, samples: 1152, mono: true });
    expect(frameHeaderAt(bytes, 7)).toBeUndefined();
    expect(frameHeaderAt(bytes, 100)).toBeUndefined();
  });

  it.each([
    [44100, 1152, [208, 209]],
    [48000, 1152, [192]],
    [22050, 576, [208, 209]],
    [16000, 576, [144]],
    [11025, 576, [208, 209]],
    [8000, 576, [288]],
  ])("reads lamejs's %d Hz frames: %d samples, mono, %j bytes long", async (samplingRate, samples, lengths) => {
    const bytes = await mp3(0.5, samplingRate);
    const header = frameHeaderAt(bytes, 0);
    expect(header).toEqual({ samplingRate, samples, mono: true, length: lengths[0] });
    expect(lengths).toContain(header?.length);
  });
});

describe('framesOf()', () => {
  it('reads every frame of back-to-back frames', () => {
    const mono = frame(MPEG1_128K_44100, 417);
    const padded = frame([0xff, 0xfb, 0x92, 0xc4], 418);
    const stereo = frame([0xff, 0xfb, 0x54, 0x00], 192);
    expect(framesOf(concatenated([mono, padded, stereo]))).toEqual([
      { samplingRate: 44100, length: 417, samples: 1152, mono: true },
      { samplingRate: 44100, length: 418, samples: 1152, mono: true },
      { samplingRate: 48000, length: 192, samples: 1152, mono: false },
    ]);
    expect(framesOf(new Uint8Array(0))).toEqual([]);
  });

  it.each([44100, 22050, 8000])('reads real %d Hz mp3 to its last byte, every frame mono at that rate', async (samplingRate) => {
    const bytes = await mp3(1, samplingRate);
    const frames = framesOf(bytes);
    expect(frames.reduce((total, header) => total + header.length, 0)).toBe(bytes.length);
    expect(frames.every((header) => header.samplingRate === samplingRate && header.mono)).toBe(true);
    // One second, plus lame's encoder delay and the padding of the last frame: at most three frames more.
    const samples = frames.length * (frames[0]?.samples ?? 0);
    expect(samples).toBeGreaterThanOrEqual(samplingRate);
    expect(samples).toBeLessThanOrEqual(samplingRate + 3 * (frames[0]?.samples ?? 0));
  });

  it('throws where the bytes are not a frame, naming the offset', async () => {
    const bytes = await mp3(0.2, 22050);
    expect(() => framesOf(concatenated([Uint8Array.of(0), bytes]))).toThrow(`no frame header at byte 0 of ${bytes.length + 1}`);
    expect(() => framesOf(concatenated([bytes, new TextEncoder().encode('TAG!')]))).toThrow(
      `no frame header at byte ${bytes.length} of ${bytes.length + 4}`,
    );
    const first = frameHeaderAt(bytes, 0)?.length ?? 0;
    const broken = bytes.slice();
    broken[first] = 0;
    expect(() => framesOf(broken)).toThrow(`no frame header at byte ${first} of ${bytes.length}`);
  });

  it('throws when the last frame is cut short', async () => {
    const bytes = await mp3(0.2, 22050);
    const frames = framesOf(bytes);
    const lastAt = bytes.length - (frames.at(-1)?.length ?? 0);
    expect(() => framesOf(bytes.subarray(0, bytes.length - 1))).toThrow(
      `the frame at byte ${lastAt} is cut short: ${bytes.length - 1 - lastAt} of its ${frames.at(-1)?.length} bytes`,
    );
  });
});

describe('Mp3Duration', () => {
  it('is 0 before any frame', () => {
    const duration = new Mp3Duration();
    expect(duration.seconds).toBe(0);
    duration.add(new Uint8Array(0));
    duration.add(Uint8Array.of(0xff, 0xfb));
    expect(duration.seconds).toBe(0);
  });

  it('counts the samples of every whole frame at their rate', () => {
    const duration = new Mp3Duration();
    const frames = Array.from({ length: 10 }, (_, index) => frame(index % 2 === 0 ? MPEG1_128K_44100 : [0xff, 0xfb, 0x92, 0xc4], 417 + (index % 2)));
    duration.add(concatenated(frames));
    expect(duration.seconds).toBe((10 * 1152) / 44100);
  });

  it('counts a frame cut across chunks once its last byte has come', () => {
    const duration = new Mp3Duration();
    const whole = frame([0xff, 0xe3, 0x48, 0xc4], 288); // 576 samples at 8000 Hz
    duration.add(whole.subarray(0, 3));
    duration.add(whole.subarray(3, 287));
    expect(duration.seconds).toBe(0);
    duration.add(whole.subarray(287));
    expect(duration.seconds).toBe(576 / 8000);
    duration.add(whole);
    expect(duration.seconds).toBe(1152 / 8000);
  });

  it('skips bytes before the first frame and between frames (an ID3 tag, junk)', () => {
    const id3 = concatenated([new TextEncoder().encode('ID3'), new Uint8Array(7), new TextEncoder().encode('title')]);
    const one = frame(MPEG1_128K_44100, 417);
    const duration = new Mp3Duration();
    duration.add(concatenated([id3, one, new TextEncoder().encode('junk'), one, one]));
    expect(duration.seconds).toBe((3 * 1152) / 44100);
  });

  it("counts lamejs's mp3 as framesOf does, however the stream is cut", async () => {
    const bytes = await mp3(1, 22050);
    const expected = (framesOf(bytes).length * 576) / 22050;
    expect(expected).toBeGreaterThanOrEqual(1);
    const whole = new Mp3Duration();
    whole.add(bytes);
    expect(whole.seconds).toBe(expected);
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 700 }), { minLength: 1, maxLength: 30 }), (sizes) => {
        const duration = new Mp3Duration();
        for (let start = 0, index = 0; start < bytes.length; index++) {
          const size = sizes[index % sizes.length] ?? 1;
          duration.add(bytes.subarray(start, start + size));
          start += size;
        }
        expect(duration.seconds).toBe(expected);
      }),
      { numRuns: 100 },
    );
  });

  it('does not count the last frame of a stream cut short', async () => {
    const bytes = await mp3(0.5, 44100);
    const frames = framesOf(bytes);
    const duration = new Mp3Duration();
    duration.add(bytes.subarray(0, bytes.length - 1));
    expect(duration.seconds).toBe(((frames.length - 1) * 1152) / 44100);
  });
});
