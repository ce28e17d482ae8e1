/**
 * The `test` voice's audio format: 16-bit PCM in which every character of the spoken text is a block of about 60 ms
 * that carries the character's code point, so a test can recover exactly what was spoken, in what order, and see a
 * duplicate, a lost sentence or a misaligned byte.
 *
 * A character block: [CHARACTER_MARKER, high 10 bits, low 11 bits, checksum, tone...]. An utterance starts with
 * [UTTERANCE_MARKER, 0 x 7]. Payload and checksum stay below 2048 and the tone below 8000 in magnitude, so neither
 * can be mistaken for a marker. Pauses are silence (zeros).
 */
const CHARACTER_MARKER = 0x7e57;
const UTTERANCE_MARKER = 0x7e58;
const UTTERANCE_BLOCK = 8;
const HEADER = 4;

/** Milliseconds of audio per character at speed 1. */
export const TEST_VOICE_MS_PER_CHARACTER = 60;

function checksum(codePoint: number): number {
  return (Math.imul(codePoint, 0x9e3779b1) >>> 21) & 0x7ff;
}

/** Samples of one character block at `samplingRate` and `speedAlpha` (> 1 is faster, so shorter). */
export function testVoiceBlockLength(samplingRate: number, speedAlpha: number): number {
  return Math.max(HEADER + 4, Math.round((TEST_VOICE_MS_PER_CHARACTER / 1000) * samplingRate / speedAlpha));
}

/** The marker that opens every utterance. */
export function utteranceStart(): Int16Array {
  const block = new Int16Array(UTTERANCE_BLOCK);
  block[0] = UTTERANCE_MARKER;
  return block;
}

/**
 * Blocks already made, by code point, length and rate: the voice is deterministic, so they can be reused. Bounded by
 * the samples they hold, not their number: at a very slow `speedAlpha` one block is a minute of audio.
 */
const blocks = new Map<string, Int16Array>();
const MAX_CACHED_SAMPLES = 4_000_000;
let cachedSamples = 0;

/** The block that speaks `character` (one code point). Callers must not modify it: it is shared. */
export function characterBlock(character: string, blockLength: number, samplingRate: number): Int16Array {
  const codePoint = character.codePointAt(0) ?? 0;
  const key = `${codePoint}:${blockLength}:${samplingRate}`;
  const known = blocks.get(key);
  if (known !== undefined) return known;
  const block = new Int16Array(blockLength);
  block[0] = CHARACTER_MARKER;
  block[1] = codePoint >>> 11;
  block[2] = codePoint & 0x7ff;
  block[3] = checksum(codePoint);
  const frequency = 180 + (codePoint % 48) * 10;
  for (let index = HEADER; index < blockLength; index++) {
    block[index] = Math.round(6000 * Math.sin((2 * Math.PI * frequency * index) / samplingRate));
  }
  if (blockLength > MAX_CACHED_SAMPLES / 100) return block; // too long to be worth keeping
  if (cachedSamples + blockLength > MAX_CACHED_SAMPLES) {
    blocks.clear();
    cachedSamples = 0;
  }
  blocks.set(key, block);
  cachedSamples += blockLength;
  return block;
}

export interface DecodedTestSpeech {
  /** Each utterance's text, in the order spoken. */
  readonly utterances: readonly string[];
  /** All the text, utterances joined. */
  readonly text: string;
  /** Blocks whose checksum failed: misaligned or corrupted bytes. */
  readonly corruptBlocks: number;
  /** The audio ends inside a block header (cut mid-character). */
  readonly truncated: boolean;
}

/**
 * Recovers the text the `test` voice spoke from its pcm output (16-bit little-endian), as received by a client:
 * the bytes of one or more connections, concatenated.
 *
 * @example
 * const { utterances } = decodeTestSpeech(Buffer.concat(chunks));
 * expect(utterances).toEqual(['Hello there.', ' How are you?']);
 */
export function decodeTestSpeech(pcm: Uint8Array): DecodedTestSpeech {
  const view = new DataView(pcm.buffer, pcm.byteOffset, pcm.byteLength - (pcm.byteLength % 2));
  const count = view.byteLength / 2;
  const sample = (index: number) => view.getInt16(index * 2, true);
  const utterances: string[] = [];
  let current: string[] | undefined;
  let corruptBlocks = 0;
  let truncated = pcm.byteLength % 2 === 1;
  for (let index = 0; index < count; index++) {
    const value = sample(index);
    if (value === UTTERANCE_MARKER) {
      if (current !== undefined) utterances.push(current.join(''));
      current = [];
    } else if (value === CHARACTER_MARKER) {
      if (index + HEADER > count) {
        truncated = true;
        break;
      }
      const codePoint = (sample(index + 1) << 11) | sample(index + 2);
      if (codePoint > 0x10ffff || sample(index + 3) !== checksum(codePoint)) {
        corruptBlocks++;
        continue;
      }
      (current ??= []).push(String.fromCodePoint(codePoint));
      index += HEADER - 1;
    }
  }
  if (current !== undefined) utterances.push(current.join(''));
  return { utterances, text: utterances.join(''), corruptBlocks, truncated };
}
