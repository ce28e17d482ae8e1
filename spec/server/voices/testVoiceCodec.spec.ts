import fc from 'fast-check';
import { createPcmEncoder } from '../../../lib/server/encode';
import { createTestVoice } from '../../../lib/server/voices/test';
import { decodeTestSpeech, testVoiceBlockLength } from '../../../lib/server/voices/testVoiceCodec';
import { synthesisRequest } from '../../support/text';


async function pcmOf(...texts: string[]): Promise<Uint8Array> {
  const encoder = createPcmEncoder();
  const parts: Uint8Array[] = [];
  for (const text of texts) {
    for await (const samples of createTestVoice().synthesize(synthesisRequest(text))) parts.push(encoder.encode(samples));
  }
  return Buffer.concat(parts);
}

describe('the test voice and decodeTestSpeech()', () => {
  it('recovers any text exactly, utterance by utterance', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.string({ unit: 'grapheme', maxLength: 20 }), { maxLength: 4 }), async (texts) => {
        const decoded = decodeTestSpeech(await pcmOf(...texts));
        expect(decoded.utterances).toEqual(texts);
        expect(decoded.corruptBlocks).toBe(0);
        expect(decoded.truncated).toBe(false);
      }),
      { numRuns: 50 },
    );
  });

  it('shows a duplicate as a repeated utterance', async () => {
    expect(decodeTestSpeech(await pcmOf('One.', 'One.')).utterances).toEqual(['One.', 'One.']);
  });

  it('says when audio is cut inside a block header or has an odd byte', async () => {
    const audio = await pcmOf('Hello');
    const markerOfO = audio.length - testVoiceBlockLength(22050, 1) * 2;
    expect(decodeTestSpeech(audio.subarray(0, markerOfO + 4))).toMatchObject({ text: 'Hell', truncated: true });
    expect(decodeTestSpeech(audio.subarray(0, audio.length - 1))).toMatchObject({ text: 'Hello', truncated: true });
  });

  it('finds nothing in misaligned bytes (a lost byte shows)', async () => {
    const audio = await pcmOf('Misaligned text');
    const decoded = decodeTestSpeech(audio.subarray(1));
    expect(decoded.text).not.toBe('Misaligned text');
  });

  it('speaks about 60 ms a character, faster with speedAlpha, and pauses as silence', async () => {
    expect(testVoiceBlockLength(22050, 1)).toBe(1323);
    expect(testVoiceBlockLength(8000, 2)).toBe(240);
    expect(testVoiceBlockLength(4000, 100)).toBe(8);
    let samples = 0;
    for await (const chunk of createTestVoice().synthesize(synthesisRequest('a<500>b', { pauseBetweenBrackets: true }))) samples += chunk.length;
    expect(samples).toBe(8 + 2 * 1323 + 11025);
  });

  it('yields chunks of a few characters, not the whole utterance at once', async () => {
    const chunks: number[] = [];
    for await (const chunk of createTestVoice().synthesize(synthesisRequest('twelve chars'))) chunks.push(chunk.length);
    expect(chunks).toEqual([8, 4 * 1323, 4 * 1323, 4 * 1323]);
  });
});
