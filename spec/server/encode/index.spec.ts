import { framesOf } from '../../../lib/audio/mp3Frames';
import { createEncoder, createMulawEncoder, createPcmEncoder, mulawOf, sampleOfMulaw } from '../../../lib/server/encode';
import type { Mp3Encoder } from '../../../lib/server/encode/mp3';
import { concatenated, tone } from '../../support/audio';


const everySample = Int16Array.from({ length: 65536 }, (_, index) => index - 32768);

describe('createPcmEncoder()', () => {
  it('writes 16-bit signed little-endian samples', () => {
    const bytes = createPcmEncoder().encode(Int16Array.of(1, -2, 0x1234, -32768, 32767, 0));
    expect(Array.from(bytes)).toEqual([0x01, 0x00, 0xfe, 0xff, 0x34, 0x12, 0x00, 0x80, 0xff, 0x7f, 0x00, 0x00]);
  });

  it('reads only the samples of a view, not the rest of its buffer', () => {
    const view = Int16Array.of(9, 9, 1, 2, 9).subarray(2, 4);
    expect(Array.from(createPcmEncoder().encode(view))).toEqual([1, 0, 2, 0]);
  });

  it('returns fresh bytes every call: later changes to the samples, or another call, leave them alone', () => {
    const encoder = createPcmEncoder();
    const samples = Int16Array.of(1, 2);
    const first = encoder.encode(samples);
    const second = encoder.encode(samples);
    samples[0] = 7;
    expect(Array.from(first)).toEqual([1, 0, 2, 0]);
    expect(first.buffer).not.toBe(second.buffer);
    expect(first.buffer).not.toBe(samples.buffer);
    expect([first.byteOffset, first.byteLength, first.buffer.byteLength]).toEqual([0, 4, 4]);
  });

  it('has nothing left at the end, and encodes no samples as no bytes', () => {
    const encoder = createPcmEncoder();
    expect(encoder.encode(new Int16Array(0)).length).toBe(0);
    expect(encoder.end().length).toBe(0);
  });
});

describe('mulawOf() and sampleOfMulaw()', () => {
  it.each([
    [0, 0xff],
    [1, 0xff],
    [-1, 0x7f],
    [1000, 0xce],
    [-1000, 0x4e],
    [32635, 0x80],
    [32767, 0x80],
    [-32768, 0x00],
  ])('G.711 µ-law of %d is byte %d', (sample, byte) => {
    expect(mulawOf(sample)).toBe(byte);
  });

  it.each([
    [0xff, 0],
    [0x80, 32124],
    [0x00, -32124],
    [0x01, -31100],
    [0x70, -120],
    [0x7e, -8],
    [0xce, 988],
    [0x4e, -988],
  ])('µ-law byte %d stands for %d', (byte, sample) => {
    expect(sampleOfMulaw(byte)).toBe(sample);
  });

  it('0x7f, the negative zero, stands for 0 too', () => {
    expect(Math.abs(sampleOfMulaw(0x7f))).toBe(0);
  });

  it('every byte decodes to a sample that encodes back to it (but 0x7f, which is 0xff)', () => {
    const back = Array.from({ length: 256 }, (_, byte) => mulawOf(sampleOfMulaw(byte)));
    expect(back).toEqual(Array.from({ length: 256 }, (_, byte) => (byte === 0x7f ? 0xff : byte)));
  });

  it('decoded bytes are ordered: 0x00 to 0x7f rise from the most negative to 0, 0x80 to 0xff fall from the most positive', () => {
    const negatives = Array.from({ length: 128 }, (_, byte) => sampleOfMulaw(byte));
    const positives = Array.from({ length: 128 }, (_, byte) => sampleOfMulaw(0x80 + byte));
    expect(negatives.every((sample, index) => index === 0 || sample > (negatives[index - 1] ?? 0))).toBe(true);
    expect(positives.every((sample, index) => index === 0 || sample < (positives[index - 1] ?? 0))).toBe(true);
  });

  it('every 16-bit sample comes back within half a quantization step ((|s| + 132) / 32)', () => {
    const worst = everySample.reduce((max, sample) => {
      const error = Math.abs(sampleOfMulaw(mulawOf(sample)) - sample);
      return Math.max(max, error - (Math.abs(sample) + 132) / 32);
    }, -Infinity);
    expect(worst).toBeLessThanOrEqual(0);
  });

  it('keeps the sign of every sample louder than the first step', () => {
    const flipped = everySample.filter((sample) => Math.abs(sample) > 8 && Math.sign(sampleOfMulaw(mulawOf(sample))) !== Math.sign(sample));
    expect(Array.from(flipped)).toEqual([]);
  });
});

describe('createMulawEncoder()', () => {
  it('writes one µ-law byte per sample, fresh every call, and nothing at the end', () => {
    const encoder = createMulawEncoder();
    const samples = Int16Array.of(0, -1, 1000, -1000, 32767, -32768);
    const bytes = encoder.encode(samples);
    expect(Array.from(bytes)).toEqual([0xff, 0x7f, 0xce, 0x4e, 0x80, 0x00]);
    expect(encoder.encode(samples)).not.toBe(bytes);
    expect(encoder.encode(new Int16Array(0)).length).toBe(0);
    expect(encoder.end().length).toBe(0);
  });

  it('encodes a view as its samples only', () => {
    expect(Array.from(createMulawEncoder().encode(Int16Array.of(32767, 0, -1).subarray(1)))).toEqual([0xff, 0x7f]);
  });
});

describe('createEncoder()', () => {
  it('pcm: the pcm encoder', async () => {
    const encoder = await createEncoder('pcm', 16000);
    expect(Array.from(encoder.encode(Int16Array.of(-2, 3)))).toEqual([0xfe, 0xff, 0x03, 0x00]);
    expect(encoder.end().length).toBe(0);
  });

  it('mulaw: the µ-law encoder, at the rate asked for (one byte per sample)', async () => {
    const encoder = await createEncoder('mulaw', 8000);
    expect(Array.from(encoder.encode(Int16Array.of(0, 1000)))).toEqual([0xff, 0xce]);
    expect(encoder.encode(tone(1, 8000)).length).toBe(8000);
    expect(encoder.end().length).toBe(0);
  });

  it.each([
    [22050, 22050],
    [44100, 44100],
    [16000, 16000],
    [23000, 22050],
    [4000, 8000],
  ])('mp3 at %d Hz: mono Layer III frames at %d Hz, about as long as the input', async (samplingRate, outputRate) => {
    const encoder = await createEncoder('mp3', samplingRate);
    expect((encoder as Mp3Encoder).outputRate).toBe(outputRate);
    const bytes = concatenated([encoder.encode(tone(0.5, samplingRate)), encoder.encode(tone(0.5, samplingRate)), encoder.end()]);
    const frames = framesOf(bytes);
    expect(frames.every((frame) => frame.samplingRate === outputRate && frame.mono)).toBe(true);
    const frameSamples = frames[0]?.samples ?? 0;
    const seconds = (frames.length * frameSamples) / outputRate;
    expect(seconds).toBeGreaterThanOrEqual(1);
    expect(seconds).toBeLessThanOrEqual(1 + (3 * frameSamples) / outputRate);
  });

  it('makes a new encoder per call: one utterance each', async () => {
    const first = await createEncoder('mp3', 22050);
    const second = await createEncoder('mp3', 22050);
    expect(first).not.toBe(second);
    const a = concatenated([first.encode(tone(0.3, 22050)), first.end()]);
    const b = concatenated([second.encode(tone(0.3, 22050)), second.end()]);
    expect(Array.from(b)).toEqual(Array.from(a));
  });
});
