import { map } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { rimeTts } from 'rime-rx';
import { FakeTransport } from 'rime-rx/testing';

describe('my pipeline, with FakeTransport playing Rime', () => {
  it('speaks each sentence and completes when Rime closes', () => {
    new TestScheduler((actual, expected) => expect(actual).toEqual(expected)).run(({ cold, expectObservable, flush }) => {
      const fake = new FakeTransport((connection) =>
        cold('-o---a-x').subscribe((step) =>
          step === 'o' ? connection.open() : step === 'a' ? connection.audio('🔊') : connection.close(1000),
        ),
      );
      const audio = cold('a-b|', { a: 'Let me check. ', b: 'It is sunny.' }).pipe(
        rimeTts({ speaker: 'cove', apiKey: 'test', transport: fake.transport }),
      );
      expectObservable(audio.pipe(map((bytes) => new TextDecoder().decode(bytes)))).toBe('-----a-|', { a: '🔊' });
      flush();
      expect(fake.connections[0]?.frames).toEqual(['Let me check.', '<FLUSH>', ' It is sunny.', '<FLUSH>', '<EOS>']);
    });
  });
});
