import { Observable, type Subscription, asyncScheduler } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { RimeError } from '../../lib/errors';
import { FakeTransport } from '../../lib/testing/fakeTransport';
import { ConnectionPool, type PoolConfig, SHORTEST_IDLE_LIFE_MS } from '../../lib/transport/pool';
import type { ConnectRequest, TransportEvent } from '../../lib/transport/transport';

const scheduler = () => new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
const request: ConnectRequest = { url: new URL('ws://rime.test/ws3?speaker=cove'), apiKey: 'key', handshakeTimeoutMs: 1000 };

/** A fake server whose upgrades take `handshake` frames. */
const fakeServer = (handshake = 2) => new FakeTransport((connection) => void asyncScheduler.schedule(() => connection.live && connection.open(), handshake));

function pool(fake: FakeTransport, config: Partial<PoolConfig> = {}): ConnectionPool {
  return new ConnectionPool({ request, transport: fake.transport, warm: 1, handsBack: true, keepAliveMs: Number.POSITIVE_INFINITY, ...config });
}

/** One use of the pool: what it heard, and how to leave it (clean or not). */
function use(from: ConnectionPool, asked: ConnectRequest = request) {
  const events: TransportEvent[] = [];
  let error: unknown;
  const subscription: Subscription = from.transport(asked).subscribe({ next: (event) => events.push(event), error: (caught: unknown) => (error = caught) });
  const open = () => events.find((event): event is Extract<TransportEvent, { type: 'open' }> => event.type === 'open');
  return {
    events,
    open,
    get error() {
      return error;
    },
    leave: (clean: boolean) => {
      if (clean) open()?.keep?.();
      subscription.unsubscribe();
    },
  };
}

/** Which of the fake's connections are still open: neither side ended them. */
const live = (fake: FakeTransport) => fake.connections.filter((connection) => connection.live).map((connection) => connection.index);

describe('ConnectionPool', () => {
  it('opens a connection ahead, and lends it open at once: no handshake, and keep offered', () => {
    scheduler().run(({ flush }) => {
      const fake = fakeServer();
      const warm = pool(fake);
      expect(fake.connections).toHaveLength(1);
      flush();
      const first = use(warm);
      expect(first.open()).toMatchObject({ type: 'open', handshakeMs: 0 });
      expect(typeof first.open()?.keep).toBe('function');
      fake.connections[0]?.audio('x');
      expect(first.events.map((event) => event.type)).toEqual(['open', 'frame']);
      first.leave(false);
      warm.close();
    });
  });

  it('a use left clean goes back and serves the next one: one connection for uses in sequence (/ws3)', () => {
    scheduler().run(({ flush }) => {
      const fake = fakeServer();
      const warm = pool(fake);
      flush();
      for (let turn = 0; turn < 5; turn++) {
        const each = use(warm);
        expect(each.open()?.handshakeMs).toBe(0);
        each.open()?.send(`turn ${turn}`);
        each.leave(true);
      }
      expect(fake.connections).toHaveLength(1);
      expect(fake.connections[0]?.frames).toEqual(['turn 0', 'turn 1', 'turn 2', 'turn 3', 'turn 4']);
      expect(live(fake)).toEqual([0]);
      warm.close();
      expect(live(fake)).toEqual([]);
    });
  });

  it('a use left without keep closes its connection, and another is opened ahead at once', () => {
    scheduler().run(({ flush }) => {
      const fake = fakeServer();
      const warm = pool(fake);
      flush();
      use(warm).leave(false);
      expect(fake.connections[0]?.closedByClientAt).toBeDefined();
      expect(fake.connections).toHaveLength(2);
      flush();
      expect(use(warm).open()?.handshakeMs).toBe(0);
      warm.close();
    });
  });

  it('a connection that says something after keep is not clean: it is closed, not handed to the next use', () => {
    scheduler().run(({ flush }) => {
      const fake = fakeServer();
      const warm = pool(fake);
      flush();
      const first = use(warm);
      first.open()?.keep?.();
      fake.connections[0]?.audio('late');
      first.leave(false);
      expect(fake.connections[0]?.closedByClientAt).toBeDefined();
      warm.close();
    });
  });

  it('where uses end their connections (/ws), one taken is replaced at once', () => {
    scheduler().run(({ flush }) => {
      const fake = fakeServer();
      const warm = pool(fake, { handsBack: false });
      flush();
      const first = use(warm);
      expect(fake.connections).toHaveLength(2);
      fake.connections[0]?.close(1000); // the server's close after <EOS>
      expect(first.events.at(-1)).toEqual({ type: 'close', code: 1000, reason: '' });
      first.leave(false);
      flush();
      expect(use(warm).open()?.handshakeMs).toBe(0);
      expect(fake.connections).toHaveLength(3);
      warm.close();
    });
  });

  it('a use that comes while the upgrade is under way waits for it, and is told how long it waited', () => {
    scheduler().run(({ flush }) => {
      const fake = fakeServer(10);
      const warm = pool(fake);
      asyncScheduler.schedule(() => {
        const late = use(warm);
        asyncScheduler.schedule(() => {
          expect(late.open()?.handshakeMs).toBe(6); // of the 10, the last 6
          late.leave(true);
        }, 8);
      }, 4);
      flush();
      expect(fake.connections).toHaveLength(1);
      warm.close();
    });
  });

  it("reopens ahead of time after the server's idle close", () => {
    scheduler().run(({ flush }) => {
      const fake = fakeServer();
      const warm = pool(fake, { keepAliveMs: Number.POSITIVE_INFINITY });
      flush();
      asyncScheduler.schedule(() => fake.connections[0]?.close(1000, 'idle'), 30_000);
      flush();
      expect(fake.connections).toHaveLength(2);
      expect(use(warm).open()?.handshakeMs).toBe(0);
      warm.close();
    });
  });

  it('a server that closes idle connections at once is not asked again until the next use', () => {
    scheduler().run(({ flush }) => {
      const fake = new FakeTransport((connection) => {
        connection.open();
        asyncScheduler.schedule(() => connection.close(1000), SHORTEST_IDLE_LIFE_MS - 1);
      });
      const warm = pool(fake);
      flush();
      expect(fake.connections).toHaveLength(1);
      // The use opens its own (1); leaving it, the pool warms one again (2), which the server closes at once too:
      // then nothing more, whatever the virtual clock runs to.
      use(warm).leave(false);
      flush();
      expect(fake.connections).toHaveLength(3);
      warm.close();
    });
  });

  it('an idle connection that sends something nobody asked for is replaced', () => {
    scheduler().run(({ flush }) => {
      const fake = fakeServer();
      const warm = pool(fake);
      flush();
      fake.connections[0]?.audio('stray');
      expect(fake.connections[0]?.closedByClientAt).toBeDefined();
      expect(fake.connections).toHaveLength(2);
      warm.close();
    });
  });

  it('keepAliveMs after the last use, what is idle closes; the next use opens its own and warmth comes back', () => {
    scheduler().run(({ flush }) => {
      const fake = fakeServer();
      const warm = pool(fake, { keepAliveMs: 1000 });
      asyncScheduler.schedule(() => use(warm).leave(true), 500);
      asyncScheduler.schedule(() => expect(live(fake)).toEqual([0]), 1499); // 1000 from the use's end, not the start
      flush();
      expect(live(fake)).toEqual([]);
      const cold = use(warm);
      flush();
      expect(cold.open()?.handshakeMs).toBe(2);
      cold.leave(true);
      expect(live(fake)).toEqual([1]);
      warm.close();
    });
  });

  it('close() closes what is idle at once; a connection in use closes when its use ends; later uses open their own', () => {
    scheduler().run(({ flush }) => {
      const fake = fakeServer();
      const warm = pool(fake, { warm: 2 });
      flush();
      const busy = use(warm);
      warm.close();
      expect(live(fake)).toEqual([0]);
      busy.leave(true);
      expect(live(fake)).toEqual([]);
      const after = use(warm);
      flush();
      expect(after.open()?.keep).toBeUndefined(); // not the pool's
      after.leave(false);
      expect(warm.size).toBe(0);
    });
  });

  it('a use for another endpoint or key is not served from the pool', () => {
    scheduler().run(({ flush }) => {
      const fake = fakeServer();
      const warm = pool(fake);
      flush();
      const other = use(warm, { ...request, apiKey: 'another' });
      flush();
      expect(other.open()?.keep).toBeUndefined();
      expect(fake.connections[1]?.request.apiKey).toBe('another');
      expect(live(fake)).toEqual([0, 1]);
      other.leave(false);
      warm.close();
    });
  });

  it('an upgrade refused while idle opens nothing more ahead; the next use meets the refusal on its own connection', () => {
    scheduler().run(({ flush }) => {
      const refusal = new RimeError('rate-limited', 'Rime refused the connection: 429', { status: 429 });
      const fake = new FakeTransport((connection) => void asyncScheduler.schedule(() => connection.fail(refusal), 1));
      const warm = pool(fake);
      flush();
      expect(fake.connections).toHaveLength(1);
      const refused = use(warm);
      flush();
      expect(refused.error).toBe(refusal);
      warm.close();
    });
  });

  it('bounded: never more than `warm` connections nobody uses, whatever the uses at once', () => {
    scheduler().run(({ flush }) => {
      const fake = fakeServer();
      const warm = pool(fake, { warm: 2 });
      flush();
      const uses = Array.from({ length: 10 }, () => use(warm));
      flush();
      expect(uses.every((each) => each.open() !== undefined)).toBe(true);
      uses.forEach((each) => each.leave(true));
      expect(live(fake)).toHaveLength(2);
      warm.close();
      expect(live(fake)).toEqual([]);
    });
  });

  it('a transport that errs as it is subscribed to: the use hears the error', () => {
    const failing = () => new Observable<TransportEvent>((subscriber) => subscriber.error(new RimeError('connection', 'refused')));
    const warm = new ConnectionPool({ request, transport: failing, warm: 1, handsBack: true, keepAliveMs: 60_000 });
    const refused = use(warm);
    expect(refused.error).toMatchObject({ kind: 'connection' });
    warm.close();
  });
});
