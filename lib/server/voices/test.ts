import { characterBlock, testVoiceBlockLength, utteranceStart } from './testVoiceCodec';
import { type SynthesisRequest, type Voice, parseMarkup, silence } from './voice';

/** Characters per chunk the test voice yields: about a quarter of a second of audio, like a synthesizer's frames. */
const CHARACTERS_PER_CHUNK = 4;

async function* speak(request: SynthesisRequest): AsyncGenerator<Int16Array> {
  const blockLength = testVoiceBlockLength(request.samplingRate, request.speedAlpha);
  yield utteranceStart();
  for (const piece of parseMarkup(request.text, request)) {
    if (piece.kind === 'pause') {
      yield silence(piece.milliseconds, request.samplingRate);
      continue;
    }
    const characters = Array.from(piece.kind === 'text' ? piece.text : `{${piece.phonemes}}`);
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
