import { createEspeakVoice } from '../../../lib/server/voices/espeak';
import type { WordTiming } from '../../../lib/protocol/messages';
import type { SynthesisRequest, Voice } from '../../../lib/server/voices/voice';
import { synthesisRequest } from '../../support/text';

const SENTENCE: Record<string, string> = {
  eng: 'The quick brown fox jumps.',
  spa: 'El perro come pan hoy.',
  fra: 'Le chat dort sur le lit.',
  ger: 'Der Hund spielt im Garten.',
};

async function chunksOf(voice: Voice, synthesis: SynthesisRequest): Promise<Int16Array[]> {
  const chunks: Int16Array[] = [];
  for await (const chunk of voice.synthesize(synthesis)) chunks.push(chunk);
  return chunks;
}

async function audioOf(voice: Voice, synthesis: SynthesisRequest): Promise<Int16Array> {
  const chunks = await chunksOf(voice, synthesis);
  const audio = new Int16Array(chunks.reduce((total, chunk) => total + chunk.length, 0));
  chunks.reduce((offset, chunk) => (audio.set(chunk, offset), offset + chunk.length), 0);
  return audio;
}

const rms = (audio: Int16Array): number => Math.sqrt(audio.reduce((sum, sample) => sum + sample * sample, 0) / audio.length);

describe('the espeak voice', () => {
  let voice: Voice;
  beforeAll(async () => {
    voice = await createEspeakVoice();
  });
  afterAll(() => voice.close());

  it("reports word timings from espeak's word events: every word, in order, within the audio, after a pause where it is", async () => {
    const words: WordTiming[] = [];
    const text = 'Hello there, my friend. <500> Rock & roll!';
    const audio = await audioOf(voice, { ...synthesisRequest(text, { pauseBetweenBrackets: true }), words: (timings) => words.push(...timings) });
    expect(words.map((word) => word.word)).toEqual(['Hello', 'there,', 'my', 'friend.', 'Rock', '&', 'roll!']);
    const seconds = audio.length / 22050;
    words.forEach((word, index) => {
      expect(word.end).toBeGreaterThanOrEqual(word.start);
      expect(word.end).toBeLessThanOrEqual(seconds + 1e-9);
      if (index > 0) expect(word.start).toBeGreaterThanOrEqual(words[index - 1]?.start ?? 0);
    });
    // The pause is silence between "friend." and "Rock": at least its 500 ms.
    expect((words[4]?.start ?? 0) - (words[3]?.end ?? 0)).toBeGreaterThanOrEqual(0.5 - 1e-9);
    expect(words.at(-1)?.end).toBeCloseTo(seconds, 6);
  });

  it.each(Object.entries(SENTENCE))('speaks %s', async (lang, text) => {
    const audio = await audioOf(voice, synthesisRequest(text, { lang }));
    expect(rms(audio)).toBeGreaterThan(500);
    expect(audio.length / 22050).toBeGreaterThan(0.5);
    expect(audio.length / 22050).toBeLessThan(5);
  });

  // espeak's fricatives are random noise and its waveform phase carries over from the previous utterance, so audio
  // is compared by length, which varies by a few samples at most.
  it('speaks an unknown language as English', async () => {
    const english = await audioOf(voice, synthesisRequest(SENTENCE.eng ?? ''));
    expect((await audioOf(voice, synthesisRequest(SENTENCE.eng ?? '', { lang: 'xyz' }))).length).toBeCloseTo(english.length, -2);
  });

  it('yields clause by clause', async () => {
    const chunks = await chunksOf(voice, synthesisRequest('One sentence here. Another one there. And a third.'));
    expect(chunks.length).toBeGreaterThanOrEqual(3);
  });

  it('honours the sampling rate', async () => {
    const [low, native, high] = await Promise.all(
      [16000, 22050, 44100].map((samplingRate) => audioOf(voice, synthesisRequest(SENTENCE.eng ?? '', { samplingRate }))),
    );
    const seconds = (native?.length ?? 0) / 22050;
    expect((low?.length ?? 0) / 16000).toBeCloseTo(seconds, 2);
    expect((high?.length ?? 0) / 44100).toBeCloseTo(seconds, 2);
  });

  it('speaks faster with a higher speedAlpha', async () => {
    const normal = await audioOf(voice, synthesisRequest(SENTENCE.eng ?? ''));
    const fast = await audioOf(voice, synthesisRequest(SENTENCE.eng ?? '', { speedAlpha: 2 }));
    expect(fast.length).toBeLessThan(normal.length * 0.7);
  });

  it('turns a <500> pause into 500 ms of silence between the phrases', async () => {
    const flags = { pauseBetweenBrackets: true, samplingRate: 16000 };
    const chunks = await chunksOf(voice, synthesisRequest('Hello there. <500> How are you?', flags));
    const before = await audioOf(voice, synthesisRequest('Hello there. ', flags));
    const after = await audioOf(voice, synthesisRequest(' How are you?', flags));
    expect(chunks).toContainEqual(new Int16Array(8000));
    expect(chunks.reduce((total, chunk) => total + chunk.length, 0)).toBeCloseTo(before.length + 8000 + after.length, -2);
  });

  it('speaks {phonemes} with phonemizeBetweenBrackets', async () => {
    const audio = await audioOf(voice, synthesisRequest("{h@'loU}", { phonemizeBetweenBrackets: true }));
    expect(rms(audio)).toBeGreaterThan(500);
    expect(audio.length / 22050).toBeGreaterThan(0.2);
  });

  it('serves concurrent requests, each with its own audio', async () => {
    const requests = ['eng', 'spa', 'fra', 'ger', 'eng', 'spa'].map((lang, index) =>
      synthesisRequest(`${SENTENCE[lang] ?? ''} ${index}.`, { lang, speaker: `speaker ${index}` }),
    );
    const alone: number[] = [];
    for (const synthesis of requests) alone.push((await audioOf(voice, synthesis)).length);
    const together = await Promise.all(requests.map((synthesis) => audioOf(voice, synthesis)));
    together.forEach((audio, index) => expect(audio.length).toBeCloseTo(alone[index] ?? 0, -2));
  });

  it('stops when the consumer stops, and goes on serving', async () => {
    const iterator = voice.synthesize(synthesisRequest('First clause. Second clause. Third clause. Fourth clause.'))[Symbol.asyncIterator]();
    expect((await iterator.next()).done).toBe(false);
    expect(await iterator.return?.()).toEqual({ done: true, value: undefined });
    expect(rms(await audioOf(voice, synthesisRequest(SENTENCE.eng ?? '')))).toBeGreaterThan(500);
  });

  it('rejects once closed', async () => {
    const closing = await createEspeakVoice();
    await closing.close();
    await expect(audioOf(closing, synthesisRequest('Too late.'))).rejects.toThrow('the espeak voice is closed');
  });
});
