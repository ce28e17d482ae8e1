import type { WebSocket } from 'ws';
import * as E from 'fp-ts/Either';
import { plainWire } from '../../lib/protocol/plain';
import type { Frame, Wire } from '../../lib/protocol/wire';
import type { ServerEvent } from '../../lib/server/events';
import type { ConnectionFault } from '../../lib/server/faults';
import { AudioSender, type SendingContext, abortableDelay } from '../../lib/server/sender';

const bytes = (...values: number[]) => Uint8Array.from(values);
const range = (from: number, to: number) => Uint8Array.from({ length: to - from }, (_, index) => from + index);

/** A wire whose audio travels as text (hex), as a JSON protocol's base64 would: its frames cannot be cut. */
const textAudioWire: Wire = {
  ...plainWire,
  encodeServer: (message) => (message.type === 'audio' ? Buffer.from(message.bytes).toString('hex') : JSON.stringify(message)),
  decodeServer: () => E.right(undefined),
};

interface FakeSocket {
  readonly frames: { frame: Frame; binary: boolean }[];
  bufferedAmount: number;
  /** Whether send's callback (the frame handed to the OS) is called at once, or kept in `pending`. */
  handsOver: boolean;
  readonly pending: (() => void)[];
}

/** An AudioSender on a fake socket and context recording what they are asked; `closed` once struck or cut off. */
function harness(options: { frameBytes?: number; fault?: ConnectionFault; wire?: Wire; idleTimeoutMs?: number; strikeCloses?: boolean } = {}) {
  const { frameBytes = 4, fault, wire = plainWire, idleTimeoutMs = 1000, strikeCloses = true } = options;
  const socket: FakeSocket = { frames: [], bufferedAmount: 0, handsOver: true, pending: [] };
  const fakeSocket = {
    send: (frame: Frame, { binary }: { binary: boolean }, handedOver: () => void) => {
      socket.frames.push({ frame: typeof frame === 'string' ? frame : Uint8Array.from(frame), binary });
      if (socket.handsOver) handedOver();
      else socket.pending.push(handedOver);
    },
    get bufferedAmount() {
      return socket.bufferedAmount;
    },
  };
  const events: ServerEvent[] = [];
  const delays: number[] = [];
  const state = { closed: false, stalled: false, strikes: 0, cutOffs: 0 };
  let endConnection = () => {};
  const end = new Promise<void>((resolve) => (endConnection = resolve));
  const context: SendingContext = {
    id: 3,
    socket: fakeSocket as unknown as WebSocket,
    wire,
    fault,
    frameBytes,
    idleTimeoutMs,
    emit: (event) => events.push(event),
    closed: () => state.closed,
    stalled: () => state.stalled,
    end,
    delay: async (milliseconds) => {
      delays.push(milliseconds);
    },
    strike: () => {
      state.strikes++;
      if (strikeCloses) state.closed = true;
    },
    cutOff: () => {
      state.cutOffs++;
      state.closed = true;
    },
  };
  const sender = new AudioSender(context);
  const binaryFrames = () => socket.frames.map(({ frame }) => [...(frame as Uint8Array)]);
  const audioEvents = () => events.flatMap((event) => (event.type === 'audio' ? [event.bytes] : []));
  return { sender, socket, events, delays, state, binaryFrames, audioEvents, endConnection: () => endConnection() };
}

describe('AudioSender', () => {
  describe('framing', () => {
    it('sends chunks of exactly frameBytes across pieces; the rest waits for the next piece', async () => {
      const { sender, binaryFrames, audioEvents } = harness({ frameBytes: 4 });
      await sender.send(range(0, 10), 0, null);
      expect(binaryFrames()).toEqual([
        [0, 1, 2, 3],
        [4, 5, 6, 7],
      ]);
      await sender.send(range(10, 13), 0, null);
      expect(binaryFrames().slice(2)).toEqual([[8, 9, 10, 11]]);
      await sender.send(range(13, 14), 0, null);
      expect(binaryFrames()).toHaveLength(3); // 12, 13: short of a chunk
      expect(audioEvents()).toEqual([4, 4, 4]);
    });

    it('last sends the rest, shorter than a chunk, and starts the next utterance afresh', async () => {
      const { sender, binaryFrames, audioEvents } = harness({ frameBytes: 4 });
      await sender.send(range(0, 6), 0, null);
      await sender.send(new Uint8Array(0), 0, null, true);
      await sender.send(range(6, 10), 0, null);
      expect(binaryFrames()).toEqual([
        [0, 1, 2, 3],
        [4, 5],
        [6, 7, 8, 9],
      ]);
      expect(audioEvents()).toEqual([4, 2, 4]);
    });

    it('a last piece of whole chunks sends nothing extra; an empty last piece with nothing waiting sends nothing', async () => {
      const { sender, binaryFrames, socket } = harness({ frameBytes: 2 });
      await sender.send(range(0, 4), 0, null, true);
      await sender.send(new Uint8Array(0), 0, null, true);
      expect(binaryFrames()).toEqual([
        [0, 1],
        [2, 3],
      ]);
      expect(socket.frames.every((frame) => frame.binary)).toBe(true);
    });

    it('frames audio with the wire: plain /ws sends the bytes as binary frames; each audio event says its connection', async () => {
      const { sender, socket, events } = harness({ frameBytes: 3 });
      await sender.send(bytes(9, 8, 7), 0, null);
      expect(socket.frames).toEqual([{ frame: bytes(9, 8, 7), binary: true }]);
      expect(events).toEqual([{ type: 'audio', connection: 3, bytes: 3 }]);
    });

    it('spreads the pacing over the chunks by their size; the share of the bytes left waits with them', async () => {
      const { sender, delays } = harness({ frameBytes: 4 });
      await sender.send(range(0, 10), 10, null); // two chunks of 4 (4 ms each); 2 bytes left with 2 ms
      await sender.send(range(10, 12), 2, null, true); // 4 bytes with 2 + 2 ms
      expect(delays).toEqual([4, 4, 4]);
    });

    it('stops once the connection is closed', async () => {
      const { sender, binaryFrames, state, socket } = harness({ frameBytes: 2 });
      const send = socket.frames.push.bind(socket.frames);
      socket.frames.push = (...items) => {
        state.closed = true;
        return send(...items);
      };
      await sender.send(range(0, 8), 0, null);
      expect(binaryFrames()).toEqual([[0, 1]]);
    });
  });

  describe('tell()', () => {
    it('a message plain /ws has no frame for (the end of a synthesis, word timings) sends nothing', async () => {
      const { sender, socket, events } = harness();
      await sender.tell({ type: 'done', contextId: null });
      await sender.tell({ type: 'words', words: [{ word: 'Hi', start: 0, end: 0.1 }] });
      expect([socket.frames, events]).toEqual([[], []]);
    });

    it("a protocol's other messages go out as their frames, after the audio, and are not audio", async () => {
      const { sender, socket, audioEvents } = harness({ frameBytes: 2, wire: textAudioWire });
      await sender.send(bytes(1, 2), 0, 'a');
      await sender.tell({ type: 'done', contextId: 'a' });
      expect(socket.frames).toEqual([
        { frame: '0102', binary: false },
        { frame: '{"type":"done","contextId":"a"}', binary: false },
      ]);
      expect(audioEvents()).toEqual([2]);
    });

    it('while stalled it waits for the end of the connection, and sends nothing then', async () => {
      const { sender, socket, state, endConnection } = harness({ wire: textAudioWire });
      state.stalled = true;
      const telling = sender.tell({ type: 'done', contextId: null });
      state.closed = true;
      endConnection();
      await telling;
      expect(socket.frames).toEqual([]);
    });
  });

  describe('faults', () => {
    it('afterBytes cuts the binary frame there, so the client gets exactly that many bytes, then strikes', async () => {
      const { sender, binaryFrames, audioEvents, state } = harness({ frameBytes: 4, fault: { kind: 'drop', afterBytes: 6 } });
      await sender.send(range(0, 12), 0, null);
      expect(binaryFrames()).toEqual([
        [0, 1, 2, 3],
        [4, 5],
      ]);
      expect(audioEvents()).toEqual([4, 2]);
      expect(state.strikes).toBe(1);
    });

    it('afterBytes on a chunk boundary sends the whole chunk, then strikes', async () => {
      const { sender, binaryFrames, state } = harness({ frameBytes: 4, fault: { kind: 'close', code: 1011, reason: 'boom', afterBytes: 4 } });
      await sender.send(range(0, 12), 0, null);
      expect(binaryFrames()).toEqual([[0, 1, 2, 3]]);
      expect(state.strikes).toBe(1);
    });

    it('afterBytes 0 strikes before any audio goes out', async () => {
      const { sender, socket, state } = harness({ frameBytes: 4, fault: { kind: 'drop', afterBytes: 0 } });
      await sender.send(range(0, 8), 0, null);
      expect(socket.frames).toEqual([]);
      expect(state.strikes).toBe(1);
    });

    it('an afterMs trigger is not the sender\'s: the audio goes out whole', async () => {
      const { sender, binaryFrames, state } = harness({ frameBytes: 4, fault: { kind: 'drop', afterMs: 10 } });
      await sender.send(range(0, 8), 0, null);
      expect(binaryFrames()).toEqual([
        [0, 1, 2, 3],
        [4, 5, 6, 7],
      ]);
      expect(state.strikes).toBe(0);
    });

    it('a text frame cannot be cut: the one that would pass afterBytes is not sent at all', async () => {
      const { sender, socket, audioEvents, state } = harness({ frameBytes: 2, wire: textAudioWire, fault: { kind: 'drop', afterBytes: 3 } });
      await sender.send(bytes(0xab, 0xcd, 0xef, 0x01), 0, null);
      expect(socket.frames).toEqual([{ frame: 'abcd', binary: false }]);
      expect(audioEvents()).toEqual([2]);
      expect(state.strikes).toBe(1);
    });

    it('a text frame that ends exactly at afterBytes goes whole, and counts its audio bytes', async () => {
      const { sender, socket, audioEvents, state } = harness({ frameBytes: 2, wire: textAudioWire, fault: { kind: 'drop', afterBytes: 4 } });
      await sender.send(bytes(1, 2, 3, 4, 5, 6), 0, null);
      expect(socket.frames).toEqual([
        { frame: '0102', binary: false },
        { frame: '0304', binary: false },
      ]);
      expect(audioEvents()).toEqual([2, 2]);
      expect(state.strikes).toBe(1);
    });

    it('slow adds the time each chunk takes at bytesPerSecond to its pacing', async () => {
      const { sender, delays } = harness({ frameBytes: 4, fault: { kind: 'slow', bytesPerSecond: 2000 } });
      await sender.send(range(0, 8), 8, null);
      expect(delays).toEqual([4, 2, 4, 2]);
    });

    it('while stalled nothing is sent; the send ends with the connection', async () => {
      const { sender, socket, state, endConnection } = harness({ frameBytes: 2 });
      state.stalled = true;
      const sending = sender.send(range(0, 4), 0, null);
      await new Promise((resolve) => setImmediate(resolve));
      expect(socket.frames).toEqual([]);
      state.closed = true;
      endConnection();
      await sending;
      expect(socket.frames).toEqual([]);
    });
  });

  describe('a client that reads slowly', () => {
    beforeEach(() => jest.useFakeTimers());
    afterEach(() => jest.useRealTimers());

    it('past the high-water mark waits for the socket to take the frame, then goes on', async () => {
      const { sender, socket, binaryFrames, state } = harness({ frameBytes: 2, idleTimeoutMs: 100 });
      socket.bufferedAmount = 300 * 1024;
      socket.handsOver = false;
      let done = false;
      const sending = sender.send(range(0, 4), 0, null).then(() => (done = true));
      await jest.advanceTimersByTimeAsync(50);
      expect([binaryFrames(), done]).toEqual([[[0, 1]], false]);
      socket.bufferedAmount = 0;
      socket.pending.shift()?.();
      await jest.advanceTimersByTimeAsync(0);
      socket.pending.shift()?.();
      await sending;
      expect(binaryFrames()).toEqual([
        [0, 1],
        [2, 3],
      ]);
      expect(state.cutOffs).toBe(0);
    });

    it('a client that takes none of it for a whole idle period is cut off', async () => {
      const { sender, socket, state } = harness({ frameBytes: 2, idleTimeoutMs: 100 });
      socket.bufferedAmount = 300 * 1024;
      socket.handsOver = false;
      const sending = sender.send(range(0, 4), 0, null);
      await jest.advanceTimersByTimeAsync(99);
      expect(state.cutOffs).toBe(0);
      await jest.advanceTimersByTimeAsync(1);
      await sending;
      expect(state.cutOffs).toBe(1);
      expect(socket.frames).toHaveLength(1);
    });

    it('one that takes some in each idle period is waited for', async () => {
      const { sender, socket, state } = harness({ frameBytes: 2, idleTimeoutMs: 100 });
      socket.bufferedAmount = 300 * 1024;
      socket.handsOver = false;
      const sending = sender.send(range(0, 2), 0, null);
      await jest.advanceTimersByTimeAsync(50);
      socket.bufferedAmount -= 1024; // took a little in the first idle period
      await jest.advanceTimersByTimeAsync(100);
      expect(state.cutOffs).toBe(0);
      await jest.advanceTimersByTimeAsync(50); // nothing taken in the second one
      await sending;
      expect(state.cutOffs).toBe(1);
    });

    it('release() ends the wait when the connection ends: no cut-off, no timer left', async () => {
      const { sender, socket, state } = harness({ frameBytes: 2, idleTimeoutMs: 100 });
      socket.bufferedAmount = 300 * 1024;
      socket.handsOver = false;
      const sending = sender.send(range(0, 2), 0, null);
      await jest.advanceTimersByTimeAsync(10);
      state.closed = true;
      sender.release();
      await sending;
      expect(state.cutOffs).toBe(0);
      expect(jest.getTimerCount()).toBe(0);
    });

    it('release() with nothing waited for does nothing', () => {
      const { sender } = harness();
      expect(() => sender.release()).not.toThrow();
    });
  });
});

describe('abortableDelay', () => {
  const settledSoon = async (promise: Promise<unknown>): Promise<boolean> => {
    let settled = false;
    void promise.then(() => (settled = true));
    await new Promise((resolve) => setImmediate(resolve));
    return settled;
  };

  it('0 or less resolves at once', async () => {
    const signal = new AbortController().signal;
    await expect(settledSoon(abortableDelay(0, signal))).resolves.toBe(true);
    await expect(settledSoon(abortableDelay(-5, signal))).resolves.toBe(true);
  });

  it('an aborted signal resolves at once, whatever the delay', async () => {
    const controller = new AbortController();
    controller.abort();
    await expect(settledSoon(abortableDelay(60_000, controller.signal))).resolves.toBe(true);
  });

  it('waits while the signal holds, and resolves (never rejects) when it aborts meanwhile', async () => {
    const controller = new AbortController();
    const waiting = abortableDelay(60_000, controller.signal);
    await expect(settledSoon(waiting)).resolves.toBe(false);
    controller.abort();
    await expect(waiting).resolves.toBeUndefined();
  });

  it('resolves undefined once the time has passed', async () => {
    await expect(abortableDelay(1, new AbortController().signal)).resolves.toBeUndefined();
  });
});
