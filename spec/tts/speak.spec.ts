import { type RimeServer, createRimeServer } from '../../lib/server/createRimeServer';
import { decodeTestSpeech } from '../../lib/server/voices/testVoiceCodec';
import { speak } from '../../lib/tts/speak';

describe('speak(): rimeTts without RxJS', () => {
  let server: RimeServer;
  beforeAll(async () => {
    server = await createRimeServer({ log: () => {} });
  });
  afterAll(() => server.close());
  const config = { speaker: 'cove', audioFormat: 'pcm' as const, apiKey: 'test' };

  it.each(['ws', 'ws3'] as const)('a string, an iterable or an async iterable of tokens in, the audio out (%s)', async (protocol) => {
    async function* tokens() {
      yield 'Hello ';
      yield 'there. How ';
      yield 'are you?';
    }
    for (const text of ['Hello there. How are you?', ['Hello ', 'there. How ', 'are you?'], tokens()]) {
      const chunks: Uint8Array[] = [];
      for await (const chunk of speak(text, { ...config, url: server.urls[protocol], protocol })) chunks.push(chunk);
      expect(decodeTestSpeech(Buffer.concat(chunks)).text).toBe('Hello there. How are you?');
    }
  });

  it('break closes the connection at once and speaks nothing more', async () => {
    const paced = await createRimeServer({ log: () => {}, realTimeFactor: 1 });
    try {
      const closes: string[] = [];
      const watching = paced.events.subscribe((event) => event.type === 'close' && closes.push(event.by));
      let chunks = 0;
      for await (const _chunk of speak('A long first sentence here, and then much more text to come after it.', { ...config, url: paced.url, prewarm: false })) {
        if (++chunks === 2) break;
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
      watching.unsubscribe();
      expect(chunks).toBe(2);
      expect(closes).toEqual(['client']);
    } finally {
      await paced.close();
    }
  });

  it('a slow reader gets every byte, in order (the socket is held back past 256 KiB waiting)', async () => {
    const paced = await createRimeServer({ log: () => {}, frameBytes: 16_384 });
    try {
      const text = Array.from({ length: 60 }, (_, index) => `Sentence ${index} is long enough to make a lot of audio for a slow reader.`).join(' ');
      const chunks: Uint8Array[] = [];
      const iterator = speak(text, { ...config, url: paced.url })[Symbol.asyncIterator]();
      for (let next = await iterator.next(); next.done !== true; next = await iterator.next()) {
        chunks.push(next.value);
        if (chunks.length % 20 === 0) await new Promise((resolve) => setTimeout(resolve, 5));
      }
      expect(decodeTestSpeech(Buffer.concat(chunks)).text).toBe(text);
    } finally {
      await paced.close();
    }
  });

  it('errors are thrown to the reader; a backpressure of the caller is refused', async () => {
    const reading = async () => {
      for await (const _chunk of speak('Hi.', { ...config, url: server.url, speaker: 'nobodyatall' })) void _chunk;
    };
    await expect(reading()).rejects.toMatchObject({ kind: 'invalid-options' });
    const refused = async () => {
      for await (const _chunk of speak('Hi.', { ...config, url: server.url, ...({ backpressure: [] } as object) })) void _chunk;
    };
    await expect(refused()).rejects.toThrow('speak() holds the audio back for its reader itself: give no backpressure');
  });
});
