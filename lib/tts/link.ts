import { asyncScheduler, type Subscription } from 'rxjs';
import { PLAIN_COMMANDS, commandOf } from '../protocol/plain';
import type { TransportEvent } from '../transport/transport';
import type { TtsSettings } from './config';

/** Whether a frame is one of the protocol's commands rather than text. */
const isCommand = (frame: string): boolean => commandOf(frame) !== undefined;

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
}

/**
 * One websocket connection's share of the work: the frames it was given (to replay if it fails) and its state. A
 * link queued behind the current one opens ahead of time but sends nothing until it becomes current.
 */
export class Link {
  /** Every frame given to this connection, sent or waiting, in order. */
  readonly frames: string[] = [];
  private sentCount = 0;
  private send: ((frame: string) => void) | undefined;
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
  /** Where the first text frame that no audio has answered yet stands in `frames` (text sent after the latest audio). */
  unansweredFrom: number | undefined;
  /** Since when the server owes audio for that text: a flush or `<EOS>` followed it (or `immediate` mode). */
  owedSince: number | undefined;
  /** After `<EOS>` went out: the latest of it and the audio since, which the server's close must follow in time. */
  quietSince: number | undefined;
  /** Characters given since the last `<FLUSH>`/`<EOS>`: what the server may hold unsynthesized. */
  heldCharacters = 0;
  /** Characters of all the text given: what a retry of this connection would say again. */
  textCharacters = 0;
  /** The turn its first text belongs to: its first audio is that turn's. */
  turn: Turn | undefined;
  /** Whether its `open` event was reported: once, when it is open and the current connection. */
  announced = false;

  constructor(
    /** Whether the server synthesizes every text frame as it comes (`segment=immediate`). */
    private readonly synthesizesText: boolean,
    frames: readonly string[],
    /** Queued behind the current connection: opens, but sends nothing until {@link release}. */
    private queued: boolean,
  ) {
    frames.forEach((frame) => this.push(frame));
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

  /** Whether `<EOS>` was given: this connection takes nothing more and ends when the server closes it. */
  get ended(): boolean {
    return this.frames[this.frames.length - 1] === PLAIN_COMMANDS.eos;
  }

  get endOfStreamSent(): boolean {
    return this.sentCount > 0 && this.frames[this.sentCount - 1] === PLAIN_COMMANDS.eos;
  }

  connect(settings: TtsSettings, onEvent: (event: TransportEvent) => void, onError: (error: unknown) => void): void {
    // A URL of its own: a transport may change the one it is given without touching later connections.
    const request = { url: new URL(settings.url), apiKey: settings.apiKey, handshakeTimeoutMs: settings.handshakeTimeoutMs };
    this.subscription = settings.transport(request).subscribe({ next: onEvent, error: onError });
  }

  opened(event: Extract<TransportEvent, { type: 'open' }>): void {
    this.send = event.send;
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
  readonly early: Uint8Array[] = [];
  earlyBytes = 0;
  earlyClose: { readonly code: number; readonly reason: string } | undefined;

  /** Whether frames go out as they are given (not held back for a connection ahead of this one). */
  get released(): boolean {
    return !this.queued;
  }

  /** Becomes the current connection: sends what it holds. */
  release(): void {
    this.queued = false;
    this.transmitWaiting();
  }

  push(frame: string): void {
    this.frames.push(frame);
    const text = !isCommand(frame);
    this.heldCharacters = text ? this.heldCharacters + frame.length : 0;
    if (text) this.textCharacters += frame.length;
    this.transmitWaiting();
  }

  /** Audio arrived: everything sent so far has been answered. */
  answered(bytes: number): void {
    this.audioBytes += bytes;
    this.unansweredFrom = undefined;
    this.owedSince = undefined;
    if (this.quietSince !== undefined) this.quietSince = asyncScheduler.now();
  }

  /** Forgets frames not sent yet (an interruption before they went out). */
  dropUnsent(): void {
    this.frames.length = this.sentCount;
    this.heldCharacters = 0;
    this.textCharacters = this.frames.reduce((sum, frame) => sum + (isCommand(frame) ? 0 : frame.length), 0);
    if (this.textCharacters === 0) this.turn = undefined;
  }

  private transmitWaiting(): void {
    if (this.queued || this.send === undefined) return;
    while (this.sentCount < this.frames.length) this.transmit(this.frames[this.sentCount] ?? '');
  }

  private transmit(frame: string): void {
    this.send?.(frame);
    const index = this.sentCount++;
    const text = !isCommand(frame);
    if (text) this.spoke = true;
    if (text && this.unansweredFrom === undefined) this.unansweredFrom = index;
    const owing = text ? this.synthesizesText : frame !== PLAIN_COMMANDS.clear;
    if (owing && this.unansweredFrom !== undefined) this.owedSince ??= asyncScheduler.now();
    if (frame === PLAIN_COMMANDS.eos) this.quietSince = asyncScheduler.now();
  }

  /** Closes the connection (the transport closes with 1000); with `interrupt`, tells the server `<CLEAR>` first. */
  dispose(interrupt: boolean): void {
    if (interrupt && this.send !== undefined && !this.queued) this.send(PLAIN_COMMANDS.clear);
    this.send = undefined;
    this.subscription?.unsubscribe();
  }
}
