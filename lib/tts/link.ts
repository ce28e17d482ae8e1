import { asyncScheduler, type Subscription } from 'rxjs';
import type { ClientMessage, ContextId } from '../protocol/messages';
import type { Wire } from '../protocol/wire';
import type { TransportEvent } from '../transport/transport';
import type { TtsSettings } from './config';

/**
 * Messages Rime has said done past which a connection's log forgets them: nothing done is said again, so a
 * conversation on one `/ws3` connection holds its unfinished text only, not every turn's.
 */
const FORGET_DONE_AFTER = 256;

/** The most audio a connection keeps before it is current; past it, its socket is not read until then. */
const EARLY_AUDIO_LIMIT = 1024 * 1024;

const charactersOf = (message: ClientMessage): number => (message.type === 'text' ? message.text.length : 0);

/**
 * A turn: the text from the start, a flush or an interruption to the next one. Its first audio is timed from when
 * its first text went out on a connection.
 */
export interface Turn {
  readonly index: number;
  /** When its first text was sent; undefined while it waits for a connection to open. */
  textSentAt: number | undefined;
  /** Whether its first audio has been reported. */
  heard: boolean;
  /** On `/ws3`: the context of its latest segment; its `done` ends the turn once no more text can come. */
  lastContext?: string;
}

/**
 * One websocket connection's share of the work: the messages it was given (its log, replayed if it fails; encoded
 * by the protocol's wire only when sent) and its state. A link queued behind the current one opens ahead of time
 * but sends nothing until it becomes current.
 */
export class Link {
  /** Every message given to this connection, sent or waiting, in order. */
  readonly messages: ClientMessage[] = [];
  private sentCount = 0;
  private send: ((message: ClientMessage) => void) | undefined;
  private flow: { readonly pause?: () => void; readonly resume?: () => void } = {};
  private reading = true;
  /** Whether downstream takes audio (`backpressure`), and whether this connection's early audio is held back. */
  private downstreamReading = true;
  private heldBack = false;
  private subscription: Subscription | undefined;
  /** Whether any text went out on the socket (frames waiting to be sent do not count). */
  spoke = false;
  /** Audio bytes received on this connection. */
  audioBytes = 0;
  /** Where the first text that no audio has answered yet stands in `messages` (text sent after the latest audio). */
  unansweredFrom: number | undefined;
  /** Since when the server owes audio for that text: a flush or `<EOS>` followed it (or `immediate` mode). */
  owedSince: number | undefined;
  /** After `<EOS>` went out: the latest of it and the audio since, which the server's close must follow in time. */
  quietSince: number | undefined;
  /** Characters given since the last flush or `eos`: what the server may hold unsynthesized. */
  heldCharacters = 0;
  /** Characters of all the text given: what a retry of this connection would say again. */
  textCharacters = 0;
  /** The turn its first text belongs to: its first audio is that turn's. */
  turn: Turn | undefined;
  /** Whether its `open` event was reported: once, when it is open and the current connection. */
  announced = false;
  /** How long the speech waited for this connection's upgrade: 0 when it was open before it was needed. */
  handshakeMs = 0;
  private connectedAt = 0;
  /** When it opened (undefined: not yet). */
  openedAt: number | undefined;
  /** Offered by a transport that can take the connection back (a pool's): see {@link handBack}. */
  private keep: (() => void) | undefined;

  constructor(
    private readonly wire: Wire,
    /** Whether the server synthesizes every text as it comes (`segment=immediate`). */
    private readonly synthesizesText: boolean,
    messages: readonly ClientMessage[],
    /** Queued behind the current connection: opens, but sends nothing until {@link release}. */
    private queued: boolean,
    /**
     * On a protocol that says when a synthesis is done (`/ws3`): the most text sent and not done yet, past which
     * text waits for `done`s, so the server never holds more than this much of it. Undefined: no such bound.
     */
    private readonly window?: number,
    /**
     * Where each text is flushed on its own there (`/ws3`, the default segmenting): the most texts sent and not done
     * yet. Rime's `clear` cancels no synthesis already asked for, so an interruption waits for at most these; two
     * keep Rime busy (one synthesized while the other's audio streams). Undefined: no such bound.
     */
    private readonly textsAhead?: number,
  ) {
    messages.forEach((message) => this.push(message));
  }

  /** Text sent and not done yet (`window`'s measure), and where the last text a flush or `eos` followed stands. */
  private outstanding = 0;
  private outstandingTexts = 0;
  private lastFlushedText = -1;
  private lastSentText = -1;

  /** Whether text a flush followed is not done yet: the server owes its synthesis. */
  private get owesSynthesis(): boolean {
    return this.lastFlushedText >= this.acknowledgedCount;
  }

  get connecting(): boolean {
    return this.subscription !== undefined;
  }

  get open(): boolean {
    return this.send !== undefined;
  }

  get hasText(): boolean {
    return this.textCharacters > 0;
  }

  /** Whether `eos` was given: this connection takes nothing more and ends when the server closes it. */
  get ended(): boolean {
    return this.messages[this.messages.length - 1]?.type === 'eos';
  }

  get endOfStreamSent(): boolean {
    return this.sentCount > 0 && this.messages[this.sentCount - 1]?.type === 'eos';
  }

  connect(settings: TtsSettings, onEvent: (event: TransportEvent) => void, onError: (error: unknown) => void): void {
    // A URL of its own: a transport may change the one it is given without touching later connections.
    const request = { url: new URL(settings.url), apiKey: settings.apiKey, handshakeTimeoutMs: settings.handshakeTimeoutMs };
    this.connectedAt = asyncScheduler.now();
    this.subscription = settings.transport(request).subscribe({ next: onEvent, error: onError });
  }

  opened(event: Extract<TransportEvent, { type: 'open' }>): void {
    this.openedAt = asyncScheduler.now();
    this.handshakeMs = event.handshakeMs ?? this.openedAt - this.connectedAt;
    this.keep = event.keep;
    this.send = (message) => event.send(this.wire.encodeClient(message));
    this.flow = event;
    if (!this.reading) event.pause?.();
    this.transmitWaiting();
  }

  /** Reads the socket or stops reading it (a slow consumer downstream); applied on open too. */
  read(reading: boolean): void {
    this.downstreamReading = reading;
    this.applyReading();
  }

  /** Stops reading while early audio (received before this connection is current) is held past its bound. */
  holdBack(held: boolean): void {
    this.heldBack = held;
    this.applyReading();
  }

  private applyReading(): void {
    const reading = this.downstreamReading && !this.heldBack;
    if (reading === this.reading) return;
    this.reading = reading;
    if (this.send === undefined) return;
    if (reading) this.flow.resume?.();
    else this.flow.pause?.();
  }

  /** Audio received before this connection became current, in order, and how the server closed it meanwhile. */
  private readonly early: Uint8Array[] = [];
  private earlyBytes = 0;
  earlyClose: { readonly code: number; readonly reason: string } | undefined;

  /** Keeps audio that came before this connection is current; past {@link EARLY_AUDIO_LIMIT}, stops reading. */
  keepEarly(bytes: Uint8Array): void {
    this.answered(0);
    this.early.push(bytes);
    this.earlyBytes += bytes.length;
    if (this.earlyBytes > EARLY_AUDIO_LIMIT) this.holdBack(true);
  }

  /**
   * The oldest audio kept early, taken. Once none is left the socket is read again: not before, or what waited in
   * the network (delivered at once by a transport that resumes synchronously) would come ahead of what was kept.
   */
  takeEarly(): Uint8Array | undefined {
    const bytes = this.early.shift();
    if (bytes === undefined) this.holdBack(false);
    else this.earlyBytes -= bytes.length;
    return bytes;
  }

  /** Whether frames go out as they are given (not held back for a connection ahead of this one). */
  get released(): boolean {
    return !this.queued;
  }

  /** Its turn had its first text sent now, if not before: the turn's first audio is timed from here. */
  markTextSent(): void {
    if (this.turn !== undefined && this.turn.textSentAt === undefined && this.spoke) this.turn.textSentAt = asyncScheduler.now();
  }

  /** Becomes the current connection: sends what it holds. */
  release(): void {
    this.queued = false;
    this.transmitWaiting();
  }

  push(message: ClientMessage): void {
    this.messages.push(message);
    const characters = charactersOf(message);
    this.heldCharacters = message.type === 'text' ? this.heldCharacters + characters : 0;
    this.textCharacters += characters;
    this.transmitWaiting();
  }

  /** Audio arrived: everything sent so far has been answered. */
  answered(bytes: number): void {
    this.audioBytes += bytes;
    this.unansweredFrom = undefined;
    // Where `done`s tell, audio is progress but no answer: a synthesis is owed until its `done` (a stall in the
    // middle of one is then seen), counted from the latest audio.
    this.owedSince = this.window !== undefined && this.owesSynthesis ? asyncScheduler.now() : undefined;
    if (this.quietSince !== undefined) this.quietSince = asyncScheduler.now();
  }

  /** On a protocol that says when a synthesis is done: how many of `messages` are done (acknowledged). */
  private acknowledgedCount = 0;

  /**
   * Rime said the synthesis asked for in `contextId` is done: every message up to the last text of that context is
   * (syntheses run in order). Whether that acknowledged anything not acknowledged before.
   */
  acknowledge(contextId: ContextId | undefined): boolean {
    if (contextId === undefined || contextId === null) return false;
    for (let index = this.sentCount - 1; index >= this.acknowledgedCount; index--) {
      const message = this.messages[index];
      if (message?.type === 'text' && message.contextId === contextId) {
        this.acknowledgedCount = index + 1;
        const undone = this.messages.slice(this.acknowledgedCount, this.sentCount);
        this.outstanding = undone.reduce((sum, each) => sum + charactersOf(each), 0);
        this.outstandingTexts = undone.filter((each) => each.type === 'text').length;
        if (this.acknowledgedCount >= FORGET_DONE_AFTER) this.forgetDone();
        this.owedSince = this.owesSynthesis ? asyncScheduler.now() : undefined;
        this.transmitWaiting(); // text held back by the window may go now
        return true;
      }
    }
    return false;
  }

  /** Where the first text no `done` acknowledged stands, of those still `live` (undefined: every one is done). */
  unacknowledgedFrom(live: (text: Extract<ClientMessage, { type: 'text' }>) => boolean): number | undefined {
    for (let index = this.acknowledgedCount; index < this.messages.length; index++) {
      const message = this.messages[index];
      if (message?.type === 'text' && live(message)) return index;
    }
    return undefined;
  }

  /** Whether a flush or `eos` went out after the message at `index`: the server owes a synthesis of it. */
  flushedAfter(index: number): boolean {
    for (let at = index + 1; at < this.sentCount; at++) {
      const type = this.messages[at]?.type;
      if (type === 'flush' || type === 'eos') return true;
    }
    return false;
  }

  /** The context of the first text sent: what an untagged answer can belong to (Rime may tag the first `null`). */
  get firstContext(): ContextId | undefined {
    return this.firstSentContext;
  }

  private firstSentContext: ContextId | undefined;

  /**
   * Drops from the log what Rime said done (never said again, by a retry or otherwise); the positions kept are
   * moved with it. A `clear` among them goes too: every text before it being done, nothing stale can come.
   */
  private forgetDone(): void {
    const done = this.acknowledgedCount;
    this.messages.splice(0, done);
    this.sentCount -= done;
    this.acknowledgedCount = 0;
    this.lastFlushedText -= done;
    this.lastSentText -= done;
    if (this.unansweredFrom !== undefined) this.unansweredFrom = Math.max(0, this.unansweredFrom - done);
  }

  /** Forgets messages not sent yet (an interruption before they went out). */
  dropUnsent(): void {
    this.messages.length = this.sentCount;
    this.heldCharacters = 0;
    this.textCharacters = this.messages.reduce((sum, message) => sum + charactersOf(message), 0);
    if (this.textCharacters === 0) this.turn = undefined;
  }

  private transmitWaiting(): void {
    for (let message = this.messages[this.sentCount]; message !== undefined && !this.queued; message = this.messages[this.sentCount]) {
      if (this.send === undefined) return;
      if (this.window !== undefined && message.type === 'text' && this.outstanding > 0 && this.outstanding + message.text.length > this.window) return;
      if (this.textsAhead !== undefined && message.type === 'text' && this.outstandingTexts >= this.textsAhead) return;
      this.transmit(message);
    }
  }

  /** Sends `message`, its state updated first: a server that answers at once (a test's) finds it sent. */
  private transmit(message: ClientMessage): void {
    const index = this.sentCount++;
    const text = message.type === 'text';
    if (text) {
      this.spoke = true;
      this.firstSentContext ??= message.contextId;
      this.lastSentText = index;
      this.outstanding += message.text.length;
      this.outstandingTexts++;
    }
    if (text && this.unansweredFrom === undefined) this.unansweredFrom = index;
    const owing = text ? this.synthesizesText : message.type !== 'clear';
    if (owing) this.lastFlushedText = this.lastSentText;
    if (owing && (this.unansweredFrom !== undefined || (this.window !== undefined && this.owesSynthesis))) this.owedSince ??= asyncScheduler.now();
    if (message.type === 'eos') this.quietSince = asyncScheduler.now();
    this.send?.(message);
  }

  /**
   * Whether the connection can outlive the speech: its transport takes it back, and no interruption was said on it
   * (Rime's `clear` cancels no synthesis already asked for: answers of it could still come to the next user).
   */
  get canHandBack(): boolean {
    return this.keep !== undefined && this.open && !this.messages.some((message) => message.type === 'clear');
  }

  /** Leaves the connection, clean, to its transport (which keeps it for its next user) instead of closing it. */
  handBack(): void {
    this.keep?.();
    this.dispose();
  }

  /**
   * Closes the connection (the transport closes with 1000, or takes back one nothing was said on); `last`, if
   * given, is sent first (an interruption's `clear`).
   */
  dispose(last?: ClientMessage): void {
    if (last !== undefined && this.send !== undefined && !this.queued) this.send(last);
    // Nothing was said on it, so nothing can come: a transport that takes connections back may have it.
    if (!this.spoke) this.keep?.();
    this.send = undefined;
    this.subscription?.unsubscribe();
  }
}
