import { lastValueFrom, of, toArray } from 'rxjs';
import { rimeTts } from 'rime-rx';
import { type RimeServer, createRimeServer } from 'rime-rx/server';
import { decodeTestSpeech } from 'rime-rx/testing';

describe('my pipeline, against the local server', () => {
  let server: RimeServer;
  beforeAll(async () => {
    server = await createRimeServer({ voice: 'test', log: () => {} }); // 127.0.0.1, a free port
  });
  afterAll(() => server.close());

  it('speaks every sentence, in order, once', async () => {
    const text$ = of('Hello there. ', 'How are you?');
    const chunks = await lastValueFrom(
      text$.pipe(rimeTts({ speaker: 'cove', audioFormat: 'pcm', url: server.url, apiKey: 'any' }), toArray()),
    );
    expect(decodeTestSpeech(Buffer.concat(chunks)).utterances).toEqual(['Hello there.', ' How are you?']);
  });
});
