import { readFileSync } from 'node:fs';
import type { Encoder } from './encoder';
import { resample } from './resample';

/** An mp3 encoder, whose output may be at another rate than asked for: see `nearestMp3Rate`. */
export interface Mp3Encoder extends Encoder {
  readonly outputRate: number;
}

/** The part of lamejs used here. */
interface Lame {
  Mp3Encoder: new (channels: number, samplingRate: number, kilobitsPerSecond: number) => {
    encodeBuffer(samples: Int16Array): Int8Array | Uint8Array;
    flush(): Int8Array | Uint8Array;
  };
}

/** The sampling rates MPEG-1, 2 and 2.5 Layer III can carry. */
const MP3_RATES = [8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000] as const;

/** The mp3 rate nearest to `rate`; of two equally near, the higher, so no bandwidth is lost. */
export function nearestMp3Rate(rate: number): number {
  return MP3_RATES.reduce((best, candidate) => (Math.abs(candidate - rate) <= Math.abs(best - rate) ? candidate : best));
}

let lame: Lame | undefined;

/** What to tell someone who asks this server for mp3 without the optional encoder installed. */
export const MP3_MISSING = 'mp3 needs the optional package @breezystack/lamejs: npm install @breezystack/lamejs';

/** Whether lamejs can be loaded: asked at the upgrade, so a missing encoder is a clear refusal, not a failed synthesis. */
export function mp3Available(): boolean {
  if (lame !== undefined) return true;
  try {
    require.resolve('@breezystack/lamejs');
    return true;
  } catch {
    return false;
  }
}

/**
 * lamejs (LGPL, optional) is loaded on first use only. Its CommonJS entry is an IIFE bundle that assigns a `lamejs`
 * variable and exports nothing, and its ESM entry cannot be imported from CommonJS under jest, so the bundle is
 * evaluated directly.
 */
function loadLame(): Lame {
  if (lame) return lame;
  let bundle: string;
  try {
    bundle = readFileSync(require.resolve('@breezystack/lamejs'), 'utf8');
  } catch (error) {
    throw new Error(MP3_MISSING, { cause: error });
  }
  lame = new Function(`${bundle}\nreturn lamejs;`)() as Lame;
  return lame;
}

/** A mono mp3 encoder for one utterance of `samplingRate` pcm; rejects, saying what to install, without lamejs. */
export async function createMp3Encoder(samplingRate: number): Promise<Mp3Encoder> {
  const outputRate = nearestMp3Rate(samplingRate);
  const encoder = new (loadLame().Mp3Encoder)(1, outputRate, outputRate <= 16000 ? 32 : 64);
  return {
    outputRate,
    encode: (samples) => freshBytes(encoder.encodeBuffer(resample(samples, samplingRate, outputRate))),
    end: () => freshBytes(encoder.flush()),
  };
}

/** lamejs encodes into one reused buffer and promises no copy of it; callers keep what they get, so they get one. */
function freshBytes(bytes: Int8Array | Uint8Array): Uint8Array {
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength).slice();
}
