import fc from 'fast-check';
import { resample } from '../../../lib/server/encode/resample';

const values = (samples: Int16Array) => Array.from(samples);

describe('resample()', () => {
  it('at equal rates returns a copy of the samples', () => {
    const samples = Int16Array.of(1, -2, 3);
    const copy = resample(samples, 22050, 22050);
    expect(values(copy)).toEqual([1, -2, 3]);
    expect(copy).not.toBe(samples);
    copy[0] = 9;
    expect(samples[0]).toBe(1);
  });

  it('at equal rates copies only the samples of a view', () => {
    const view = Int16Array.of(7, 1, 2, 7).subarray(1, 3);
    expect(values(resample(view, 16000, 16000))).toEqual([1, 2]);
    expect(values(resample(view, 8000, 16000))).toEqual([1, 2, 2, 2]);
  });

  it('no samples stay no samples, whatever the rates', () => {
    expect(resample(new Int16Array(0), 8000, 24000).length).toBe(0);
    expect(resample(new Int16Array(0), 24000, 8000).length).toBe(0);
  });

  it('upsampling interpolates linearly between neighbours, holding the last sample', () => {
    expect(values(resample(Int16Array.of(0, 100), 8000, 16000))).toEqual([0, 50, 100, 100]);
    expect(values(resample(Int16Array.of(0, 90, -90), 8000, 24000))).toEqual([0, 30, 60, 90, 30, -30, -90, -90, -90]);
  });

  it('downsampling takes the samples at the new positions, interpolating between them', () => {
    expect(values(resample(Int16Array.of(0, 10, 20, 30), 16000, 8000))).toEqual([0, 20]);
    expect(values(resample(Int16Array.of(0, 30, 60, 90, 120, 150), 24000, 16000))).toEqual([0, 45, 90, 135]);
  });

  it('rounds interpolated values to the nearest integer', () => {
    expect(values(resample(Int16Array.of(0, 1), 8000, 16000))).toEqual([0, 1, 1, 1]);
    expect(values(resample(Int16Array.of(0, 3), 8000, 24000))).toEqual([0, 1, 2, 3, 3, 3]);
  });

  it('is round(n * to / from) samples long, and never empty for non-empty input', () => {
    expect(resample(new Int16Array(22050), 22050, 24000).length).toBe(24000);
    expect(resample(new Int16Array(441), 44100, 48000).length).toBe(480);
    expect(resample(new Int16Array(1000), 22050, 8000).length).toBe(363);
    expect(values(resample(Int16Array.of(-5), 48000, 8000))).toEqual([-5]);
  });

  it('leaves its input alone', () => {
    const samples = Int16Array.of(5, 10, 15);
    resample(samples, 8000, 11025);
    resample(samples, 11025, 8000);
    expect(values(samples)).toEqual([5, 10, 15]);
  });

  it('never overshoots: every output sample lies between the smallest and largest input sample', () => {
    const rates = fc.constantFrom(8000, 11025, 16000, 22050, 24000, 44100, 48000);
    fc.assert(
      fc.property(fc.array(fc.integer({ min: -32768, max: 32767 }), { minLength: 1, maxLength: 200 }), rates, rates, (input, from, to) => {
        const out = resample(Int16Array.from(input), from, to);
        expect(out.length).toBe(from === to ? input.length : Math.max(1, Math.round((input.length * to) / from)));
        const [min, max] = [Math.min(...input), Math.max(...input)];
        expect(out.every((sample) => sample >= min && sample <= max)).toBe(true);
        expect(out[0]).toBe(input[0]);
      }),
    );
  });

  it('keeps a tone a tone: 440 Hz at 8000 Hz, taken to 22050 Hz, is within linear interpolation error of the ideal', () => {
    const wave = (rate: number, length: number) =>
      Int16Array.from({ length }, (_, index) => Math.round(8000 * Math.sin((2 * Math.PI * 440 * index) / rate)));
    const out = resample(wave(8000, 8000), 8000, 22050);
    const ideal = wave(22050, out.length);
    // Linear interpolation of A sin(wt) sampled every h errs by at most A (wh)^2 / 8: here 8000 * 0.1194 / 8 = 119.
    const worst = out.slice(0, -3).reduce((max, sample, index) => Math.max(max, Math.abs(sample - (ideal[index] ?? 0))), 0);
    expect(out.length).toBe(22050);
    expect(worst).toBeLessThanOrEqual(121);
    expect(worst).toBeGreaterThan(50);
  });
});
