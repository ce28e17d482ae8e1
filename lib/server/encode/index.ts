import type { AudioFormat } from '../../options';
import type { Encoder } from './encoder';
import { createMp3Encoder } from './mp3';

const littleEndian = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;

/** pcm: 16-bit signed little-endian mono, whatever the platform's byte order. Every call returns fresh bytes. */
export function createPcmEncoder(): Encoder {
  return {
    encode(samples) {
      const bytes = new Uint8Array(samples.buffer.slice(samples.byteOffset, samples.byteOffset + samples.byteLength));
      if (!littleEndian) {
        const view = new DataView(bytes.buffer);
        for (let index = 0; index < samples.length; index++) view.setInt16(index * 2, samples[index] ?? 0, true);
      }
      return bytes;
    },
    end: () => new Uint8Array(0),
  };
}

/** G.711 µ-law of one 16-bit sample. */
export function mulawOf(sample: number): number {
  const sign = sample < 0 ? 0x80 : 0;
  let magnitude = Math.min(Math.abs(sample), 32635) + 0x84;
  let exponent = 7;
  for (let mask = 0x4000; (magnitude & mask) === 0 && exponent > 0; mask >>= 1) exponent--;
  const mantissa = (magnitude >> (exponent + 3)) & 0x0f;
  magnitude = ~(sign | (exponent << 4) | mantissa);
  return magnitude & 0xff;
}

/** The 16-bit sample a µ-law byte stands for (for checking output). */
export function sampleOfMulaw(byte: number): number {
  const inverted = ~byte & 0xff;
  const exponent = (inverted >> 4) & 0x07;
  const magnitude = ((((inverted & 0x0f) << 3) + 0x84) << exponent) - 0x84;
  return inverted & 0x80 ? -magnitude : magnitude;
}

/** mulaw: G.711 µ-law, one byte per sample, at the sampling rate asked for. */
export function createMulawEncoder(): Encoder {
  return {
    encode: (samples) => Uint8Array.from(samples, mulawOf),
    end: () => new Uint8Array(0),
  };
}

/** An encoder for one utterance. mp3's encoder (LGPL lamejs) is loaded only when a connection asks for mp3. */
export async function createEncoder(format: AudioFormat, samplingRate: number): Promise<Encoder> {
  switch (format) {
    case 'pcm':
      return createPcmEncoder();
    case 'mulaw':
      return createMulawEncoder();
    case 'mp3':
      return createMp3Encoder(samplingRate);
  }
}
