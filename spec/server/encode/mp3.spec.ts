import { createMp3Encoder, nearestMp3Rate } from '../../../lib/server/encode/mp3';
import { framesOf } from '../../../lib/audio/mp3Frames';

function tone(seconds: number, samplingRate: number): Int16Array {
  return Int16Array.from({ length: Math.round(seconds * samplingRate) }, (_, index) =>
    Math.round(8000 * Math.sin((2 * Math.PI * 440 * index) / samplingRate)),
  );
}

function concatenated(parts: Uint8Array[]): Uint8Array {
  const bytes = new Uint8Array(parts.reduce((total, part) => total + part.length, 0));
  parts.reduce((offset, part) => (bytes.set(part, offset), offset + part.length), 0);
  return bytes;
}

describe('nearestMp3Rate()', () => {
  it.each([
    [4000, 8000],
    [8000, 8000],
    [9512, 8000],
    [9513, 11025],
    [14000, 16000],
    [22050, 22050],
    [23000, 22050],
    [23025, 24000],
    [40000, 44100],
    [44100, 44100],
    [46050, 48000],
    [96000, 48000],
  ])('%d Hz -> %d Hz', (rate, expected) => {
    expect(nearestMp3Rate(rate)).toBe(expected);
  });
});

describe('createMp3Encoder()', () => {
  it.each([8000, 16000, 22050, 24000, 44100, 48000, 4000, 23000, 40000])(
    'encodes %d Hz pcm as back-to-back mono Layer III frames at the nearest mp3 rate',
    async (samplingRate) => {
      const encoder = await createMp3Encoder(samplingRate);
      expect(encoder.outputRate).toBe(nearestMp3Rate(samplingRate));
      const input = tone(1, samplingRate);
      const tenth = samplingRate / 10;
      const parts: Uint8Array[] = [];
      for (let start = 0; start < input.length; start += tenth) parts.push(encoder.encode(input.subarray(start, start + tenth)));
      parts.push(encoder.end());
      const mp3 = concatenated(parts);

      expect(mp3[0]).toBe(0xff);
      expect((mp3[1] ?? 0) & 0xe0).toBe(0xe0);
      const frames = framesOf(mp3);
      expect(frames.every((frame) => frame.samplingRate === encoder.outputRate && frame.mono)).toBe(true);
      // lame adds its encoder delay and pads the last frame: at most a few frames more than the input.
      const frameSamples = frames[0]?.samples ?? 0;
      const seconds = (frames.length * frameSamples) / encoder.outputRate;
      expect(seconds).toBeGreaterThanOrEqual(1);
      expect(seconds).toBeLessThanOrEqual(1 + (3 * frameSamples) / encoder.outputRate);
    },
  );

  it('returns chunks that are independent copies', async () => {
    const encoder = await createMp3Encoder(22050);
    const chunks = [0, 1, 2, 3].map(() => encoder.encode(tone(0.5, 22050)));
    const snapshots = chunks.map((chunk) => chunk.slice());
    chunks.push(encoder.end());
    expect(chunks.every((chunk) => chunk.byteOffset === 0 && chunk.byteLength === chunk.buffer.byteLength)).toBe(true);
    expect(new Set(chunks.map((chunk) => chunk.buffer)).size).toBe(chunks.length);
    chunks.slice(0, 4).forEach((chunk, index) => expect(chunk).toEqual(snapshots[index]));
  });
});
