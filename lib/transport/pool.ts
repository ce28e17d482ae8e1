import { Observable, type Subscriber, type Subscription, asyncScheduler } from 'rxjs';
import type { ConnectRequest, Transport, TransportEvent } from './transport';

/**
 * An idle connection that closes sooner than this after its upgrade is not opened again until the next use: a
 * server that closes what it accepts at once would otherwise cost a connection per round trip.
 */
export const SHORTEST_IDLE_LIFE_MS = 1000;

export interface PoolConfig {
  /** What every warm connection is opened with; a use asking for another URL or key gets a connection of its own. */
  readonly request: ConnectRequest;
  readonly transport: Transport;
  /** How many connections are kept open ahead of use. */
  readonly warm: number;
  /**
   * Whether a user can hand a connection back (`/ws3`, where a speech ends with its last `done` and the socket
   * stays open): one in use then counts as warm. Where a speech ends the socket (`/ws`, `<EOS>` then close), a
   * connection taken is replaced at once.
   */
  readonly handsBack: boolean;
  /** How long the pool stays warm after its last user leaves (and after it is made): then it closes what is idle. */
  readonly keepAliveMs: number;
}

/** One socket of the pool: opening, idle, or lent to a user. */
interface Pooled {
  readonly startedAt: number;
  subscription: Subscription | undefined;
  open: Extract<TransportEvent, { type: 'open' }> | undefined;
  openedAt: number | undefined;
  lease: Lease | undefined;
}

interface Lease {
  readonly subscriber: Subscriber<TransportEvent>;
  readonly since: number;
  /** Whether the user left the connection clean (`keep`), with nothing arrived since. */
  kept: boolean;
}

/**
 * Warm connections shared by users in sequence: it keeps `warm` connections open ahead of use, lends one to each
 * use of its {@link transport} (at once, with no handshake, when one is open), and takes it back when the user
 * leaves it clean (`keep`), else closes it with 1000 and opens another ahead. An idle connection the server closes
 * (Rime's idle close, after about 30 s) is opened again ahead of time. Nothing queues: a use that finds no
 * connection idle gets one of its own at once, and the pool never holds more than `warm` connections nobody uses.
 * It stays warm while anyone uses it and for `keepAliveMs` after; {@link close} ends it (what is in use closes
 * when its user leaves).
 */
export class ConnectionPool {
  private readonly sockets = new Set<Pooled>();
  private users = 0;
  /** Whether connections are kept warm: until `keepAliveMs` after the last user left, or `close()`. */
  private warmWanted = true;
  /** An idle connection failed or was closed at once: none is opened ahead until the next use. */
  private failing = false;
  private closed = false;
  private keepAlive: Subscription | undefined;

  constructor(private readonly config: PoolConfig) {
    this.startKeepAlive();
    this.topUp();
  }

  /** The pool as a transport: each subscription is one use of a connection. */
  readonly transport: Transport = (request) =>
    new Observable<TransportEvent>((subscriber) => {
      if (this.closed || !this.serves(request)) return this.config.transport(request).subscribe(subscriber);
      this.users++;
      this.keepAlive?.unsubscribe();
      this.warmWanted = true;
      this.failing = false;
      const pooled = this.idle() ?? this.opening() ?? this.openSocket();
      // A socket that failed as it was made (a transport erring at once) is not the pool's any more.
      if (!this.sockets.has(pooled)) {
        this.users--;
        return this.config.transport(request).subscribe(subscriber);
      }
      const lease: Lease = { subscriber, since: asyncScheduler.now(), kept: false };
      pooled.lease = lease;
      if (pooled.open !== undefined) this.lend(pooled, lease, 0);
      this.topUp();
      return () => {
        this.users--;
        this.giveBack(pooled, lease);
        if (this.users === 0) this.startKeepAlive();
      };
    });

  /** The connections open or opening, in use or not (for tests and metrics). */
  get size(): number {
    return this.sockets.size;
  }

  /** Closes every idle connection with 1000 and opens no more; those in use close when their users leave. */
  close(): void {
    this.closed = true;
    this.keepAlive?.unsubscribe();
    for (const pooled of this.sockets) if (pooled.lease === undefined) this.discard(pooled);
  }

  private serves(request: ConnectRequest): boolean {
    return request.url.href === this.config.request.url.href && request.apiKey === this.config.request.apiKey;
  }

  private idle(): Pooled | undefined {
    for (const pooled of this.sockets) if (pooled.lease === undefined && pooled.open !== undefined) return pooled;
    return undefined;
  }

  private opening(): Pooled | undefined {
    for (const pooled of this.sockets) if (pooled.lease === undefined) return pooled;
    return undefined;
  }

  /** Opens connections until `warm` are open or coming back (only while warmth is wanted). */
  private topUp(): void {
    if (this.closed || !this.warmWanted || this.failing) return;
    let counted = 0;
    for (const pooled of this.sockets) if (pooled.lease === undefined || this.config.handsBack) counted++;
    for (; counted < this.config.warm; counted++) this.openSocket();
  }

  private openSocket(): Pooled {
    const pooled: Pooled = { startedAt: asyncScheduler.now(), subscription: undefined, open: undefined, openedAt: undefined, lease: undefined };
    this.sockets.add(pooled);
    const { request } = this.config;
    // A URL of its own: a transport may change the one it is given.
    pooled.subscription = this.config.transport({ ...request, url: new URL(request.url) }).subscribe({
      next: (event) => this.onEvent(pooled, event),
      error: (error: unknown) => this.onError(pooled, error),
    });
    return pooled;
  }

  private onEvent(pooled: Pooled, event: TransportEvent): void {
    const { lease } = pooled;
    if (event.type === 'open') {
      pooled.open = event;
      pooled.openedAt = asyncScheduler.now();
      // A user who waited for this upgrade waited from when it came, not from when the upgrade began.
      if (lease !== undefined) this.lend(pooled, lease, pooled.openedAt - Math.max(lease.since, pooled.startedAt));
      return;
    }
    if (event.type === 'close') this.sockets.delete(pooled);
    if (lease !== undefined) {
      lease.kept = false;
      lease.subscriber.next(event);
      if (event.type === 'close') lease.subscriber.complete();
      return;
    }
    // Idle: sent something nobody asked for (it cannot be handed to anyone as clean), or closed by the server.
    if (event.type === 'frame') {
      this.discard(pooled);
      return this.topUp();
    }
    const lived = asyncScheduler.now() - (pooled.openedAt ?? pooled.startedAt);
    if (lived < SHORTEST_IDLE_LIFE_MS) this.failing = true;
    this.topUp();
  }

  private onError(pooled: Pooled, error: unknown): void {
    this.sockets.delete(pooled);
    if (pooled.lease !== undefined) return pooled.lease.subscriber.error(error);
    this.failing = true; // the next use opens its own and meets the error itself
  }

  private lend(pooled: Pooled, lease: Lease, handshakeMs: number): void {
    const open = pooled.open;
    if (open === undefined) return;
    lease.subscriber.next({
      ...open,
      handshakeMs,
      keep: () => {
        lease.kept = true;
      },
    });
  }

  /** The user left: a connection left clean goes back to the idle ones (while the pool wants it), else it closes. */
  private giveBack(pooled: Pooled, lease: Lease): void {
    if (pooled.lease !== lease) return;
    pooled.lease = undefined;
    if (!this.sockets.has(pooled)) return this.topUp(); // it ended meanwhile
    let idle = 0;
    for (const each of this.sockets) if (each.lease === undefined && each !== pooled) idle++;
    // Clean, or still in its upgrade (its user left before it opened): it can serve the next one.
    if ((lease.kept || pooled.open === undefined) && !this.closed && this.warmWanted && idle < this.config.warm) {
      pooled.open?.resume?.(); // its last user may have paused it
      return;
    }
    this.discard(pooled);
    this.topUp();
  }

  private discard(pooled: Pooled): void {
    this.sockets.delete(pooled);
    pooled.lease = undefined;
    pooled.subscription?.unsubscribe();
  }

  /** Nobody uses the pool: it stays warm for `keepAliveMs`, then closes what is idle. */
  private startKeepAlive(): void {
    const { keepAliveMs } = this.config;
    if (this.closed || !Number.isFinite(keepAliveMs)) return;
    this.keepAlive?.unsubscribe();
    this.keepAlive = asyncScheduler.schedule(() => {
      this.warmWanted = false;
      for (const pooled of this.sockets) if (pooled.lease === undefined) this.discard(pooled);
    }, keepAliveMs);
  }
}
