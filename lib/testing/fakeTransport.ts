import { Observable, type Subscriber, asyncScheduler } from 'rxjs';
import type { RimeError } from '../errors';
import type { ConnectRequest, Transport, TransportEvent } from '../transport/transport';

/** A frame the client sent, with the scheduler's time (virtual time under `TestScheduler.run`). */
export interface SentFrame {
  readonly time: number;
  readonly frame: string;
}

/** One connection the client opened on a {@link FakeTransport}: the test plays the server's part. */
export class FakeConnection {
  readonly sent: SentFrame[] = [];
  /** Set when the client closed the connection (unsubscribed), with the scheduler's time. */
  closedByClientAt: number | undefined;
  /** Whether the test (as the server) has closed or failed the connection. */
  endedByServer = false;
  /** Whether the client has paused reading: audio sent meanwhile waits, as TCP would hold it, until it resumes. */
  paused = false;
  private readonly unread: Uint8Array[] = [];
  private unreadClose: { readonly code: number; readonly reason: string } | undefined;

  constructor(
    readonly index: number,
    readonly request: ConnectRequest,
    private readonly subscriber: Subscriber<TransportEvent>,
  ) {}

  /** The text frames sent, in order. */
  get frames(): string[] {
    return this.sent.map((entry) => entry.frame);
  }

  /** Completes the upgrade; `onFrame` (to play a server that answers) hears each frame the client sends after it. */
  open(onFrame?: (frame: string) => void): void {
    this.subscriber.next({
      type: 'open',
      send: (frame) => {
        if (this.closedByClientAt !== undefined) return;
        this.sent.push({ time: asyncScheduler.now(), frame });
        onFrame?.(frame);
      },
      pause: () => {
        this.paused = true;
      },
      resume: () => {
        this.paused = false;
        while (!this.paused && this.unread.length > 0) this.deliver(this.unread.shift() ?? new Uint8Array());
        if (!this.paused && this.unreadClose !== undefined) this.closeNow(this.unreadClose.code, this.unreadClose.reason);
      },
    });
  }

  /** Whether the connection is still open: neither side has ended it. */
  get live(): boolean {
    return !this.endedByServer && this.closedByClientAt === undefined;
  }

  /** Sends audio bytes to the client (a string is sent as its UTF-8 bytes, handy in marble tests). */
  audio(bytes: Uint8Array | string): void {
    const data = typeof bytes === 'string' ? new TextEncoder().encode(bytes) : bytes;
    if (this.paused || this.unread.length > 0) this.unread.push(data);
    else this.deliver(data);
  }

  /** Audio sent while the client was not reading, waiting for it to resume. */
  get unreadBytes(): number {
    return this.unread.reduce((sum, data) => sum + data.length, 0);
  }

  private deliver(bytes: Uint8Array): void {
    this.subscriber.next({ type: 'audio', bytes });
  }

  /** Closes the connection from the server side (a client that is not reading hears it once it resumes). */
  close(code = 1000, reason = ''): void {
    this.endedByServer = true;
    if (this.paused || this.unread.length > 0) this.unreadClose = { code, reason };
    else this.closeNow(code, reason);
  }

  private closeNow(code: number, reason: string): void {
    this.unreadClose = undefined;
    this.subscriber.next({ type: 'close', code, reason });
    this.subscriber.complete();
  }

  /** Fails the connection before it opened (a refused upgrade, a connection error). */
  fail(error: RimeError): void {
    this.endedByServer = true;
    this.subscriber.error(error);
  }
}

/**
 * A transport with no network, for marble tests of pipelines that use `rimeTts`: every connection the client opens
 * is handed to `serve` (which plays the server, usually by subscribing to marble observables) and recorded in
 * `connections`.
 *
 * @example
 * const fake = new FakeTransport((connection) => cold('-o-a-c', { o: 'open', a: 'audio', c: 'close' })
 *   .subscribe((step) => step === 'open' ? connection.open() : step === 'audio' ? connection.audio('x') : connection.close()));
 * text$.pipe(rimeTts({ speaker: 'cove', apiKey: 'test', transport: fake.transport }))
 */
export class FakeTransport {
  readonly connections: FakeConnection[] = [];

  constructor(private readonly serve: (connection: FakeConnection) => void = (connection) => connection.open()) {}

  readonly transport: Transport = (request) =>
    new Observable<TransportEvent>((subscriber) => {
      const connection = new FakeConnection(this.connections.length, request, subscriber);
      this.connections.push(connection);
      this.serve(connection);
      return () => {
        if (!connection.endedByServer) connection.closedByClientAt ??= asyncScheduler.now();
      };
    });
}
