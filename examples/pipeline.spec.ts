/**
 * A marble test of your own pipeline, with no network: FakeTransport plays Rime's part.
 *
 *   npx jest examples/pipeline.spec.ts
 */
import { rimeTts } from 'rime-rx';
import { FakeTransport } from 'rime-rx/testing';
import { filter, map } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';

/** The pipeline under test: speak only the assistant's text, never its tool calls. */
function speakAssistant(transport: FakeTransport) {
  return (messages: import('rxjs').Observable<{ role: 'assistant' | 'tool'; text: string }>) =>
    messages.pipe(
      filter((message) => message.role === 'assistant'),
      map((message) => message.text),
      rimeTts({ speaker: 'cove', apiKey: 'test', transport: transport.transport }),
    );
}

it('sends only the assistant text to Rime, and emits its audio', () => {
  new TestScheduler((actual, expected) => expect(actual).toEqual(expected)).run(({ cold, expectObservable, flush }) => {
    const fake = new FakeTransport((connection) =>
      cold('-o---a-a-x').subscribe((step) => (step === 'o' ? connection.open() : step === 'a' ? connection.audio('🔊') : connection.close(1000))),
    );
    const messages = cold('a-t-b|', {
      a: { role: 'assistant' as const, text: 'Let me check. ' },
      t: { role: 'tool' as const, text: '{"weather":"sunny"}' },
      b: { role: 'assistant' as const, text: 'It is sunny.' },
    });
    const audio = messages.pipe(speakAssistant(fake), map((bytes) => new TextDecoder().decode(bytes)));
    expectObservable(audio).toBe('-----a-a-|', { a: '🔊' }); // the audio of each sentence, then Rime's close
    flush();
    expect(fake.connections[0]?.frames).toEqual(['Let me check.', '<FLUSH>', ' It is sunny.', '<FLUSH>', '<EOS>']);
  });
});
