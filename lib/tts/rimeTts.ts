import * as t from 'io-ts';
import * as E from 'fp-ts/Either';
import {
  type ObservableInput,
  type OperatorFunction,
  type Subscriber,
  Observable,
  Subject,
  Subscription,
  asyncScheduler,
  defer,
  from,
  take,
  throwError,
} from 'rxjs';
import { type FieldSet, Timeout, TimerDelay, described, fieldIssues, isNumberIn, isRecord, showValue, withDefault } from '../codecs';
import { Deadline } from '../deadline';
import { RimeError } from '../errors';
import { type RimeOptions, decodeRimeOptions, rimeUrl } from '../options';
import { PLAIN_COMMANDS, RIME_BUFFER_BOUNDARIES } from '../protocol/plain';
import { DEFAULT_MAX_LENGTH as RIME_TEXT_LIMIT } from '../text/sentences';
import { DEFAULT_RELEASE_AFTER_MS } from '../text/textStage';
import type { Transport, TransportEvent } from '../transport/transport';
import { wsTransport } from '../transport/wsTransport';
import type { AudioChunk } from '../audio/chunk';
import { AudioChunker } from './audio';
import { type TtsCommand, ttsCommands } from './commands';
import type { RimeEvent, RimeEventObserver } from './events';
import { closedEarly } from './failures';
import { RetryConfig, type RetryPolicy, retryPolicy } from './retry';

/** The most text one connection carries by default, and so the most a retry says again: about two minutes of speech. */
const DEFAULT_MAX_REPLAY_CHARACTERS = 2000;
/** At least one whole segment (Rime's text limit) must fit. */
const ReplayCharacters = described(
  `an integer number of characters from ${RIME_TEXT_LIMIT}`,
  isNumberIn(RIME_TEXT_LIMIT, Number.MAX_SAFE_INTEGER, true),
);

const ttsDefaults = {
  handshakeTimeoutMs: withDefault(Timeout, 10_000),
  eosTimeoutMs: withDefault(Timeout, 15_000),
  audioTimeoutMs: withDefault(Timeout, 5_000),
  prewarm: withDefault(t.boolean, true),
  releaseAfterMs: withDefault(TimerDelay, DEFAULT_RELEASE_AFTER_MS),
  maxReplayCharacters: withDefault(ReplayCharacters, DEFAULT_MAX_REPLAY_CHARACTERS),
};
const TtsOptions = t.exact(t.intersection([t.type(ttsDefaults), t.partial({ retry: RetryConfig })]));
const ttsFields: FieldSet = { codecs: { ...ttsDefaults, retry: RetryConfig } };

/** Connection parameters as a caller writes them: `speaker` required, everything else defaulted. */
export type RimeOptionsInput = Partial<RimeOptions> & { readonly speaker: string };

export interface RimeTtsConfig extends RimeOptionsInput {
  /** Each emission: send what the client holds, then `<FLUSH>`. */
  readonly flush?: ObservableInput<unknown>;
  /** Each emission interrupts: unsent text is dropped and no audio of earlier text is emitted afterwards. */
  readonly clear?: ObservableInput<unknown>;
  /**
   * `true` while downstream cannot take more audio, `false` when it can again: the socket is not read meanwhile, so
   * the audio waits in the network instead of in memory. The library's sinks (`writeAudio`, `writeAudioFile`,
   * `toNodeReadable`, `toReadableStream`) report it when given the same `Subject<boolean>` as `backpressure`.
   */
  readonly backpressure?: ObservableInput<boolean>;
  /** Retries inside the operator (the text source cannot be replayed): a count or `{ count, delay, resetOnSuccess }`. */
  readonly retry?: RetryConfig;
  /**
   * Receives `open`, `first-audio`, `retry` and `close` events, each after what it reports was emitted. A `next`
   * that throws errors the stream, as a throwing `tap` would.
   */
  readonly events?: RimeEventObserver;
  /** The socket seam (default: `ws`); `rime-rx/testing` has a fake one for marble tests. */
  readonly transport?: Transport;
  /** Longest wait for the websocket upgrade (default 10 s). */
  readonly handshakeTimeoutMs?: number;
  /** Longest wait, after `<EOS>` or the latest audio after it, for the server to close (default 15 s). */
  readonly eosTimeoutMs?: number;
  /**
   * Longest wait for audio after text was sent, while none has come since (default 5 s: Rime's own first audio is
   * under 100 ms at the median). A connection that takes text and sends nothing back fails with a `timeout`, retried.
   */
  readonly audioTimeoutMs?: number;
  /**
   * Open the connection the next turn goes on ahead of time, so it pays no handshake (default true): at a flush
   * that ends a turn, and with `clear` configured, while a turn is spoken (an interruption continues on it). Without
   * `clear` and flushes there is never a second connection.
   */
  readonly prewarm?: boolean;
  /**
   * The most text one connection is given, and so the most a retry says again (default 2000, at least 1000): past
   * it, the connection is ended with `<EOS>` and the speech goes on on the next one.
   */
  readonly maxReplayCharacters?: number;
  /** Milliseconds without a token after which a finished sentence is sent anyway (default 150; see `sentences()`). */
  readonly releaseAfterMs?: number;
}

interface TtsSettings {
  readonly options: RimeOptions;
  /** The websocket URL, built once. */
  readonly url: URL;
  readonly apiKey: string;
  readonly retry: RetryPolicy;
  readonly handshakeTimeoutMs: number;
  readonly eosTimeoutMs: number;
  readonly audioTimeoutMs: number;
  /** Whether the next connection is opened ahead of time. */
  readonly prewarm: boolean;
  /** Whether a spare connection is kept for interruptions: `prewarm` with `clear` configured. */
  readonly spare: boolean;
  readonly maxReplayCharacters: number;
  /** The caller chose no `segment` mode: the server is asked to synthesize exactly each segment sent. */
  readonly flushEachSegment: boolean;
  readonly releaseAfterMs: number;
  readonly transport: Transport;
  readonly events: RimeEventObserver | undefined;
}

const MISSING_KEY =
  'no API key: pass rimeTts({ apiKey }) or set RIME_API_KEY (to work offline, run `npx rime-rx serve` and pass its url, or set RIME_URL to it, with any key)';

/** Decodes the config; every problem at once, never echoing the key. */
function decodeSettings(config: RimeTtsConfig): E.Either<RimeError, TtsSettings> {
  if (!isRecord(config)) return E.left(RimeError.invalidOptions(['rimeTts needs a config object, like rimeTts({ speaker: "cove" })']));
  const { flush: _flush, clear, backpressure: _backpressure, events, transport, ...plain } = config;
  const environmentKey = process.env['RIME_API_KEY']?.trim();
  const apiKey = plain.apiKey ?? (environmentKey === '' ? undefined : environmentKey);
  // RIME_URL points code that names no endpoint elsewhere: a local server, another region.
  const environmentUrl = process.env['RIME_URL']?.trim();
  const url = plain.url ?? (environmentUrl === '' ? undefined : environmentUrl);
  const decoded = decodePlainSettings({ ...plain, ...(url === undefined ? {} : { url }) }, apiKey);
  const issues = [
    ...(E.isLeft(decoded) ? (decoded.left.issues ?? [decoded.left.message]) : []),
    ...(transport !== undefined && typeof transport !== 'function' ? ['transport must be a function (request) => Observable'] : []),
    ...(events !== undefined && !isEventObserver(events) ? ['events must be an observer: an object whose next, if any, is a function'] : []),
  ];
  if (issues.length > 0 || E.isLeft(decoded) || apiKey === undefined) return E.left(RimeError.invalidOptions(issues));
  const settings = decoded.right;
  return E.right({ ...settings, apiKey, spare: settings.prewarm && clear !== undefined, transport: transport ?? wsTransport, events });
}

/** The config's plain data (connection and operator options), as written. */
type PlainConfig = Omit<RimeTtsConfig, 'flush' | 'clear' | 'backpressure' | 'events' | 'transport'>;

/** What the plain data decodes to, the key aside. */
type PlainSettings = Omit<TtsSettings, 'apiKey' | 'spare' | 'transport' | 'events'>;

function decodePlainSettings(plain: PlainConfig, apiKey: string | undefined): E.Either<RimeError, PlainSettings> {
  const { retry, handshakeTimeoutMs, eosTimeoutMs, audioTimeoutMs, prewarm, releaseAfterMs, maxReplayCharacters, ...connection } = plain;
  // Rime advises `segment=never` with explicit flushes for agents: the server then synthesizes exactly the segments
  // cut here, whatever its own sentence heuristics (which would split `Dr. Jones`, or wait for the next whitespace).
  const flushEachSegment = connection.segment === undefined;
  const options = decodeRimeOptions({
    ...connection,
    segment: connection.segment ?? 'never',
    ...(apiKey === undefined ? {} : { apiKey }),
  });
  const ttsInput = { retry, handshakeTimeoutMs, eosTimeoutMs, audioTimeoutMs, prewarm, releaseAfterMs, maxReplayCharacters };
  const tts = TtsOptions.decode(ttsInput);
  const issues = [
    ...(E.isLeft(options) ? (options.left.issues ?? [options.left.message]) : []),
    ...(E.isLeft(tts) ? fieldIssues(tts.left, ttsFields, ttsInput) : []),
    ...(apiKey === undefined ? [MISSING_KEY] : []),
  ];
  if (issues.length > 0 || E.isLeft(options) || E.isLeft(tts)) return E.left(RimeError.invalidOptions(issues));
  const { apiKey: _apiKey, ...withoutKey } = options.right;
  return E.right({
    options: withoutKey,
    url: rimeUrl(withoutKey),
    retry: retryPolicy(tts.right.retry),
    handshakeTimeoutMs: tts.right.handshakeTimeoutMs,
    eosTimeoutMs: tts.right.eosTimeoutMs,
    audioTimeoutMs: tts.right.audioTimeoutMs,
    prewarm: tts.right.prewarm,
    flushEachSegment,
    releaseAfterMs: tts.right.releaseAfterMs,
    maxReplayCharacters: tts.right.maxReplayCharacters,
  });
}

function isEventObserver(u: unknown): u is RimeEventObserver {
  return isRecord(u) && (u['next'] === undefined || typeof u['next'] === 'function');
}

/**
 * One websocket connection's share of the work: the frames it was given (to replay if it fails) and its state. A
 * link queued behind the current one opens ahead of time but sends nothing until it becomes current.
 */
class Link {
  /** Every frame given to this connection, sent or waiting, in order. */
  readonly frames: string[] = [];
  private sentCount = 0;
  private send: ((frame: string) => void) | undefined;
  private flow: { readonly pause?: () => void; readonly resume?: () => void } = {};
  private reading = true;
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
    if (reading === this.reading) return;
    this.reading = reading;
    if (this.send === undefined) return;
    if (reading) this.flow.resume?.();
    else this.flow.pause?.();
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

function isCommand(frame: string): boolean {
  return frame === PLAIN_COMMANDS.eos || frame === PLAIN_COMMANDS.flush || frame === PLAIN_COMMANDS.clear;
}

/**
 * A turn: the text from the start, a flush or an interruption to the next one. Its first audio is timed from when
 * its first text went out on a connection.
 */
interface Turn {
  readonly index: number;
  /** The connection its first text was given to (or the one replaying it): its first audio comes on it. */
  link: Link | undefined;
  /** When its first text was sent; undefined while it waits for a connection to open. */
  textSentAt: number | undefined;
  /** Whether its first audio has been reported. */
  heard: boolean;
}

/**
 * One subscription's speech: feeds commands to the current connection, emits its audio, replaces it on a failure
 * (replaying what it was given), at the end of a turn (the next one, opened ahead, takes over once the server has
 * closed the current one after its last audio) or on an interruption (switching to the one opened ahead).
 */
class Speech {
  private current: Link;
  /**
   * The connections after the current one, in order: each ended with `<EOS>` but the last, and holding its frames
   * until it becomes current, so no connection ever carries two turns. The first is opened ahead of time (with
   * `prewarm`); an empty last one is the spare an interruption continues on.
   */
  private readonly ahead: Link[] = [];
  /**
   * Whether a spare may be opened now: once per turn. A spare the server closed (idle; Rime: after about 30 s) or
   * refused is opened again for the next turn, not at once, so an idle-closing server does not cost a connection per
   * idle period.
   */
  private spareWanted = true;
  /** The latest turn; `turnOpen` while more of its text may come (until a flush or an interruption). */
  private turn: Turn | undefined;
  private turnOpen = false;
  private turns = 0;
  /** The source completed: `<EOS>` was given; nothing more will be said. */
  private endOfStream = false;
  private failures = 0;
  /**
   * The most audio a failed connection delivered for the frames the current one replays. A retry speaks them from
   * the start, so audio arriving is progress only past this point: the same fault after the same bytes is a failure
   * again, not a success that resets the count.
   */
  private audioToBeat = 0;
  private readonly chunker: AudioChunker;
  /** The backoff before a retry, while one is pending. */
  private retryWait: Subscription | undefined;
  /** Whether the sockets are read (downstream takes audio), and since when. */
  private reading = true;
  private readingSince = 0;
  private readonly closeDeadline: Deadline;
  private readonly audioDeadline: Deadline;
  /** Made once, not per frame: the audio path runs thousands of times a second. */
  private readonly emitAudio = (chunk: AudioChunk): void => this.subscriber.next(chunk);

  constructor(
    private readonly subscriber: Subscriber<AudioChunk>,
    private readonly settings: TtsSettings,
  ) {
    this.chunker = new AudioChunker(settings.options.audioFormat, settings.options.samplingRate);
    this.current = this.newLink([], false);
    const { eosTimeoutMs, audioTimeoutMs } = settings;
    // Nothing is awaited while a retry is pending or the socket is not read (the server's audio waits for us then).
    const waitedSince = (since: number | undefined) =>
      since === undefined || !this.reading || this.retryWait !== undefined ? undefined : Math.max(since, this.readingSince);
    this.closeDeadline = new Deadline(
      eosTimeoutMs,
      () => waitedSince(this.current.quietSince),
      () => this.fail(new RimeError('timeout', `Rime did not close the connection within ${eosTimeoutMs} ms after <EOS>`)),
    );
    this.audioDeadline = new Deadline(
      audioTimeoutMs,
      () => waitedSince(this.current.owedSince),
      () => this.fail(new RimeError('timeout', `no audio from Rime within ${audioTimeoutMs} ms of the text sent`)),
    );
  }

  private newLink(frames: readonly string[], queued: boolean): Link {
    const link = new Link(this.settings.options.segment === 'immediate', frames, queued);
    link.read(this.reading);
    return link;
  }

  /**
   * Stops reading the sockets while downstream cannot take more audio (`reading` false), and reads again when it
   * can: the server's audio then waits in the network, not in memory. The audio and `<EOS>` deadlines do not run
   * meanwhile, and start again when reading does.
   */
  read(reading: boolean): void {
    if (reading === this.reading) return;
    this.reading = reading;
    if (reading) this.readingSince = asyncScheduler.now();
    [this.current, ...this.ahead].forEach((link) => link.read(reading));
    if (reading) this.watchDeadlines();
  }

  start(): void {
    this.connect(this.current);
  }

  handle(command: TtsCommand): void {
    switch (command.kind) {
      case 'segment':
        return this.speak(command.text);
      case 'flush':
        this.turnOpen = false;
        if (this.receiving().hasText) this.endConnection();
        return;
      case 'clear':
        return this.interrupt();
      case 'eos':
        return this.end();
    }
  }

  /** The connection new frames go to: the first that has not been ended. */
  private receiving(): Link {
    if (!this.current.ended) return this.current;
    const open = this.ahead.find((link) => !link.ended);
    if (open !== undefined) return open;
    const next = this.newLink([], true);
    this.ahead.push(next);
    if (this.ahead.length === 1 && this.settings.prewarm) this.connect(next);
    return next;
  }

  /**
   * Sends a segment so that the server synthesizes exactly it: by default `<FLUSH>` after every segment (the
   * connection is `segment=never`). With a `segment` mode of the caller's, a `<FLUSH>` first when the server's buffer
   * would otherwise pass Rime's text limit, and in `bySentence` one after a segment that Rime's own buffering would
   * not end (a sentence closed by a quote or bracket, a long text cut at whitespace). A segment that would take the
   * connection past `maxReplayCharacters` goes to the next one, so a retry never says more again.
   */
  private speak(text: string): void {
    if (!this.turnOpen || this.turn === undefined) {
      this.turn = { index: this.turns++, link: undefined, textSentAt: undefined, heard: false };
      this.turnOpen = true;
      this.spareWanted = true;
    }
    let link = this.receiving();
    if (link.hasText && link.textCharacters + text.length > this.settings.maxReplayCharacters) {
      this.endConnection();
      link = this.receiving();
    }
    if (link.heldCharacters > 0 && link.heldCharacters + text.length > RIME_TEXT_LIMIT) this.give(PLAIN_COMMANDS.flush);
    this.turn.link ??= link;
    this.give(text);
    this.noteTextSent();
    const { flushEachSegment, options } = this.settings;
    if (flushEachSegment || (options.segment === 'bySentence' && !RIME_BUFFER_BOUNDARIES.includes(text.charAt(text.length - 1)))) {
      this.give(PLAIN_COMMANDS.flush);
    }
  }

  /**
   * Ends the receiving connection with `<EOS>` (Rime synthesizes what it holds, sends it, and closes): a retry of it
   * can only say its own text again. What comes next goes to the connection after it.
   */
  private endConnection(): void {
    this.give(PLAIN_COMMANDS.eos);
    this.receiving();
  }

  /** The source completed: `<EOS>` where text waits for it; done at once if no connection owes anything. */
  private end(): void {
    this.endOfStream = true;
    const link = this.current.ended ? this.ahead.find((next) => !next.ended) : this.current;
    if (link?.hasText === true) return this.give(PLAIN_COMMANDS.eos);
    if (link !== this.current) {
      // Connections still speaking end the speech; an empty one after them is not needed.
      if (link !== undefined) this.ahead.splice(this.ahead.indexOf(link), 1);
      return link?.dispose(false);
    }
    // Nothing is owed (all was spoken on connections that have closed): no connection just for `<EOS>`.
    this.disposeLinks();
    this.subscriber.complete();
  }

  private give(frame: string): void {
    const link = this.receiving();
    link.push(frame);
    if (link === this.current && !link.connecting && this.retryWait === undefined) this.connect(link);
    this.watchDeadlines();
  }

  private watchDeadlines(): void {
    this.audioDeadline.watch();
    this.closeDeadline.watch();
  }

  /** The current turn's first text went out now, if it had not before: its first audio is timed from here. */
  private noteTextSent(): void {
    const { turn, current } = this;
    if (turn !== undefined && turn.textSentAt === undefined && turn.link === current && current.spoke) turn.textSentAt = asyncScheduler.now();
  }

  /** `to` carries on with `from`'s frames: the turn that started on `from` goes on on it. */
  private relink(from: Link, to: Link): void {
    if (this.turn?.link === from) this.turn.link = to;
  }

  private connect(link: Link): void {
    if (this.subscriber.closed) return;
    link.connect(
      this.settings,
      (event) => this.onEvent(link, event),
      (error) => this.onError(link, error),
    );
  }

  private onEvent(link: Link, event: TransportEvent): void {
    if (event.type === 'open') {
      link.opened(event);
      if (link !== this.current) return;
      this.noteTextSent();
      this.watchDeadlines();
      return this.report({ type: 'open', attempt: this.failures });
    }
    if (event.type === 'close') return this.onClose(link, event.code, event.reason);
    if (link !== this.current) return;
    link.answered(event.bytes.length);
    if (this.settings.retry.resetOnSuccess && link.audioBytes > this.audioToBeat) this.failures = 0;
    this.chunker.push(event.bytes, this.emitAudio);
    // The subscriber may have interrupted or unsubscribed from inside `next`: this audio is then the old turn's.
    if (link !== this.current || this.subscriber.closed) return;
    this.prewarm();
    const { turn } = this;
    if (turn !== undefined && turn.link === link && turn.textSentAt !== undefined && !turn.heard) {
      turn.heard = true;
      this.report({ type: 'first-audio', turn: turn.index, milliseconds: asyncScheduler.now() - turn.textSentAt });
    }
  }

  /**
   * Opens the spare connection an interruption will continue on, once the current one is speaking: not earlier, so
   * its handshake never competes with the first audio.
   */
  private prewarm(): void {
    if (!this.settings.spare || !this.spareWanted || this.endOfStream || this.ahead.length > 0) return;
    const spare = this.newLink([], true);
    this.ahead.push(spare);
    this.connect(spare);
  }

  /**
   * The server closed a connection. A clean close (1000) is taken as the server's word that what it was sent before
   * its latest audio has been spoken (Rime closes cleanly after `<EOS>` once everything is sent, and closes idle
   * connections): after `<EOS>` the connection is done, and the next one goes on (or the speech ends), before it the
   * connection was idle. Text sent after the latest audio may have raced the close: if audio was owed for it, it was
   * lost, and it alone is retried (a failure); if the server was only holding it (waiting for a flush), it moves to
   * the next connection.
   */
  private onClose(link: Link, code: number, reason: string): void {
    this.report({ type: 'close', code, reason });
    if (this.subscriber.closed) return;
    if (link !== this.current) return this.lostAhead(link);
    const unanswered = link.unansweredFrom;
    if (code === 1000 && unanswered === undefined) {
      if (!link.endOfStreamSent) this.spareWanted = false; // closed idle
      this.closeDeadline.cancel();
      if (link.endOfStreamSent && this.endOfStream && !this.ahead.some((next) => next.hasText)) return this.subscriber.complete();
      return this.advance();
    }
    if (code === 1000 && link.owedSince === undefined && unanswered !== undefined) {
      // Text the server was only holding (a `segment` mode of the caller's, waiting for a flush) when it closed idle:
      // nothing failed. It goes to the next connection, opened when more comes (a flush, text, the end).
      this.spareWanted = false;
      const carried = this.newLink(link.frames.slice(unanswered), false);
      this.relink(link, carried);
      return this.replaceCurrent(carried);
    }
    this.fail(closedEarly(code, reason), code === 1000 ? unanswered : 0);
  }

  private onError(link: Link, error: unknown): void {
    if (link !== this.current) return this.lostAhead(link);
    this.fail(error instanceof RimeError ? error : new RimeError('connection', `the transport failed: ${String(error)}`));
  }

  /**
   * A connection opened ahead closed or failed before its turn (idle, refused): it never sent anything, so what it
   * holds waits on a fresh one, opened when it becomes current; an empty spare is opened again for the next turn.
   */
  private lostAhead(link: Link): void {
    const at = this.ahead.indexOf(link);
    if (at === -1) return;
    this.spareWanted = false;
    if (link.frames.length === 0) return void this.ahead.splice(at, 1);
    const fresh = this.newLink(link.frames, true);
    this.relink(link, fresh);
    this.ahead[at] = fresh;
  }

  /** Goes on with the connection after the current one (or a new one when more comes), which sends what it holds. */
  private advance(): void {
    this.replaceCurrent(this.ahead.shift() ?? this.newLink([], false));
    if (this.current.frames.length > 0 && !this.current.connecting) this.connect(this.current);
    const next = this.ahead[0];
    if (next !== undefined && !next.connecting && this.settings.prewarm) this.connect(next);
  }

  /**
   * Retries a failed connection after the backoff, on a fresh one given its frames from `replayFrom` on (all of them
   * unless the server closed cleanly); or gives up.
   */
  private fail(error: RimeError, replayFrom = 0): void {
    const { retry } = this.settings;
    if (this.retryWait !== undefined) return; // a retry is already on its way and will replay everything
    this.closeDeadline.cancel(); // the deadlines start again with the next connection
    this.audioDeadline.cancel();
    if (!error.retryable || this.failures >= retry.count) return this.subscriber.error(error);
    this.failures++;
    const failed = this.current;
    failed.dispose(false);
    this.chunker.reset();
    this.audioToBeat = replayFrom === 0 ? Math.max(this.audioToBeat, failed.audioBytes) : 0;
    this.current = this.newLink(failed.frames.slice(replayFrom), false);
    this.relink(failed, this.current);
    const replayedSegments = this.current.frames.filter((frame) => !isCommand(frame)).length;
    const replayedCharacters = this.current.textCharacters;
    this.report({ type: 'retry', attempt: this.failures, error, replayedSegments, replayedCharacters });
    if (this.subscriber.closed) return; // the events observer unsubscribed or threw
    let waited = false;
    this.retryWait = defer(() => retry.delay(error, this.failures))
      .pipe(take(1))
      .subscribe({
        next: () => {
          waited = true;
          this.retryWait = undefined;
          this.connect(this.current);
        },
        // A delay that completes without emitting means: stop retrying.
        complete: () => {
          if (!waited) this.subscriber.error(error);
        },
        error: (delayError: unknown) => this.subscriber.error(delayError),
      });
  }

  /**
   * An interruption: the current connection is told `<CLEAR>` and closed at once, so none of its audio can be emitted
   * afterwards; speech continues on the one opened ahead (or a new connection). Text queued for later connections
   * was given before the interruption: it is dropped too.
   */
  private interrupt(): void {
    this.turn = undefined; // none of its audio will come
    this.turnOpen = false;
    if (this.endOfStream) {
      // Everything was said: an interruption now only silences what is still arriving.
      this.current.dispose(true);
      this.disposeLinks();
      this.closeDeadline.cancel();
      return this.subscriber.complete();
    }
    this.ahead.splice(1).forEach((link) => link.dispose(false));
    this.ahead[0]?.dropUnsent();
    if (!this.current.spoke) {
      // Nothing went out yet: dropping what waits to be sent is the whole interruption, and the connection stays.
      return this.current.dropUnsent();
    }
    this.current.dispose(true);
    this.retryWait?.unsubscribe();
    this.retryWait = undefined;
    this.advance();
    if (!this.current.connecting) this.connect(this.current);
  }

  /** Goes on with `link`, which carries none of the current connection's frames: no audio to beat on it. */
  private replaceCurrent(link: Link): void {
    this.current = link;
    this.audioToBeat = 0;
    this.chunker.reset(); // a byte carried from the old connection belongs to none of the new one's samples
    link.release();
    this.noteTextSent();
    this.watchDeadlines();
  }

  /** Tells the events observer; one that throws ends the stream with its error, as a throwing `tap` would. */
  private report(event: RimeEvent): void {
    const { events } = this.settings;
    if (events?.next === undefined || this.subscriber.closed) return;
    try {
      events.next(event);
    } catch (error: unknown) {
      this.subscriber.error(error);
    }
  }

  /** An interruption from the `clear` control: while text flows it goes through the segmenter first. */
  clearAfterEnd(): boolean {
    if (!this.endOfStream) return false;
    this.interrupt();
    return true;
  }

  private disposeLinks(): void {
    this.current.dispose(false);
    this.ahead.splice(0).forEach((link) => link.dispose(false));
  }

  dispose(): void {
    this.closeDeadline.cancel();
    this.audioDeadline.cancel();
    this.retryWait?.unsubscribe();
    this.disposeLinks();
  }
}

/**
 * Speaks a text stream through Rime's websocket API: text in (LLM tokens, a transcript), audio bytes out, in the
 * connection's `audioFormat` (pcm chunks always hold whole 16-bit samples).
 *
 * ```
 * text:   --a--b------|            a = 'Hello there.'   b = ' How are you?'
 * audio:  -----x-x-x--y-y-y-|      (audio of a, then of b; completes when Rime closes after <EOS>)
 * ```
 *
 * Cold: each subscription opens its own connection; text is segmented as `sentences()` does and made safe as
 * `safeText()` does, then sent segment by segment (queued until the socket opens). `flush` sends what is held and
 * `<FLUSH>`; `clear` interrupts (no audio of earlier text is emitted after it); completion sends `<EOS>` and
 * completes when Rime closes. Failures are retried inside the operator, replaying the connection's text (a
 * downstream `retry()` would resubscribe the text source, which an LLM stream cannot replay).
 *
 * @example
 * llmTokens$.pipe(rimeTts({ speaker: 'cove', audioFormat: 'pcm', clear: userStartedSpeaking$ }))
 *   .subscribe(chunk => speaker.write(chunk));
 */
export function rimeTts(config: RimeTtsConfig): OperatorFunction<string, AudioChunk> {
  // Decoded once per operator; again only if RIME_API_KEY or RIME_URL changed since (read when a subscription starts).
  let decoded: { readonly environment: string; readonly settings: E.Either<RimeError, TtsSettings> } | undefined;
  const settingsNow = () => {
    const environment = JSON.stringify([process.env['RIME_API_KEY'], process.env['RIME_URL']]);
    if (decoded === undefined || decoded.environment !== environment) decoded = { environment, settings: decodeSettings(config) };
    return decoded.settings;
  };
  return (source) =>
    defer(() => {
      const settings = settingsNow();
      if (E.isLeft(settings)) return throwError(() => settings.left);
      const { flush, clear, backpressure } = config;
      const { pauseBetweenBrackets } = settings.right.options;
      return new Observable<AudioChunk>((subscriber) => {
        const speech = new Speech(subscriber, settings.right);
        const subscriptions = new Subscription(() => speech.dispose());
        // `clear` is listened to for the operator's whole life, not only while text flows: a barge-in usually comes
        // after the LLM finished writing, while the speech is still arriving.
        const clears = new Subject<void>();
        if (clear !== undefined) {
          subscriptions.add(
            from(clear).subscribe({
              next: () => {
                if (!speech.clearAfterEnd()) clears.next();
              },
              error: (error: unknown) => subscriber.error(error),
            }),
          );
        }
        if (backpressure !== undefined) {
          subscriptions.add(
            from(backpressure).subscribe({
              next: (full) => {
                if (typeof full === 'boolean') return speech.read(!full);
                subscriber.error(RimeError.invalidOptions([`backpressure must emit booleans (true: downstream is full), got ${showValue(full)}`]));
              },
              error: (error: unknown) => subscriber.error(error),
            }),
          );
        }
        speech.start();
        subscriptions.add(
          source.pipe(ttsCommands({ flush, clear: clears, pauseBetweenBrackets, releaseAfterMs: settings.right.releaseAfterMs })).subscribe({
            next: (command) => speech.handle(command),
            error: (error: unknown) => subscriber.error(error),
          }),
        );
        return subscriptions;
      });
    });
}
