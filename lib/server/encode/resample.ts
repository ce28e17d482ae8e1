/**
 * Resamples 16-bit mono PCM from one rate to another by linear interpolation. Stateless per call: good enough for
 * speech from a synthesizer whose chunks are whole phrases, and exact (a copy) when the rates are equal.
 */
export function resample(samples: Int16Array, fromRate: number, toRate: number): Int16Array {
  if (fromRate === toRate || samples.length === 0) return samples.slice();
  const length = Math.max(1, Math.round((samples.length * toRate) / fromRate));
  const out = new Int16Array(length);
  const step = fromRate / toRate;
  for (let index = 0; index < length; index++) {
    const position = index * step;
    const left = Math.floor(position);
    const fraction = position - left;
    const a = samples[Math.min(left, samples.length - 1)] ?? 0;
    const b = samples[Math.min(left + 1, samples.length - 1)] ?? 0;
    out[index] = Math.round(a + (b - a) * fraction);
  }
  return out;
}
