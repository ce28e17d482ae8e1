import { CLEAR, type ClientMessage, EOS, FLUSH, textMessage } from '../../lib/protocol/messages';
import { plainWire } from '../../lib/protocol/plain';
import { FakeTransport } from '../../lib/testing/fakeTransport';
import { Link } from '../../lib/tts/link';
import { jsonSpeech, plainSpeech, speechProtocols } from '../../lib/tts/speechProtocol';
import { jsonWire } from '../../lib/protocol/json';

describe('plainSpeech', () => {
  const log: readonly ClientMessage[] = [textMessage('One.'), FLUSH, textMessage(' Two.'), FLUSH, EOS];

  it("speaks Rime's plain /ws through plainWire", () => {
    expect(plainSpeech.wire).toBe(plainWire);
    expect(plainSpeech.wire.path).toBe('/ws');
  });

  it('a retry after a failure (unansweredFrom 0) says the whole log again, in order', () => {
    expect(plainSpeech.replay(log, 0, () => true)).toEqual(log);
  });

  it('after a clean close, only the text no audio answered is said again, from where it begins', () => {
    expect(plainSpeech.replay(log, 2, () => true)).toEqual([textMessage(' Two.'), FLUSH, EOS]);
    expect(plainSpeech.replay(log, 5, () => true)).toEqual([]);
  });

  it('replay gives a new list and leaves the log as it was', () => {
    const original = [...log];
    const replayed = plainSpeech.replay(log, 0, () => true);
    expect(replayed).not.toBe(log);
    expect(log).toEqual(original);
  });

  it('an interruption is <CLEAR>, as its wire encodes it', () => {
    expect(plainSpeech.interruption).toEqual(CLEAR);
    expect(plainSpeech.wire.encodeClient(plainSpeech.interruption)).toBe('<CLEAR>');
  });

  it("replaying a link's log from its unansweredFrom gives the text sent after its latest audio", () => {
    const fake = new FakeTransport();
    const link = new Link(plainSpeech.wire, false, [textMessage('Heard.'), FLUSH], false);
    link.connect(
      {
        url: new URL('ws://127.0.0.1:9/ws'),
        apiKey: 'k',
        handshakeTimeoutMs: 1000,
        transport: fake.transport,
      } as Parameters<Link['connect']>[0],
      (event) => (event.type === 'open' ? link.opened(event) : undefined),
      () => {},
    );
    link.answered(10);
    link.push(textMessage(' Lost.'));
    link.push(FLUSH);
    expect(link.unansweredFrom).toBe(2);
    expect(plainSpeech.replay(link.messages, link.unansweredFrom ?? 0, () => true)).toEqual([textMessage(' Lost.'), FLUSH]);
    expect(fake.connections[0]?.frames).toEqual(['Heard.', '<FLUSH>', ' Lost.', '<FLUSH>']);
  });
});

describe('jsonSpeech', () => {
  const text = (value: string, contextId: string): ClientMessage => ({ type: 'text', text: value, contextId });
  const log: readonly ClientMessage[] = [text('Old.', '0.0'), FLUSH, CLEAR, text('New.', '1.1'), FLUSH, text(' More.', '1.2'), FLUSH, EOS];

  it("speaks /ws3 with contexts, interrupting with clear on the same connection", () => {
    expect(jsonSpeech.wire).toBe(jsonWire);
    expect(jsonSpeech.contexts).toBe(true);
    expect(jsonSpeech.interruption).toBe(CLEAR);
    expect(speechProtocols).toEqual({ ws: plainSpeech, ws3: jsonSpeech });
  });

  it('replays from the first text not done, without the texts of interrupted turns or the clears', () => {
    const live = (message: Extract<ClientMessage, { type: 'text' }>) => message.contextId?.startsWith('1.') === true;
    expect(jsonSpeech.replay(log, 0, live)).toEqual([FLUSH, text('New.', '1.1'), FLUSH, text(' More.', '1.2'), FLUSH, EOS]);
    expect(jsonSpeech.replay(log, 5, live)).toEqual([text(' More.', '1.2'), FLUSH, EOS]);
    expect(jsonSpeech.replay(log, log.length, live)).toEqual([]);
  });
});
