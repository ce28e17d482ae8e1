import { RimeError, redactKey } from '../errors';
import type { ClientMessage, ServerMessage } from '../protocol/messages';
import type { TransportEvent } from '../transport/transport';
import type { TtsSettings } from './config';
import type { RimeEvent } from './events';
import { Link, type Turn } from './link';

/** On `/ws3`, the most segments sent and not done yet: the one being synthesized, and the next, ready for Rime. */
const SYNTHESES_AHEAD = 2;

/** What the lineup asks of the speech it serves. */
export interface LineupHost {
  readonly settings: TtsSettings;
  /** Whether the subscriber is gone (nothing more is opened or emitted). */
  readonly stopped: () => boolean;
  /** Whether a retry waits out its backoff: nothing is opened or sent ahead meanwhile. */
  readonly retrying: () => boolean;
  /** Audio arrived on the current connection (or on one that became current, audio it kept). */
  readonly audio: (link: Link, bytes: Uint8Array) => void;
  /** A message arrived on the current connection. */
  readonly message: (link: Link, message: ServerMessage) => void;
  /** The current connection closed (possibly before it became current: then now). */
  readonly closed: (link: Link, code: number, reason: string) => void;
  /** The current connection failed: an error from its transport or its protocol. */
  readonly failed: (error: unknown) => void;
  /** The current connection opened. */
  readonly opened: () => void;
  /** Another connection became the current one. */
  readonly replaced: () => void;
  readonly report: (event: RimeEvent) => void;
}

/**
 * The connections of one speech, in order: the current one, then those after it. Each after it is ended with `eos`
 * but the last, and holds its messages until it becomes current, so no connection ever carries two turns; the first
 * is opened ahead of time (with `prewarm`) and speaks as soon as the current one has sent `eos`, its audio kept
 * until it is current; an empty last one is the spare an interruption continues on.
 */
export class Lineup {
  current: Link;
  private readonly ahead: Link[] = [];
  /**
   * Whether a spare may be opened now: once per turn. A spare the server closed (idle; Rime: after about 30 s) or
   * refused is opened again for the next turn, not at once, so an idle-closing server does not cost a connection per
   * idle period.
   */
  private spareWanted = true;
  /** Whether the sockets are read (downstream takes audio). */
  private reading = true;

  constructor(private readonly host: LineupHost) {
    this.current = this.newLink([], false);
  }

  newLink(messages: readonly ClientMessage[], queued: boolean): Link {
    const { protocol, options, maxReplayCharacters, flushEachSegment } = this.host.settings;
    // On /ws3 the most text sent and not done is bounded as a connection's text is on /ws, and where each segment
    // is a synthesis of its own, so are the syntheses asked for ahead: an interruption waits for no more than those.
    const contexts = protocol.contexts;
    const link = new Link(protocol.wire, options.segment === 'immediate', messages, queued, contexts ? maxReplayCharacters : undefined, contexts && flushEachSegment ? SYNTHESES_AHEAD : undefined);
    link.read(this.reading);
    return link;
  }

  /** A fresh connection in place of `from`, given `messages` of its log, and so its turn. */
  successor(from: Link, messages: readonly ClientMessage[], queued: boolean): Link {
    const link = this.newLink(messages, queued);
    link.turn = from.turn;
    return link;
  }

  read(reading: boolean): void {
    this.reading = reading;
    [this.current, ...this.ahead].forEach((link) => link.read(reading));
  }

  /** A new turn may have a spare of its own. */
  newTurn(): void {
    this.spareWanted = true;
  }

  /** The server closed a connection idle: no spare until the next turn. */
  noSpare(): void {
    this.spareWanted = false;
  }

  /** Whether a connection after the current one carries text of `turn`. */
  carries(turn: Turn): boolean {
    return this.ahead.some((link) => link.turn === turn && link.hasText);
  }

  /** Whether any connection after the current one has text. */
  get textAhead(): boolean {
    return this.ahead.some((link) => link.hasText);
  }

  /** The connection new messages go to: the first that has not been ended (a new one, queued, if all were). */
  receiving(): Link {
    const open = this.takingMessages();
    if (open !== undefined) return open;
    const next = this.newLink([], true);
    this.ahead.push(next);
    if (this.ahead.length === 1 && this.host.settings.prewarm && !this.host.retrying()) this.connect(next);
    return next;
  }

  /**
   * The connection that takes messages without a new one: the current, or the last one after it (every one before
   * it has been ended: constant time, however many wait behind a server that is slow to finish).
   */
  takingMessages(): Link | undefined {
    if (!this.current.ended) return this.current;
    const last = this.ahead[this.ahead.length - 1];
    return last !== undefined && !last.ended ? last : undefined;
  }

  /** Drops `link`, one after the current connection that is no longer needed (the text ended before it spoke). */
  drop(link: Link): void {
    const at = this.ahead.indexOf(link);
    if (at !== -1) this.ahead.splice(at, 1);
    link.dispose();
  }

  connect(link: Link): void {
    if (this.host.stopped()) return;
    link.connect(
      this.host.settings,
      (event) => this.onEvent(link, event),
      (error) => (link === this.current ? this.host.failed(error) : this.lostAhead(link)),
    );
  }

  /**
   * Once the current connection has sent `eos`, the next one sends what it holds (and what comes), so Rime
   * synthesizes it while the current one finishes: no connection waits for another's close. Its audio is kept until
   * it is current, so the order of the speech is the order of the text.
   */
  sendAhead(): void {
    const next = this.ahead[0];
    if (next === undefined || next.released || !this.current.endOfStreamSent || this.host.retrying()) return;
    next.release();
    if (!next.connecting && (this.host.settings.prewarm || next.hasText)) this.connect(next);
    next.markTextSent();
  }

  private onEvent(link: Link, event: TransportEvent): void {
    if (event.type === 'open') {
      link.opened(event);
      link.markTextSent();
      if (link !== this.current) return;
      this.host.opened();
      return this.sendAhead();
    }
    if (event.type === 'close') return this.onClose(link, event.code, event.reason);
    const decoded = this.host.settings.protocol.wire.decodeServer(event.frame);
    if (decoded._tag === 'Left') {
      // What is quoted of a bad frame could echo the request's headers: never the key.
      const { kind, message } = decoded.left;
      return link === this.current ? this.host.failed(new RimeError(kind, redactKey(message, this.host.settings.apiKey))) : this.lostAhead(link);
    }
    const message = decoded.right;
    if (message === undefined) return;
    if (link === this.current) return this.host.message(link, message);
    // The next connection speaks while this one finishes: its audio waits, bounded, until it is current. (Only the
    // plain protocol opens connections ahead, and audio is all it sends.)
    if (link === this.ahead[0] && message.type === 'audio') link.keepEarly(message.bytes);
  }

  private onClose(link: Link, code: number, reason: string): void {
    this.host.report({ type: 'close', code, reason });
    if (this.host.stopped()) return;
    if (link === this.current) return this.host.closed(link, code, reason);
    if (link === this.ahead[0] && code === 1000 && link.endOfStreamSent && link.unansweredFrom === undefined) {
      // The next connection finished before this one: its audio and its close are taken in turn.
      link.earlyClose = { code, reason };
      return;
    }
    this.lostAhead(link);
  }

  /**
   * A connection opened ahead closed or failed before its turn (idle, refused): it never sent anything, so what it
   * holds waits on a fresh one, opened when it becomes current; an empty spare is opened again for the next turn.
   */
  private lostAhead(link: Link): void {
    const at = this.ahead.indexOf(link);
    if (at === -1) return;
    this.spareWanted = false;
    link.dispose();
    if (link.messages.length === 0) return void this.ahead.splice(at, 1);
    this.ahead[at] = this.successor(link, link.messages, true);
  }

  /**
   * Opens the spare connection an interruption will continue on, once the current one is speaking: not earlier, so
   * its handshake never competes with the first audio.
   */
  prewarmSpare(): void {
    if (!this.host.settings.spare || !this.spareWanted || this.ahead.length > 0 || this.host.retrying()) return;
    const spare = this.newLink([], true);
    this.ahead.push(spare);
    this.connect(spare);
  }

  /** Goes on with the connection after the current one (or a new one when more comes), which sends what it holds. */
  advance(): void {
    this.replaceCurrent(this.ahead.shift() ?? this.newLink([], false));
    if (this.current.messages.length > 0 && !this.current.connecting) this.connect(this.current);
    this.connectAhead();
  }

  /** Opens the connection after the current one ahead of time, if there is one and `prewarm` asks for it. */
  connectAhead(): void {
    const next = this.ahead[0];
    if (next !== undefined && !next.connecting && this.host.settings.prewarm) this.connect(next);
  }

  /** Goes on with `link` as the current connection: what it received before, and a close meanwhile, are taken now. */
  replaceCurrent(link: Link): void {
    this.current = link;
    if (link.open) link.handshakeMs = 0; // opened ahead: nobody waited for it
    link.release();
    this.host.replaced();
    link.markTextSent();
    this.host.opened();
    for (let bytes = link.takeEarly(); bytes !== undefined; bytes = link.takeEarly()) {
      if (link !== this.current || this.host.stopped()) return;
      this.host.audio(link, bytes);
    }
    const { earlyClose } = link;
    link.earlyClose = undefined;
    if (link !== this.current || this.host.stopped()) return;
    if (earlyClose !== undefined) return this.host.closed(link, earlyClose.code, earlyClose.reason);
    this.sendAhead();
  }

  /**
   * An interruption, for the connections after the current one: text queued for later turns was given before it and
   * is dropped; the next one goes too if it already spoke (its audio is of old text), else it stays, emptied, to
   * carry on.
   */
  interruptAhead(interruption: ClientMessage): void {
    this.ahead.splice(1).forEach((link) => link.dispose());
    const next = this.ahead[0];
    if (next?.spoke === true) {
      next.dispose(interruption);
      this.ahead.shift();
    } else next?.dropUnsent();
  }

  dispose(): void {
    this.current.dispose();
    this.ahead.splice(0).forEach((link) => link.dispose());
  }
}
