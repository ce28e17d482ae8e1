import type { RawData, WebSocket } from 'ws';
import type { RimeQueryOptions } from '../options';
import { CLOSE } from '../protocol/rules';
import type { Wire } from '../protocol/wire';
import type { ServerEvent } from './events';
import type { ConnectionFault } from './faults';
import { AudioSender, abortableDelay } from './sender';
import { type SessionSettings, SynthesisSession } from './session';
import type { Voice } from './voices/voice';

/** Server-wide settings a connection obeys. */
export interface ConnectionSettings extends SessionSettings {
  readonly idleTimeoutMs: number;
  /** Largest audio chunk sent; an odd size, so pcm arrives cut at odd byte boundaries as Rime cuts it. */
  readonly frameBytes: number;
}

export interface ConnectionContext {
  readonly id: number;
  readonly socket: WebSocket;
  /** The protocol of the path the client connected to. */
  readonly wire: Wire;
  readonly options: RimeQueryOptions;
  readonly voice: Voice;
  readonly settings: ConnectionSettings;
  readonly fault: ConnectionFault | undefined;
  readonly emit: (event: ServerEvent) => void;
}

/**
 * One client connection, whatever its protocol: decodes each frame with the path's wire into a message for the
 * synthesis session, sends the session's audio through the `AudioSender` (pacing, faults, slow clients), and ends
 * the connection (an idle timeout, a fault, the client, shutdown).
 */
export class RimeConnection {
  private closed = false;
  private stalled = false;
  private idleTimer: NodeJS.Timeout | undefined;
  private readonly faultTimer: NodeJS.Timeout | undefined;
  /** Aborted when the connection ends: cancels every pending delay. */
  private readonly lifetime = new AbortController();
  /** Settles when the connection ends: what a stalled sender waits for. */
  private readonly end = new Promise<void>((resolve) => this.lifetime.signal.addEventListener('abort', () => resolve()));
  private readonly sender: AudioSender;
  private readonly session: SynthesisSession;

  constructor(private readonly context: ConnectionContext) {
    const { socket, fault, settings } = context;
    const isClosed = () => this.closed;
    const delay = (milliseconds: number) => (this.closed ? Promise.resolve() : abortableDelay(milliseconds, this.lifetime.signal));
    this.sender = new AudioSender({
      ...context,
      frameBytes: settings.frameBytes,
      idleTimeoutMs: settings.idleTimeoutMs,
      closed: isClosed,
      stalled: () => this.stalled,
      end: this.end,
      delay,
      strike: () => this.strike(),
      cutOff: () => this.cutOff(),
    });
    this.session = new SynthesisSession({
      ...context,
      closed: isClosed,
      send: (encoded, pacingMs, contextId, last) => this.sender.send(encoded, pacingMs, contextId, last),
      tell: (message) => this.sender.tell(message),
      delay,
      close: (code, reason) => this.close(code, reason),
      finished: () => this.finished(),
    });
    socket.on('message', (data, isBinary) => this.receive(data, isBinary));
    socket.on('close', (code, reason) => this.ended(code, reason.toString()));
    socket.on('error', () => {}); // a broken client socket is followed by 'close'; one client never disturbs the rest
    this.restartIdleTimer();
    const triggered = fault?.kind === 'slow' ? undefined : fault;
    this.faultTimer = triggered?.afterMs === undefined ? undefined : setTimeout(() => this.strike(), triggered.afterMs);
    if (triggered !== undefined && triggered.afterMs === undefined && triggered.afterBytes === undefined) {
      queueMicrotask(() => this.strike());
    }
  }

  private receive(data: RawData, isBinary: boolean): void {
    if (this.closed) return;
    const raw = data as Buffer; // ws's default binaryType: every message is one Buffer
    const decoded = this.context.wire.decodeClient(isBinary ? new Uint8Array(raw.buffer, raw.byteOffset, raw.byteLength) : raw.toString());
    if (decoded._tag === 'Left') {
      // As the protocol says: the plain one closes (1003), the JSON one answers with an error and stays open.
      const { closeCode, message } = decoded.left;
      if (closeCode !== undefined) return this.close(closeCode, message);
      this.context.emit({ type: 'rejected', connection: this.context.id, message });
      return void this.sender.tell({ type: 'error', message });
    }
    const message = decoded.right;
    // Whitespace says nothing: a client must not hold a connection (a slot of everyone's limit) with `' '` frames.
    if (message.type !== 'text' || message.text.trim() !== '') this.restartIdleTimer();
    this.session.take(message);
  }

  /** Everything was said after `eos`: a clean close (once a stall, if one struck, ends). */
  private async finished(): Promise<void> {
    if (this.stalled) await this.end;
    this.close(CLOSE.normal, '');
  }

  /** Applies the connection's fault (once). */
  private strike(): void {
    const { fault, socket, emit, id } = this.context;
    if (fault === undefined || this.closed || this.stalled) return;
    emit({ type: 'fault', connection: id, fault });
    switch (fault.kind) {
      case 'drop':
        return this.cutOff();
      case 'close':
        return this.close(fault.code, fault.reason);
      case 'stall':
        this.stalled = true;
        return;
      case 'slow':
        return;
    }
  }

  /** Ends the socket without a close frame (the client sees 1006). */
  private cutOff(): void {
    if (this.closed) return;
    this.closed = true;
    this.release();
    this.context.socket.terminate();
  }

  /** What was waiting in the socket's send buffer when the idle timer last looked. */
  private lastBuffered = 0;

  /**
   * Closes the connection once it has been idle for `idleTimeoutMs`: nothing from the client, nothing to
   * synthesize, and no audio waiting for it. A client still taking audio that waits is not idle; one that takes none
   * of it for a whole period is cut off (a close frame could not reach it).
   */
  private restartIdleTimer(): void {
    clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => {
      const waiting = this.context.socket.bufferedAmount;
      if (this.session.busy || (waiting > 0 && waiting !== this.lastBuffered)) {
        this.lastBuffered = waiting;
        return this.restartIdleTimer();
      }
      if (waiting > 0) return this.cutOff();
      this.close(CLOSE.normal, 'idle timeout');
    }, this.context.settings.idleTimeoutMs);
  }

  /** Ends the connection from the server side with `code` and `reason`. */
  close(code: number, reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.release();
    this.context.socket.close(code, reason);
  }

  private ended(code: number, reason: string): void {
    const by = this.closed ? 'server' : 'client';
    this.closed = true;
    this.release();
    this.context.emit({ type: 'close', connection: this.context.id, code, reason, by });
  }

  private release(): void {
    clearTimeout(this.idleTimer);
    this.sender.release();
    clearTimeout(this.faultTimer);
    this.lifetime.abort();
    this.session.clear();
  }
}
