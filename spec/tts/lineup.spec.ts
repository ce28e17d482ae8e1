import { TestScheduler } from 'rxjs/testing';
import { RimeError } from '../../lib/errors';
import type { RimeOptions } from '../../lib/options';
import { CLEAR, EOS, FLUSH, textMessage } from '../../lib/protocol/messages';
import { type FakeConnection, FakeTransport } from '../../lib/testing/fakeTransport';
import { Lineup, type LineupHost } from '../../lib/tts/lineup';
import type { Link, Turn } from '../../lib/tts/link';
import { ttsSettings } from '../support/settings';

const scheduler = () => new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
const decoded = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
const MIB = 1024 * 1024;

interface Knobs {
  readonly prewarm?: boolean;
  readonly spare?: boolean;
  readonly segment?: RimeOptions['segment'];
}


/**
 * A lineup on a hand-made host that records its calls, and the links they were about, on a fake whose connections
 * the test opens and plays itself: `message:audio:<text>` for audio of the current connection as it arrives,
 * `audio:<text>` for audio a connection kept before it became current, handed over then; `closed:<code>:<reason>`...
 */
function harness(knobs: Knobs = {}) {
  const fake = new FakeTransport(() => {});
  const calls: string[] = [];
  const about: Link[] = [];
  const state = { stopped: false, retrying: false, onAudio: (): void => {} };
  const host: LineupHost = {
    settings: ttsSettings(fake.transport, { prewarm: knobs.prewarm ?? false, spare: knobs.spare ?? false, segment: knobs.segment ?? 'never' }),
    stopped: () => state.stopped,
    retrying: () => state.retrying,
    audio: (link, bytes) => {
      calls.push(`audio:${decoded(bytes)}`);
      about.push(link);
      state.onAudio();
    },
    message: (link, message) => {
      calls.push(message.type === 'audio' ? `message:audio:${decoded(message.bytes)}` : `message:${message.type}`);
      about.push(link);
    },
    closed: (link, code, reason) => {
      calls.push(`closed:${code}:${reason}`);
      about.push(link);
    },
    failed: (error) => calls.push(`failed:${error instanceof Error ? error.message : String(error)}`),
    opened: () => calls.push('opened'),
    replaced: () => calls.push('replaced'),
    report: (event) => calls.push(`report:${JSON.stringify(event)}`),
  };
  const lineup = new Lineup(host);
  /** The n-th connection the fake was asked for. */
  const connection = (index: number): FakeConnection => {
    const found = fake.connections[index];
    if (found === undefined) throw new Error(`no connection ${index} (${fake.connections.length} opened)`);
    return found;
  };
  return { fake, lineup, calls, about, state, connection };
}

/**
 * The usual start: the current connection opened, given `text` then `<EOS>` (sent); the link after it, receiving,
 * with its own text (held: queued behind the current one).
 */
function speakingAhead(knobs: Knobs = {}) {
  const h = harness(knobs);
  const { lineup, connection } = h;
  const first = lineup.current;
  lineup.connect(first);
  connection(0).open();
  first.push(textMessage('One.'));
  first.push(FLUSH);
  first.push(EOS);
  const next = lineup.receiving();
  next.push(textMessage('Two.'));
  next.push(FLUSH);
  return { ...h, first, next };
}

describe('Lineup', () => {
  describe('the current connection', () => {
    it('starts as one fresh link, released and not connected; connect() opens it and the host hears of its upgrade', () => {
      const { lineup, fake, calls, connection } = harness();
      expect([lineup.current.released, lineup.current.connecting, lineup.current.messages]).toEqual([true, false, []]);
      expect(fake.connections).toHaveLength(0);
      lineup.connect(lineup.current);
      expect(fake.connections).toHaveLength(1);
      expect(calls).toEqual([]);
      connection(0).open();
      expect(calls).toEqual(['opened']);
      expect(lineup.current.open).toBe(true);
    });

    it('connects nothing once the host is stopped', () => {
      const { lineup, fake, state } = harness();
      state.stopped = true;
      lineup.connect(lineup.current);
      expect(fake.connections).toHaveLength(0);
    });

    it("hands the current connection's audio, close and failure to the host; text frames are ignored", () => {
      const { lineup, calls, about, connection } = harness();
      const current = lineup.current;
      lineup.connect(current);
      connection(0).open();
      connection(0).frame('not audio');
      connection(0).audio('aa');
      connection(0).close(1011, 'internal error');
      expect(calls).toEqual(['opened', 'message:audio:aa', 'report:{"type":"close","code":1011,"reason":"internal error"}', 'closed:1011:internal error']);
      expect(about).toEqual([current, current]);
      expect(about[1]).toBe(current);

      const failing = harness();
      failing.lineup.connect(failing.lineup.current);
      failing.connection(0).fail(new RimeError('server', 'Rime refused the upgrade: 503'));
      expect(failing.calls).toEqual(['failed:Rime refused the upgrade: 503']);
    });

    it('a close is reported but not settled once the host is stopped', () => {
      const { lineup, calls, state, connection } = harness();
      lineup.connect(lineup.current);
      connection(0).open();
      state.stopped = true;
      connection(0).close(1000);
      expect(calls).toEqual(['opened', 'report:{"type":"close","code":1000,"reason":""}']);
    });

    it('links of a segment=immediate connection owe audio for text as soon as it is sent; segment=never ones only at a flush', () => {
      scheduler().run(({ cold, flush }) => {
        const immediate = harness({ segment: 'immediate' });
        const never = harness({ segment: 'never' });
        for (const { lineup, connection } of [immediate, never]) {
          lineup.connect(lineup.current);
          connection(0).open();
        }
        cold('--t').subscribe(() => [immediate, never].forEach(({ lineup }) => lineup.current.push(textMessage('Now.'))));
        flush();
        expect(immediate.lineup.current.owedSince).toBe(2);
        expect(never.lineup.current.owedSince).toBeUndefined();
      });
    });

    it('read(false) pauses every socket, and links made meanwhile open paused; read(true) resumes them all', () => {
      const { lineup, connection } = harness({ prewarm: true });
      lineup.connect(lineup.current);
      connection(0).open();
      lineup.read(false);
      expect(connection(0).paused).toBe(true);
      lineup.current.push(EOS);
      lineup.receiving(); // opened ahead (prewarm)
      connection(1).open();
      expect(connection(1).paused).toBe(true);
      lineup.read(true);
      expect([connection(0).paused, connection(1).paused]).toEqual([false, false]);
    });
  });

  describe('receiving()', () => {
    it('is the current connection until it is ended', () => {
      const { lineup } = harness();
      const current = lineup.current;
      current.push(textMessage('Hi.'));
      expect(lineup.receiving()).toBe(current);
      expect(lineup.takingMessages()).toBe(current);
    });

    it('after an ended one, a new queued connection, opened ahead with prewarm; the same one until it ends', () => {
      const { lineup, fake } = harness({ prewarm: true });
      lineup.connect(lineup.current);
      lineup.current.push(EOS);
      expect(lineup.takingMessages()).toBeUndefined();
      const next = lineup.receiving();
      expect(next).not.toBe(lineup.current);
      expect(next.released).toBe(false);
      expect(fake.connections).toHaveLength(2);
      expect(lineup.receiving()).toBe(next);
      expect(lineup.takingMessages()).toBe(next);
      expect(fake.connections).toHaveLength(2);
    });

    it('without prewarm, the connection after an ended one is not opened ahead', () => {
      const { lineup, fake } = harness({ prewarm: false });
      lineup.connect(lineup.current);
      lineup.current.push(EOS);
      const next = lineup.receiving();
      expect([next.released, next.connecting]).toEqual([false, false]);
      expect(fake.connections).toHaveLength(1);
    });

    it('not opened ahead while a retry waits out its backoff, even with prewarm', () => {
      const { lineup, fake, state } = harness({ prewarm: true });
      lineup.connect(lineup.current);
      lineup.current.push(EOS);
      state.retrying = true;
      expect(lineup.receiving().connecting).toBe(false);
      expect(fake.connections).toHaveLength(1);
    });

    it('only the first connection after the current one is opened ahead', () => {
      const { lineup, fake } = harness({ prewarm: true });
      lineup.connect(lineup.current);
      lineup.current.push(EOS);
      const second = lineup.receiving();
      second.push(textMessage('Two.'));
      second.push(EOS);
      const third = lineup.receiving();
      expect(third).not.toBe(second);
      expect([third.released, third.connecting]).toEqual([false, false]);
      expect(fake.connections).toHaveLength(2);
      expect(lineup.textAhead).toBe(true);
    });
  });

  describe('sendAhead()', () => {
    it('releases the next connection once the current one sent <EOS>: it connects (it has text) and speaks at once', () => {
      const { lineup, fake, connection, calls } = harness({ prewarm: false });
      const first = lineup.current;
      lineup.connect(first);
      first.push(textMessage('One.'));
      first.push(EOS);
      const next = lineup.receiving();
      next.push(textMessage('Two.'));
      next.push(FLUSH);
      lineup.sendAhead(); // the current one has not sent <EOS>: it is not open yet
      expect([next.released, fake.connections.length]).toEqual([false, 1]);
      connection(0).open(); // sends, then sends ahead
      expect(connection(0).frames).toEqual(['One.', '<EOS>']);
      expect([next.released, fake.connections.length]).toEqual([true, 2]);
      connection(1).open();
      expect(connection(1).frames).toEqual(['Two.', '<FLUSH>']);
      expect(calls).toEqual(['opened']); // the host hears of the current connection's upgrade only
    });

    it('does nothing while a retry waits', () => {
      const { lineup, fake, state } = speakingAhead();
      const next = lineup.receiving();
      state.retrying = true;
      lineup.sendAhead();
      expect([next.released, fake.connections.length]).toEqual([false, 1]);
      state.retrying = false;
      lineup.sendAhead();
      expect([next.released, fake.connections.length]).toEqual([true, 2]);
    });

    it('without prewarm, a released connection with no text is not opened', () => {
      const { lineup, fake, connection } = harness({ prewarm: false });
      lineup.connect(lineup.current);
      connection(0).open();
      lineup.current.push(EOS);
      const next = lineup.receiving();
      lineup.sendAhead();
      expect([next.released, next.connecting, fake.connections.length]).toEqual([true, false, 1]);
    });

    it("times the next turn's first audio from when its text goes out ahead", () => {
      scheduler().run(({ cold, flush }) => {
        const { lineup, connection } = speakingAhead({ prewarm: true });
        const turn: Turn = { index: 1, textSentAt: undefined, heard: false };
        const next = lineup.receiving();
        next.turn = turn;
        cold('---s').subscribe(() => lineup.sendAhead()); // released at 3, still connecting
        cold('-----o').subscribe(() => connection(1).open()); // its text goes out at 5
        flush();
        expect(connection(1).sent).toEqual([
          { time: 5, frame: 'Two.' },
          { time: 5, frame: '<FLUSH>' },
        ]);
        expect(turn.textSentAt).toBe(5);
      });
    });
  });

  describe('early audio', () => {
    it('is kept while the connection is not current, and handed over in order when it becomes current (advance)', () => {
      const { lineup, calls, about, connection, next } = speakingAhead({ prewarm: true });
      connection(1).open();
      lineup.sendAhead();
      expect(connection(1).frames).toEqual(['Two.', '<FLUSH>']);
      connection(1).audio('b1');
      connection(1).audio('b2');
      connection(0).audio('a1');
      expect(calls).toEqual(['opened', 'message:audio:a1']);
      connection(0).close(1000);
      expect(calls.slice(2)).toEqual(['report:{"type":"close","code":1000,"reason":""}', 'closed:1000:']);
      lineup.advance();
      expect(lineup.current).toBe(next);
      expect(calls.slice(4)).toEqual(['replaced', 'opened', 'audio:b1', 'audio:b2']);
      expect(about.slice(2)).toEqual([next, next]);
      expect(about[3]).toBe(next);
      connection(1).audio('b3'); // now current: straight to the host
      expect(calls.slice(8)).toEqual(['message:audio:b3']);
    });

    it('replaceCurrent hands it over too', () => {
      const { lineup, calls, connection, next } = speakingAhead({ prewarm: true });
      connection(1).open();
      lineup.sendAhead();
      connection(1).audio('b1');
      lineup.replaceCurrent(next);
      expect(calls).toEqual(['opened', 'replaced', 'opened', 'audio:b1']);
    });

    it('an early clean close (after <EOS>, all answered) waits, and is settled after its audio when the connection is current', () => {
      const { lineup, calls, about, connection, next } = speakingAhead({ prewarm: true });
      connection(1).open();
      next.push(EOS);
      lineup.sendAhead();
      connection(1).audio('b1');
      connection(1).close(1000);
      expect(calls).toEqual(['opened', 'report:{"type":"close","code":1000,"reason":""}']);
      expect(next.earlyClose).toEqual({ code: 1000, reason: '' });
      connection(0).close(1000);
      lineup.advance();
      expect(calls.slice(2)).toEqual([
        'report:{"type":"close","code":1000,"reason":""}',
        'closed:1000:',
        'replaced',
        'opened',
        'audio:b1',
        'closed:1000:',
      ]);
      expect(about.slice(1)).toEqual([next, next]);
      expect(about[2]).toBe(next);
      expect(next.earlyClose).toBeUndefined();
    });

    it('handing over stops when the host stops on the way', () => {
      const { lineup, calls, state, connection, next } = speakingAhead({ prewarm: true });
      connection(1).open();
      next.push(EOS);
      lineup.sendAhead();
      connection(1).audio('b1');
      connection(1).audio('b2');
      connection(1).close(1000);
      state.onAudio = () => (state.stopped = true);
      lineup.replaceCurrent(next);
      expect(calls.slice(2)).toEqual(['replaced', 'opened', 'audio:b1']);
    });

    it('past 1 MiB the connection ahead is not read; it is read again once it is current', () => {
      const { lineup, calls, connection, next } = speakingAhead({ prewarm: true });
      connection(1).open();
      lineup.sendAhead();
      connection(1).audio(new Uint8Array(MIB));
      connection(1).audio(new Uint8Array(1));
      expect(connection(1).paused).toBe(true);
      lineup.replaceCurrent(next);
      expect(connection(1).paused).toBe(false);
      expect(calls.filter((call) => call.startsWith('audio:'))).toHaveLength(2);
    });

    it('audio (and a close) the server sent while the connection ahead was held back come after all the audio kept early', () => {
      // FakeTransport delivers what waited synchronously on resume: the socket must be resumed only once all the
      // kept audio was handed over (found in review: it was resumed at the first).
      const { lineup, calls, connection, next } = speakingAhead({ prewarm: true });
      connection(1).open();
      next.push(EOS);
      lineup.sendAhead();
      connection(1).audio(new Uint8Array(MIB));
      connection(1).audio('b2');
      expect(connection(1).paused).toBe(true);
      connection(1).audio('b3');
      connection(1).close(1000);
      lineup.replaceCurrent(next);
      const handed = calls.filter((call) => /^(audio|message|closed):/.test(call)).map((call) => call.slice(0, 40));
      expect(handed).toEqual([expect.stringMatching(/^audio:/), 'audio:b2', 'message:audio:b3', 'closed:1000:']);
    });
  });

  describe('a connection ahead lost before its turn', () => {
    it('closed (idle) or refused before it spoke: a fresh one, not opened yet, takes its messages and its turn', () => {
      const { lineup, fake, calls, next } = speakingAhead({ prewarm: true });
      const turn: Turn = { index: 1, textSentAt: undefined, heard: false };
      next.turn = turn;
      const lost = fake.connections[1];
      lost?.open();
      lost?.close(1000); // Rime closed it idle
      expect(calls).toEqual(['opened', 'report:{"type":"close","code":1000,"reason":""}']);
      const fresh = lineup.receiving();
      expect(fresh).not.toBe(next);
      expect(fresh.messages).toEqual([textMessage('Two.'), FLUSH]);
      expect([fresh.released, fresh.connecting, fresh.turn]).toEqual([false, false, turn]);
      expect(fresh.turn).toBe(turn);
      expect(fake.connections).toHaveLength(2);
    });

    it('the fresh one sends the same messages when it becomes current', () => {
      const { lineup, fake, connection } = speakingAhead({ prewarm: true });
      connection(1).fail(new RimeError('server', 'refused'));
      const fresh = lineup.receiving();
      fresh.push(EOS);
      connection(0).close(1000);
      lineup.advance();
      expect(lineup.current).toBe(fresh);
      expect(fake.connections).toHaveLength(3);
      connection(2).open();
      expect(connection(2).frames).toEqual(['Two.', '<FLUSH>', '<EOS>']);
    });

    it('a connection ahead that closes abnormally is replaced too, and the host hears no failure', () => {
      const { lineup, calls, connection, next } = speakingAhead({ prewarm: true });
      connection(1).open();
      connection(1).close(1006);
      expect(calls).toEqual(['opened', 'report:{"type":"close","code":1006,"reason":""}']);
      expect(lineup.receiving()).not.toBe(next);
      expect(lineup.receiving().messages).toEqual([textMessage('Two.'), FLUSH]);
    });

    it('a close with text unanswered is not an early finish: the connection is replaced, its early audio dropped', () => {
      const { lineup, fake, calls, connection, next } = speakingAhead({ prewarm: true });
      connection(1).open();
      lineup.sendAhead();
      connection(1).audio('b1');
      next.push(textMessage(' Three.')); // sent after the latest audio: unanswered when the server closes
      next.push(EOS);
      connection(1).close(1000);
      expect(next.earlyClose).toBeUndefined();
      connection(0).close(1000);
      lineup.advance();
      expect(lineup.current).not.toBe(next);
      expect(lineup.current.messages).toEqual([textMessage('Two.'), FLUSH, textMessage(' Three.'), EOS]);
      expect(calls.filter((call) => call.startsWith('audio:'))).toEqual([]);
      expect(fake.connections).toHaveLength(3); // the fresh one, opened as it became current
      connection(2).open();
      expect(connection(2).frames).toEqual(['Two.', '<FLUSH>', ' Three.', '<EOS>']);
    });

    it('an empty one (a spare) is just dropped: the next connection is a new one', () => {
      const { lineup, fake, connection } = harness({ prewarm: true, spare: true });
      lineup.connect(lineup.current);
      connection(0).open();
      lineup.prewarmSpare();
      expect(fake.connections).toHaveLength(2);
      connection(1).open();
      connection(1).close(1000);
      expect(lineup.textAhead).toBe(false);
      lineup.current.push(EOS);
      const next = lineup.receiving();
      expect(fake.connections).toHaveLength(3); // a new one, opened ahead
      expect(next.messages).toEqual([]);
    });
  });

  describe('prewarmSpare()', () => {
    it('does nothing unless spare is set', () => {
      const { lineup, fake } = harness({ prewarm: true, spare: false });
      lineup.connect(lineup.current);
      lineup.prewarmSpare();
      expect(fake.connections).toHaveLength(1);
    });

    it('opens one spare, queued and empty; not a second while it waits', () => {
      const { lineup, fake, connection } = harness({ prewarm: true, spare: true });
      lineup.connect(lineup.current);
      connection(0).open();
      lineup.prewarmSpare();
      lineup.prewarmSpare();
      expect(fake.connections).toHaveLength(2);
      connection(1).open();
      expect(connection(1).frames).toEqual([]);
      lineup.current.push(EOS);
      const spare = lineup.receiving();
      expect([spare.released, spare.connecting, spare.messages]).toEqual([false, true, []]);
      expect(fake.connections).toHaveLength(2);
    });

    it('once per turn: a spare the server closed is opened again only after newTurn()', () => {
      const { lineup, fake, connection } = harness({ prewarm: true, spare: true });
      lineup.connect(lineup.current);
      connection(0).open();
      lineup.prewarmSpare();
      connection(1).open();
      connection(1).close(1000); // idle
      lineup.prewarmSpare();
      expect(fake.connections).toHaveLength(2);
      lineup.newTurn();
      lineup.prewarmSpare();
      expect(fake.connections).toHaveLength(3);
    });

    it('noSpare() holds it back until the next turn', () => {
      const { lineup, fake } = harness({ prewarm: true, spare: true });
      lineup.connect(lineup.current);
      lineup.noSpare();
      lineup.prewarmSpare();
      expect(fake.connections).toHaveLength(1);
      lineup.newTurn();
      lineup.prewarmSpare();
      expect(fake.connections).toHaveLength(2);
    });

    it('not while a retry waits', () => {
      const { lineup, fake, state } = harness({ prewarm: true, spare: true });
      lineup.connect(lineup.current);
      state.retrying = true;
      lineup.prewarmSpare();
      expect(fake.connections).toHaveLength(1);
    });
  });

  describe('interruptAhead()', () => {
    it('a next connection that already spoke is told the interruption and closed; the ones after it are dropped', () => {
      const { lineup, connection, next } = speakingAhead({ prewarm: true });
      connection(1).open();
      next.push(EOS);
      lineup.sendAhead();
      const third = lineup.receiving();
      third.push(textMessage('Three.'));
      lineup.interruptAhead(CLEAR);
      expect(connection(1).frames).toEqual(['Two.', '<FLUSH>', '<EOS>', '<CLEAR>']);
      expect(connection(1).closedByClientAt).toBeDefined();
      expect(lineup.textAhead).toBe(false);
      const after = lineup.receiving();
      expect(after).not.toBe(next);
      expect(after).not.toBe(third);
      expect(after.messages).toEqual([]);
    });

    it('a next connection that has not spoken stays, emptied, to carry on; its socket stays open', () => {
      const { lineup, connection, next } = speakingAhead({ prewarm: true });
      connection(1).open();
      next.push(EOS);
      const third = lineup.receiving();
      third.push(textMessage('Three.'));
      lineup.interruptAhead(CLEAR);
      expect(next.messages).toEqual([]);
      expect(lineup.textAhead).toBe(false);
      expect(lineup.receiving()).toBe(next);
      expect([connection(1).live, connection(1).frames]).toEqual([true, []]);
    });

    it('with nothing ahead, does nothing', () => {
      const { lineup, fake } = harness();
      lineup.connect(lineup.current);
      expect(() => lineup.interruptAhead(CLEAR)).not.toThrow();
      expect(fake.connections[0]?.closedByClientAt).toBeUndefined();
    });
  });

  describe('advance()', () => {
    it('with nothing ahead, a new empty current connection, not opened until it has messages', () => {
      const { lineup, fake, calls, connection } = harness();
      const first = lineup.current;
      lineup.connect(first);
      connection(0).open();
      first.push(EOS);
      connection(0).close(1000);
      lineup.advance();
      expect(lineup.current).not.toBe(first);
      expect([lineup.current.released, lineup.current.messages]).toEqual([true, []]);
      expect(fake.connections).toHaveLength(1);
      expect(calls.slice(-2)).toEqual(['replaced', 'opened']);
    });

    it('opens the connection after the new current one ahead, with prewarm', () => {
      const { lineup, fake, connection, next } = speakingAhead({ prewarm: true });
      connection(1).open();
      next.push(EOS);
      lineup.sendAhead();
      const third = lineup.receiving(); // not opened: it is second in line
      expect(fake.connections).toHaveLength(2);
      connection(0).close(1000);
      lineup.advance();
      expect(third.connecting).toBe(true);
      expect(fake.connections).toHaveLength(3);
    });
  });

  it('drop() closes a connection ahead and takes it out of the line', () => {
    const { lineup, connection, next } = speakingAhead({ prewarm: true });
    lineup.drop(next);
    expect(connection(1).closedByClientAt).toBeDefined();
    expect(lineup.textAhead).toBe(false);
    expect(lineup.receiving()).not.toBe(next);
  });

  it('dispose() closes the current connection and every one ahead', () => {
    const { lineup, connection } = speakingAhead({ prewarm: true });
    lineup.dispose();
    expect([connection(0).closedByClientAt, connection(1).closedByClientAt].map((at) => at !== undefined)).toEqual([true, true]);
  });
});
