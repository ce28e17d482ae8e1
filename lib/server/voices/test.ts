import { characterBlock, testVoiceBlockLength, utteranceStart } from './testVoiceCodec';
import { type SynthesisRequest, type Voice, parseMarkup, silence } from './voice';

/** Characters per chunk the test voice yields: about a quarter of a second of audio, like a synthesizer's frames. */
const CHARACTERS_PER_CHUNK = 4;

/**
 * The words of `characters` and where each starts and ends, in characters: a word is a run of non-whitespace (a
 * phoneme group is one word, as it is spoken as one).
 */
function wordsOf(characters: readonly string[]): { readonly word: string; readonly from: number; readonly to: number }[] {
  const words: { word: string; from: number; to: number }[] = [];
  characters.forEach((character, index) => {
    const last = words[words.length - 1];
    if (/\s/.test(character)) return;
    if (last !== undefined && last.to === index) {
      last.word += character;
      last.to = index + 1;
    } else words.push({ word: character, from: index, to: index + 1 });
  });
  return words;
}

async function* speak(request: SynthesisRequest): AsyncGenerator<Int16Array> {
  const { samplingRate } = request;
  const blockLength = testVoiceBlockLength(samplingRate, request.speedAlpha);
  const start = utteranceStart();
  /** Samples before the current piece: word timings are exact, by construction. */
  let position = start.length;
  yield start;
  for (const piece of parseMarkup(request.text, request)) {
    if (piece.kind === 'pause') {
      const pause = silence(piece.milliseconds, samplingRate);
      position += pause.length;
      yield pause;
      continue;
    }
    const characters = Array.from(piece.kind === 'text' ? piece.text : `{${piece.phonemes}}`);
    const at = (index: number) => (position + index * blockLength) / samplingRate;
    request.words?.(wordsOf(characters).map(({ word, from, to }) => ({ word, start: at(from), end: at(to) })));
    position += characters.length * blockLength;
    for (let start = 0; start < characters.length; start += CHARACTERS_PER_CHUNK) {
      const blocks = characters
        .slice(start, start + CHARACTERS_PER_CHUNK)
        .map((character) => characterBlock(character, blockLength, request.samplingRate));
      const chunk = new Int16Array(blocks.reduce((total, block) => total + block.length, 0));
      blocks.reduce((offset, block) => (chunk.set(block, offset), offset + block.length), 0);
      yield chunk;
    }
  }
}

/**
 * The deterministic `test` voice: fast, and its pcm encodes the text it was made from (decode it with
 * `decodeTestSpeech` from `rime-rx/testing`). Pauses are silence; phoneme groups are spoken as their literal text.
 */
export function createTestVoice(): Voice {
  return { name: 'test', synthesize: speak, close: async () => {} };
}
