import type { AudioFormat } from '../options';
import { Mp3Duration } from './mp3Frames';

/** Seconds of audio in the chunks added so far: by bytes for pcm and mu-law, by frames for mp3. */
export interface AudioClock {
  add(chunk: Uint8Array): void;
  readonly seconds: number;
}

export function audioClock(format: AudioFormat, samplingRate: number): AudioClock {
  if (format === 'mp3') return new Mp3Duration();
  const bytesPerSecond = samplingRate * (format === 'pcm' ? 2 : 1);
  let bytes = 0;
  return {
    add: (chunk) => void (bytes += chunk.length),
    get seconds() {
      return bytes / bytesPerSecond;
    },
  };
}
