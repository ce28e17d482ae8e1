import { TestScheduler } from 'rxjs/testing';
import { RimeError } from '../../lib/errors';
import { CLEAR, type ClientMessage, EOS, FLUSH, textMessage } from '../../lib/protocol/messages';
import { jsonWire } from '../../lib/protocol/json';
import { plainWire } from '../../lib/protocol/plain';
import { type FakeConnection, FakeTransport } from '../../lib/testing/fakeTransport';
import type { Transport, TransportEvent } from '../../lib/transport/transport';
import { Link, type Turn } from '../../lib/tts/link';
import { ttsSettings } from '../support/settings';

const scheduler = () => new TestScheduler((actual, expected) => expect(actual).toEqual(expected));

const MIB = 1024 * 1024;


/** Connects `link` on a fresh fake (which opens at once unless `opens` is false), as the lineup does: open -> opened. */
function connect(link: Link, opens = true) {
  const fake = new FakeTransport(opens ? (connection) => connection.open() : () => {});
  const events: TransportEvent['type'][] = [];
  const errors: unknown[] = [];
  const given = ttsSettings(fake.transport, { handshakeTimeoutMs: 1234 });
  link.connect(
    given,
    (event) => {
      events.push(event.type);
      if (event.type === 'open') link.opened(event);
    },
    (error) => errors.push(error),
  );
  const connection = fake.connections[0] as FakeConnection;
  return { fake, connection, events, errors, given };
}

const link = (messages: readonly ClientMessage[] = [], { queued = false, synthesizesText = false } = {}) =>
  new Link(plainWire, synthesizesText, messages, queued);

describe('Link', () => {
  it('holds the messages it is given, in order, and sends nothing before it connects', () => {
    const given = link([textMessage('Hello.'), FLUSH]);
    expect(given.messages).toEqual([textMessage('Hello.'), FLUSH]);
    expect([given.connecting, given.open, given.hasText, given.spoke, given.released]).toEqual([false, false, true, false, true]);
    expect([given.textCharacters, given.heldCharacters]).toEqual([6, 0]);
  });

  it('connects with a URL of its own (a copy), the key and the handshake timeout; connecting from then on, open once the upgrade is done', () => {
    const given = link();
    const { connection, given: with_ } = connect(given, false);
    expect(connection.request.url.href).toBe(with_.url.href);
    expect(connection.request.url.href).toMatch(/^ws:\/\/127\.0\.0\.1:9\/ws\?speaker=cove&/);
    expect(connection.request.url).not.toBe(with_.url);
    expect(connection.request.apiKey).toBe('test-key');
    expect(connection.request.handshakeTimeoutMs).toBe(1234);
    expect([given.connecting, given.open]).toEqual([true, false]);
    connection.open();
    expect([given.connecting, given.open]).toEqual([true, true]);
  });

  it('queues messages until open, then sends them encoded by the wire, in order; later ones go out as given', () => {
    scheduler().run(({ cold, flush }) => {
      const given = link([textMessage('Hi.')]);
      const { connection } = connect(given, false);
      given.push(FLUSH);
      cold('---o').subscribe(() => connection.open());
      cold('-----e').subscribe(() => given.push(EOS));
      flush();
      expect(connection.sent).toEqual([
        { time: 3, frame: 'Hi.' },
        { time: 3, frame: '<FLUSH>' },
        { time: 5, frame: '<EOS>' },
      ]);
      expect(connection.messages).toEqual([textMessage('Hi.'), FLUSH, EOS]);
    });
  });

  it('a queued link opens but sends nothing until release()', () => {
    const given = link([textMessage('Later.'), FLUSH], { queued: true });
    const { connection } = connect(given);
    given.push(EOS);
    expect(given.open).toBe(true);
    expect(given.released).toBe(false);
    expect(connection.frames).toEqual([]);
    given.release();
    expect(given.released).toBe(true);
    expect(connection.frames).toEqual(['Later.', '<FLUSH>', '<EOS>']);
  });

  it('released before it opens: sends everything on open', () => {
    const given = link([textMessage('A.')], { queued: true });
    const { connection } = connect(given, false);
    given.release();
    expect(connection.frames).toEqual([]);
    connection.open();
    expect(connection.frames).toEqual(['A.']);
  });

  it('ended once eos is given; endOfStreamSent only once it went out', () => {
    const given = link([textMessage('Bye.')], { queued: true });
    expect([given.ended, given.endOfStreamSent]).toEqual([false, false]);
    const { connection } = connect(given);
    given.push(EOS);
    expect([given.ended, given.endOfStreamSent]).toEqual([true, false]);
    given.release();
    expect([given.ended, given.endOfStreamSent]).toEqual([true, true]);
    expect(connection.frames).toEqual(['Bye.', '<EOS>']);
  });

  it('an empty link is neither ended nor done', () => {
    expect([link().ended, link().endOfStreamSent, link().hasText]).toEqual([false, false, false]);
  });

  it('heldCharacters counts text since the last command; textCharacters all the text given', () => {
    const given = link();
    const counts = (message: ClientMessage) => (given.push(message), [given.heldCharacters, given.textCharacters]);
    expect(counts(textMessage('abc'))).toEqual([3, 3]);
    expect(counts(textMessage('de'))).toEqual([5, 5]);
    expect(counts(FLUSH)).toEqual([0, 5]);
    expect(counts(textMessage('fgh'))).toEqual([3, 8]);
    expect(counts(CLEAR)).toEqual([0, 8]);
    expect(counts(textMessage('ij'))).toEqual([2, 10]);
    expect(counts(EOS)).toEqual([0, 10]);
  });

  it('text sent without a flush is unanswered but not owed; a flush makes it owed from then; audio answers it all', () => {
    scheduler().run(({ cold, flush }) => {
      const given = link();
      connect(given);
      const seen: unknown[] = [];
      const state = () => [given.unansweredFrom, given.owedSince, given.quietSince];
      cold('--a').subscribe(() => (given.push(textMessage('One.')), seen.push(state())));
      cold('----b').subscribe(() => (given.push(FLUSH), seen.push(state())));
      cold('------c').subscribe(() => (given.push(textMessage('Two.')), seen.push(state())));
      cold('--------d').subscribe(() => (given.answered(7), seen.push(state())));
      cold('---------e').subscribe(() => (given.push(textMessage('Three.')), seen.push(state())));
      flush();
      expect(seen).toEqual([
        [0, undefined, undefined], // 'One.' at index 0, held by the server (segment=never)
        [0, 4, undefined], // the flush at 4: audio is owed from it
        [0, 4, undefined], // more text owed from the same time
        [undefined, undefined, undefined], // audio at 8
        [3, undefined, undefined], // 'Three.' is messages[3]
      ]);
      expect(given.audioBytes).toBe(7);
      expect(given.spoke).toBe(true);
    });
  });

  it('with synthesizesText (segment=immediate) text is owed as soon as it goes out', () => {
    scheduler().run(({ cold, flush }) => {
      const given = link([], { synthesizesText: true });
      const { connection } = connect(given, false);
      given.push(textMessage('Now.'));
      expect(given.owedSince).toBeUndefined(); // not sent yet: nothing owed
      cold('---o').subscribe(() => connection.open());
      flush();
      expect([given.unansweredFrom, given.owedSince]).toEqual([0, 3]);
    });
  });

  it('a command with nothing unanswered owes nothing, and a clear never does', () => {
    const given = link();
    connect(given);
    given.push(FLUSH);
    expect([given.unansweredFrom, given.owedSince]).toEqual([undefined, undefined]);
    given.push(textMessage('dropped'));
    given.push(CLEAR);
    expect([given.unansweredFrom, given.owedSince]).toEqual([1, undefined]);
  });

  it('eos sets quietSince when it goes out; later audio moves it to then', () => {
    scheduler().run(({ cold, flush }) => {
      const given = link([textMessage('Hi.'), FLUSH, EOS]);
      const { connection } = connect(given, false);
      const seen: unknown[] = [];
      cold('-o').subscribe(() => (connection.open(), seen.push([given.owedSince, given.quietSince])));
      cold('----a').subscribe(() => (given.answered(2), seen.push([given.owedSince, given.quietSince])));
      cold('------b').subscribe(() => (given.answered(2), seen.push([given.owedSince, given.quietSince])));
      flush();
      expect(seen).toEqual([
        [1, 1],
        [undefined, 4],
        [undefined, 6],
      ]);
      expect(given.audioBytes).toBe(4);
    });
  });

  it('audio before eos leaves quietSince undefined', () => {
    const given = link([textMessage('Hi.'), FLUSH]);
    connect(given);
    given.answered(5);
    expect(given.quietSince).toBeUndefined();
  });

  it('keepEarly keeps audio in order and answers the text sent; takeEarly hands it back oldest first', () => {
    const given = link([textMessage('Early.'), FLUSH]);
    connect(given);
    expect([given.unansweredFrom, given.owedSince === undefined]).toEqual([0, false]);
    const first = Uint8Array.of(1, 2);
    const second = Uint8Array.of(3);
    given.keepEarly(first);
    given.keepEarly(second);
    expect([given.unansweredFrom, given.owedSince, given.audioBytes]).toEqual([undefined, undefined, 0]);
    expect(given.takeEarly()).toBe(first);
    expect(given.takeEarly()).toBe(second);
    expect(given.takeEarly()).toBeUndefined();
  });

  it('past 1 MiB of early audio the socket is paused; it is read again once takeEarly has handed over all of it', () => {
    const given = link();
    const { connection } = connect(given);
    given.keepEarly(new Uint8Array(MIB)); // exactly the bound: still read
    expect(connection.paused).toBe(false);
    given.keepEarly(new Uint8Array(1));
    expect(connection.paused).toBe(true);
    expect(given.takeEarly()?.length).toBe(MIB);
    expect(connection.paused).toBe(true); // what waits in the network must not come ahead of what is still kept
    expect(given.takeEarly()?.length).toBe(1);
    expect(given.takeEarly()).toBeUndefined();
    expect(connection.paused).toBe(false);
  });

  it('the bound counts what is still kept: audio taken no longer counts', () => {
    const given = link();
    const { connection } = connect(given);
    given.keepEarly(new Uint8Array(MIB));
    expect(given.takeEarly()?.length).toBe(MIB);
    given.keepEarly(new Uint8Array(MIB));
    expect(connection.paused).toBe(false);
    given.keepEarly(new Uint8Array(1));
    expect(connection.paused).toBe(true);
  });

  it('a socket downstream stopped reading stays paused when early audio is taken; read(true) resumes it', () => {
    const given = link();
    const { connection } = connect(given);
    given.read(false);
    expect(connection.paused).toBe(true);
    given.keepEarly(new Uint8Array(MIB + 1));
    given.takeEarly();
    given.takeEarly();
    expect(connection.paused).toBe(true);
    given.read(true);
    expect(connection.paused).toBe(false);
  });

  it('read(false) before open pauses the socket as soon as it opens', () => {
    const given = link();
    const { connection } = connect(given, false);
    given.read(false);
    connection.open();
    expect(connection.paused).toBe(true);
    given.read(true);
    expect(connection.paused).toBe(false);
  });

  it('dropUnsent forgets what was not sent, recounts the text and forgets the turn', () => {
    const turn: Turn = { index: 0, textSentAt: undefined, heard: false };
    const given = link([textMessage('Not yet.'), FLUSH], { queued: true });
    given.turn = turn;
    const { connection } = connect(given);
    given.dropUnsent();
    expect(given.messages).toEqual([]);
    expect([given.textCharacters, given.heldCharacters, given.hasText, given.turn]).toEqual([0, 0, false, undefined]);
    given.release();
    expect(connection.frames).toEqual([]);
  });

  it('dropUnsent keeps what went out, and its turn', () => {
    const turn: Turn = { index: 2, textSentAt: 0, heard: false };
    const given = link([textMessage('Sent.')]);
    given.turn = turn;
    connect(given);
    given.dropUnsent();
    expect(given.messages).toEqual([textMessage('Sent.')]);
    expect([given.textCharacters, given.heldCharacters, given.turn]).toEqual([5, 0, turn]);
  });

  it('dispose sends the last message first (not logged), then closes the connection; nothing goes out after', () => {
    scheduler().run(({ cold, flush }) => {
      const given = link([textMessage('Old.'), FLUSH]);
      const { connection } = connect(given);
      cold('--d').subscribe(() => given.dispose(CLEAR));
      cold('---p').subscribe(() => given.push(textMessage('Too late.')));
      flush();
      expect(connection.frames).toEqual(['Old.', '<FLUSH>', '<CLEAR>']);
      expect(connection.closedByClientAt).toBe(2);
      expect(given.open).toBe(false);
      expect(given.messages).toEqual([textMessage('Old.'), FLUSH, textMessage('Too late.')]);
    });
  });

  it('dispose of a queued link or one not open sends nothing, and still closes it', () => {
    const queued = link([textMessage('Held.')], { queued: true });
    const opened = connect(queued).connection;
    queued.dispose(CLEAR);
    expect(opened.frames).toEqual([]);
    expect(opened.closedByClientAt).toBeDefined();

    const unopened = link([textMessage('Waiting.')]);
    const pending = connect(unopened, false).connection;
    unopened.dispose(CLEAR);
    pending.open();
    expect(pending.frames).toEqual([]);
    expect(pending.closedByClientAt).toBeDefined();
  });

  it('markTextSent stamps the turn with the time its first text went out, once', () => {
    scheduler().run(({ cold, flush }) => {
      const turn: Turn = { index: 0, textSentAt: undefined, heard: false };
      const given = link([textMessage('Hi.')]);
      given.turn = turn;
      given.markTextSent(); // nothing went out yet
      expect(turn.textSentAt).toBeUndefined();
      const { connection } = connect(given, false);
      cold('---o').subscribe(() => (connection.open(), given.markTextSent()));
      cold('------m').subscribe(() => given.markTextSent());
      flush();
      expect(turn.textSentAt).toBe(3);
    });
  });

  it('markTextSent without a turn, or after only commands went out, does nothing', () => {
    const commandsOnly = link([FLUSH]);
    const turn: Turn = { index: 0, textSentAt: undefined, heard: false };
    commandsOnly.turn = turn;
    connect(commandsOnly);
    commandsOnly.markTextSent();
    expect(turn.textSentAt).toBeUndefined();
    const noTurn = link([textMessage('x')]);
    connect(noTurn);
    expect(() => noTurn.markTextSent()).not.toThrow();
    expect(noTurn.turn).toBeUndefined();
  });

  it("hands the transport's events to onEvent and its error to onError", () => {
    const given = link([textMessage('Hi.')]);
    const { connection, events, errors } = connect(given);
    connection.audio('aa');
    connection.close(1000);
    expect(events).toEqual(['open', 'frame', 'close']);
    const refused = link();
    const failing = connect(refused, false);
    const error = new RimeError('server', 'refused');
    failing.connection.fail(error);
    expect(failing.errors).toEqual([error]);
    expect(errors).toEqual([]);
  });

  describe('on /ws3, where Rime says each synthesis done', () => {
    // The fake transport reads frames as the plain protocol does: these tests count the JSON frames themselves.
    const ws3Link = () => new Link(jsonWire, false, [], false, 2000, 2);
    const text = (index: number): ClientMessage => ({ type: 'text', text: `Sentence ${index}.`, contextId: `0.${index}` });

    it('sends at most two texts not done yet; a done lets the next go', () => {
      const given = ws3Link();
      const { connection } = connect(given);
      for (let index = 0; index < 4; index++) [text(index), FLUSH].forEach((message) => given.push(message));
      expect(connection.frames.filter((frame) => frame.includes('"text"'))).toHaveLength(2);
      expect(given.acknowledge('0.0')).toBe(true);
      expect(connection.frames.filter((frame) => frame.includes('"text"'))).toHaveLength(3);
    });

    it('forgets what Rime said done: a long conversation on one connection keeps its unfinished text only', () => {
      const given = ws3Link();
      const { connection } = connect(given);
      for (let index = 0; index < 2000; index++) {
        [text(index), FLUSH].forEach((message) => given.push(message));
        if (index >= 1) given.acknowledge(`0.${index - 1}`);
      }
      expect(connection.frames.filter((frame) => frame.includes('"text"'))).toHaveLength(2000); // every one went out
      expect(given.messages.length).toBeLessThan(2 * 256 + 4);
      // What is not done is still known, in place: the last text, then its flush.
      const from = given.unacknowledgedFrom(() => true) ?? -1;
      expect(given.messages.slice(from)).toEqual([text(1999), FLUSH]);
      expect(given.flushedAfter(from)).toBe(true);
      expect(given.firstContext).toBe('0.0'); // what an untagged answer of the first text is taken for
      given.push(EOS);
      expect(given.endOfStreamSent).toBe(true);
    });
  });
});
