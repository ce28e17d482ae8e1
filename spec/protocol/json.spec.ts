import * as E from 'fp-ts/Either';
import { CLEAR, type ClientMessage, EOS, FLUSH, type ServerMessage } from '../../lib/protocol/messages';
import { jsonWire } from '../../lib/protocol/json';

const left = (decoded: E.Either<unknown, unknown>) => (E.isLeft(decoded) ? decoded.left : undefined);

describe('protocol/json: jsonWire, both roles', () => {
  it('is served on /ws3', () => {
    expect(jsonWire.path).toBe('/ws3');
  });

  it('the client encodes text (with its context when it has one) and operations as Rime documents them; the server decodes them back', () => {
    const messages: ClientMessage[] = [{ type: 'text', text: 'Hi. ' }, { type: 'text', text: 'There.', contextId: 't1' }, FLUSH, CLEAR, EOS];
    const frames = messages.map((message) => jsonWire.encodeClient(message));
    expect(frames).toEqual(['{"text":"Hi. "}', '{"text":"There.","contextId":"t1"}', '{"operation":"flush"}', '{"operation":"clear"}', '{"operation":"eos"}']);
    expect(frames.map((frame) => jsonWire.decodeClient(frame))).toEqual(messages.map((message) => E.right(message)));
  });

  it.each([
    ['not json', 'not JSON from the client: "not json"'],
    ['{"operation":"stop"}', 'expected {"text": ...} or {"operation": "flush" | "clear" | "eos"}, got: "{\\"operation\\":\\"stop\\"}"'],
    ['{"text":5}', 'expected {"text": ...} or {"operation": "flush" | "clear" | "eos"}, got: "{\\"text\\":5}"'],
    ['[1]', 'expected {"text": ...} or {"operation": "flush" | "clear" | "eos"}, got: "[1]"'],
  ])('a malformed client frame %j is a protocol error without a close code (the server answers it and stays open)', (frame, message) => {
    const error = left(jsonWire.decodeClient(frame));
    expect(error).toMatchObject({ kind: 'protocol', message });
    expect(error).not.toHaveProperty('closeCode');
  });

  it('a binary client frame is refused the same way; a long frame is quoted only in part', () => {
    expect(left(jsonWire.decodeClient(new Uint8Array(3)))).toMatchObject({ message: 'a binary frame from the client (the JSON protocol sends text): 3 binary bytes' });
    const long = `{"nope":"${'x'.repeat(10_000)}"}`;
    expect(String((left(jsonWire.decodeClient(long)) as Error).message).length).toBeLessThan(200);
  });

  it('the server encodes every message with its context, the client decodes each back', () => {
    const messages: ServerMessage[] = [
      { type: 'audio', bytes: new Uint8Array([0, 1, 254, 255]), contextId: 'a' },
      { type: 'words', words: [{ word: 'Hi.', start: 0, end: 0.25 }, { word: 'There', start: 0.3, end: 0.6 }], contextId: 'a' },
      { type: 'done', contextId: null },
      { type: 'error', message: 'text is too long' },
    ];
    const frames = messages.map((message) => jsonWire.encodeServer(message) ?? '');
    expect(JSON.parse(String(frames[0]))).toEqual({ type: 'chunk', data: 'AAH+/w==', contextId: 'a' });
    expect(JSON.parse(String(frames[1]))).toEqual({ type: 'timestamps', word_timestamps: { words: ['Hi.', 'There'], start: [0, 0.3], end: [0.25, 0.6] }, contextId: 'a' });
    expect(frames.map((frame) => jsonWire.decodeServer(frame))).toEqual(messages.map((message) => E.right(message)));
  });

  it('a chunk without a context, or with null, says so; a type Rime does not document is ignored', () => {
    expect(jsonWire.decodeServer('{"type":"chunk","data":"AA=="}')).toEqual(E.right({ type: 'audio', bytes: new Uint8Array([0]) }));
    expect(jsonWire.decodeServer('{"type":"chunk","data":"AA==","contextId":null}')).toEqual(E.right({ type: 'audio', bytes: new Uint8Array([0]), contextId: null }));
    expect(jsonWire.decodeServer('{"type":"metrics","value":3}')).toEqual(E.right(undefined));
  });

  it.each([
    ['{"type":"chunk","data":"not base64!"}', 'a malformed chunk message from Rime'],
    ['{"type":"chunk","data":"AAA"}', 'a malformed chunk message from Rime'],
    ['{"type":"chunk"}', 'a malformed chunk message from Rime'],
    ['{"type":"timestamps","word_timestamps":{"words":["a"],"start":[0],"end":[]}}', 'a malformed timestamps message from Rime'],
    ['{"type":"timestamps","word_timestamps":{"words":["a"],"start":[1],"end":[0.5]}}', 'a malformed timestamps message from Rime'],
    ['{"type":"done","contextId":7}', 'a malformed done message from Rime'],
    ['{"type":"error"}', 'a malformed error message from Rime'],
    ['{"data":"AA=="}', 'a message from Rime without a type'],
    ['}{', 'not JSON from the server'],
  ])('a malformed server frame %j is a protocol error, never a crash', (frame, message) => {
    const error = left(jsonWire.decodeServer(frame));
    expect(error).toMatchObject({ kind: 'protocol', retryable: false });
    expect(String((error as Error).message).startsWith(message)).toBe(true);
  });

  it('a binary server frame is a protocol error: the JSON protocol sends text', () => {
    expect(left(jsonWire.decodeServer(new Uint8Array(2)))).toMatchObject({ kind: 'protocol' });
  });

  it('audio decodes to a view of the decoded bytes, whatever its size', () => {
    const bytes = Uint8Array.from({ length: 100_001 }, (_, index) => index % 251);
    const decoded = jsonWire.decodeServer(jsonWire.encodeServer({ type: 'audio', bytes, contextId: 'x' }) ?? '');
    expect(E.isRight(decoded) && decoded.right?.type === 'audio' && Buffer.compare(Buffer.from(decoded.right.bytes), Buffer.from(bytes))).toBe(0);
  });
});
