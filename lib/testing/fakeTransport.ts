import { Observable, type Subscriber, asyncScheduler } from 'rxjs';
import type { RimeError } from '../errors';
import type { ClientMessage, ContextId, ServerMessage } from '../protocol/messages';
import { plainWire } from '../protocol/plain';
import type { Frame, Wire } from '../protocol/wire';
import type { ConnectRequest, Transport, TransportEvent } from '../transport/transport';

/** A frame the client sent, with the scheduler's time (virtual time under `TestScheduler.run`). */
export interface SentFrame {
  readonly time: number;
  readonly frame: Frame;
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
  private readonly unread: Frame[] = [];
  private unreadClose: { readonly code: number; readonly reason: string } | undefined;

  constructor(
    readonly index: number,
    readonly request: ConnectRequest,
    private readonly subscriber: Subscriber<TransportEvent>,
    private readonly wire: Wire,
  ) {}

  /** The text frames sent, in order, as they went on the wire. */
  get frames(): string[] {
    return this.sent.flatMap((entry) => (typeof entry.frame === 'string' ? [entry.frame] : []));
  }

  /** What the client said, in order, in the protocol's vocabulary: the same whatever the wire. */
  get messages(): ClientMessage[] {
    return this.sent.flatMap((entry) => {
      const decoded = this.wire.decodeClient(entry.frame);
      return decoded._tag === 'Right' ? [decoded.right] : [];
    });
  }

  /**
   * Completes the upgrade; `onMessage` (to play a server that answers) hears each message the client sends after
   * it, decoded by the protocol's wire.
   */
  open(onMessage?: (message: ClientMessage) => void): void {
    this.subscriber.next({
      type: 'open',
      send: (frame) => {
        if (this.closedByClientAt !== undefined) return;
        this.sent.push({ time: asyncScheduler.now(), frame });
        if (onMessage === undefined) return;
        const decoded = this.wire.decodeClient(frame);
        if (decoded._tag === 'Right') onMessage(decoded.right);
      },
      pause: () => {
        this.paused = true;
      },
      resume: () => {
        this.paused = false;
        for (let frame = this.unread.shift(); frame !== undefined; frame = this.paused ? undefined : this.unread.shift()) this.deliver(frame);
        if (!this.paused && this.unreadClose !== undefined) this.closeNow(this.unreadClose.code, this.unreadClose.reason);
      },
    });
  }

  /** Whether the connection is still open: neither side has ended it. */
  get live(): boolean {
    return !this.endedByServer && this.closedByClientAt === undefined;
  }

  /**
   * Sends audio bytes to the client, as the protocol frames them (a string is its UTF-8 bytes, handy in marbles),
   * in `contextId` where the protocol has contexts.
   */
  audio(bytes: Uint8Array | string, contextId?: ContextId): void {
    const data = typeof bytes === 'string' ? new TextEncoder().encode(bytes) : bytes;
    this.send({ type: 'audio', bytes: data, ...(contextId === undefined ? {} : { contextId }) });
  }

  /** Sends a server message as the protocol frames it; one the protocol has no frame for is not sent. */
  send(message: ServerMessage): void {
    const frame = this.wire.encodeServer(message);
    if (frame !== undefined) this.frame(frame);
  }

  /** Sends one frame as it is, whatever the protocol would make of it. */
  frame(frame: Frame): void {
    if (this.paused || this.unread.length > 0) this.unread.push(frame);
    else this.deliver(frame);
  }

  /** Bytes sent while the client was not reading, waiting for it to resume. */
  get unreadBytes(): number {
    return this.unread.reduce((sum, frame) => sum + (typeof frame === 'string' ? Buffer.byteLength(frame) : frame.length), 0);
  }

  private deliver(frame: Frame): void {
    this.subscriber.next({ type: 'frame', frame });
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
 * `connections`. It speaks the protocol of `wire` (default: Rime's plain `/ws`); a test that plays the server in
 * messages (`open(onMessage)`, `messages`, `audio`) runs unchanged over any protocol.
 *
 * @example
 * const fake = new FakeTransport((connection) => cold('-o-a-c', { o: 'open', a: 'audio', c: 'close' })
 *   .subscribe((step) => step === 'open' ? connection.open() : step === 'audio' ? connection.audio('x') : connection.close()));
 * text$.pipe(rimeTts({ speaker: 'cove', apiKey: 'test', transport: fake.transport }))
 */
export class FakeTransport {
  readonly connections: FakeConnection[] = [];

  constructor(
    private readonly serve: (connection: FakeConnection) => void = (connection) => connection.open(),
    private readonly wire: Wire = plainWire,
  ) {}

  readonly transport: Transport = (request) =>
    new Observable<TransportEvent>((subscriber) => {
      const connection = new FakeConnection(this.connections.length, request, subscriber, this.wire);
      this.connections.push(connection);
      this.serve(connection);
      return () => {
        if (!connection.endedByServer) connection.closedByClientAt ??= asyncScheduler.now();
      };
    });
}
