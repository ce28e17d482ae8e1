import { type RimeServer, createRimeServer } from '../../lib/server/createRimeServer';
import { sampleOfMulaw } from '../../lib/server/encode';
import { framesOf } from '../../lib/audio/mp3Frames';
import { open, speak } from '../support/wsClient';

function rms(samples: ArrayLike<number>): number {
  let sum = 0;
  for (let index = 0; index < samples.length; index++) sum += (samples[index] ?? 0) ** 2;
  return Math.sqrt(sum / Math.max(1, samples.length));
}

function pcmSamples(bytes: Buffer): Int16Array {
  return Int16Array.from({ length: bytes.length >> 1 }, (_, index) => bytes.readInt16LE(index * 2));
}

describe('the server with the espeak voice', () => {
  let server: RimeServer;
  beforeAll(async () => {
    server = await createRimeServer({ log: () => {}, voice: 'espeak' });
  });
  afterAll(() => server.close());

  it.each([
    ['cove', 'eng', 'This is a sentence, that will produce audio.'],
    ['sofia', 'spa', 'Esta es una frase que producirá audio.'],
    ['simone', 'fra', 'Ceci est une phrase qui produira du son.'],
    ['klaus', 'ger', 'Dies ist ein Satz, der Ton erzeugen wird.'],
  ])('speaks %s (%s) as real, non-silent pcm of plausible length', async (speaker, lang, text) => {
    const session = await open(server.url, { speaker, lang, audioFormat: 'pcm', samplingRate: 16000 });
    await expect(speak(session, [text])).resolves.toEqual({ code: 1000, reason: '' });
    const samples = pcmSamples(session.audio());
    const seconds = samples.length / 16000;
    expect(seconds).toBeGreaterThan(1);
    expect(seconds).toBeLessThan(6);
    expect(rms(samples)).toBeGreaterThan(500);
  });

  it('sends mp3 as valid MPEG frames at the rate asked for, or the nearest one mp3 carries', async () => {
    for (const [samplingRate, expected] of [
      [22050, 22050],
      [40000, 44100],
    ] as const) {
      const session = await open(server.url, { speaker: 'cove', audioFormat: 'mp3', samplingRate });
      await speak(session, ['Hello there.', ' How are you today?']);
      const frames = framesOf(session.audio());
      expect(new Set(frames.map((frame) => frame.samplingRate))).toEqual(new Set([expected]));
      const seconds = frames.reduce((total, frame) => total + frame.samples, 0) / expected;
      expect(seconds).toBeGreaterThan(1);
      expect(seconds).toBeLessThan(6);
    }
  });

  it('sends mulaw at 8 kHz that decodes to speech', async () => {
    const session = await open(server.url, { speaker: 'cove', audioFormat: 'mulaw', samplingRate: 8000 });
    await speak(session, ['Telephone quality speech.']);
    const samples = Array.from(session.audio(), sampleOfMulaw);
    expect(samples.length / 8000).toBeGreaterThan(0.8);
    expect(rms(samples)).toBeGreaterThan(500);
  });

  it('honours speedAlpha and pauses', async () => {
    const durations: number[] = [];
    for (const query of [{ speedAlpha: 1, pauseBetweenBrackets: false }, { speedAlpha: 2, pauseBetweenBrackets: false }, { speedAlpha: 1, pauseBetweenBrackets: true }]) {
      const session = await open(server.url, { speaker: 'cove', audioFormat: 'pcm', samplingRate: 16000, ...query });
      await speak(session, [query.pauseBetweenBrackets ? 'One two three <1000> four five six.' : 'One two three four five six.']);
      durations.push(session.audio().length / 2 / 16000);
    }
    const [normal = 0, fast = 0, paused = 0] = durations;
    expect(fast).toBeLessThan(normal * 0.75);
    expect(paused - normal).toBeGreaterThan(0.8);
  });
});
