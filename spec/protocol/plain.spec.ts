import * as E from 'fp-ts/Either';
import { type ClientMessage, CLEAR, EOS, FLUSH } from '../../lib/protocol/messages';
import { PLAIN_COMMANDS, commandOf, plainWire } from '../../lib/protocol/plain';

describe('protocol/plain', () => {
  it('a frame is a command when, surrounding whitespace aside, it is exactly one', () => {
    expect(commandOf('<EOS>')).toBe('eos');
    expect(commandOf(' <FLUSH>\n')).toBe('flush');
    expect(commandOf('<CLEAR>')).toBe('clear');
    for (const text of ['<eos>', 'Say <EOS>', '<EOS> now', '<EOS><EOS>', '', ' ']) expect(commandOf(text)).toBeUndefined();
  });

  it("Rime's commands, as the seed page gives them", () => {
    expect(PLAIN_COMMANDS).toEqual({ eos: '<EOS>', flush: '<FLUSH>', clear: '<CLEAR>' });
  });

  describe('plainWire, both roles', () => {
    const messages: ClientMessage[] = [{ type: 'text', text: 'Hello, world. ' }, FLUSH, CLEAR, EOS];

    it('the client encodes text as a bare text frame and each command as its tag; the server decodes them back', () => {
      const frames = messages.map((message) => plainWire.encodeClient(message));
      expect(frames).toEqual(['Hello, world. ', '<FLUSH>', '<CLEAR>', '<EOS>']);
      expect(frames.map((frame) => plainWire.decodeClient(frame))).toEqual(messages.map((message) => E.right(message)));
    });

    it('the server reads a command with whitespace around it as the command, and lowercase tags as text', () => {
      expect(plainWire.decodeClient(' <EOS>\n')).toEqual(E.right(EOS));
      expect(plainWire.decodeClient('<eos>')).toEqual(E.right({ type: 'text', text: '<eos>' }));
    });

    it('a binary frame from a client is a protocol error that closes with 1003', () => {
      const decoded = plainWire.decodeClient(new Uint8Array([1, 2]));
      expect(E.isLeft(decoded) && decoded.left).toMatchObject({ kind: 'protocol', closeCode: 1003, message: 'binary frames are not supported: send text' });
    });

    it('audio travels as the raw bytes, the same bytes (no copy) in both directions', () => {
      const bytes = new Uint8Array([1, 2, 3]);
      const frame = plainWire.encodeServer({ type: 'audio', bytes });
      expect(frame).toBe(bytes);
      const decoded = plainWire.decodeServer(frame ?? '');
      expect(E.isRight(decoded) && decoded.right).toEqual({ type: 'audio', bytes });
      expect(E.isRight(decoded) && decoded.right?.type === 'audio' && decoded.right.bytes).toBe(bytes);
    });

    it('has no frame for word timings, the end of a synthesis or an error message', () => {
      expect(plainWire.encodeServer({ type: 'words', words: [{ word: 'Hi', start: 0, end: 0.1 }] })).toBeUndefined();
      expect(plainWire.encodeServer({ type: 'done', contextId: 'a' })).toBeUndefined();
      expect(plainWire.encodeServer({ type: 'error', message: 'no' })).toBeUndefined();
    });

    it('a text frame from the server says nothing on /ws: a client ignores it', () => {
      expect(plainWire.decodeServer('hello')).toEqual(E.right(undefined));
    });

    it('is served on /ws', () => {
      expect(plainWire.path).toBe('/ws');
    });
  });
});
