import { type Subscriber, asyncScheduler } from 'rxjs';
import type { AudioChunk } from '../audio/chunk';
import { RimeError } from '../errors';
import { type ClientMessage, EOS, FLUSH } from '../protocol/messages';
import { RIME_TEXT_LIMIT, closedEarly, isBufferBoundary } from '../protocol/rules';
import type { TransportEvent } from '../transport/transport';
import { AudioChunker } from './audio';
import type { TtsSettings } from './config';
import { type RimeEvent, report } from './events';
import { Link, type Turn } from './link';
import { Retries } from './retry';
import { Watchdog } from './watchdog';

/**
 * One subscription's speech: feeds the text side's messages to the current connection, emits its audio, replaces
 * it on a failure (replaying what the protocol says to), at the end of a turn (the next one, opened ahead, takes
 * over once the server has closed the current one after its last audio) or on an interruption.
 */
export class Speech {
  private current: Link;
  /**
   * The connections after the current one, in order: each ended with `eos` but the last, and holding its messages
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
  /** The source completed: `eos` was given; nothing more will be said. */
  private endOfStream = false;
  private readonly retries: Retries;
  private readonly chunker: AudioChunker;
  /** Whether the sockets are read (downstream takes audio), and since when. */
  private reading = true;
  private readingSince = 0;
  /** Since when the current connection is current: nothing is awaited from it before. */
  private currentSince = 0;
  private readonly watchdog: Watchdog;
  /** Made once, not per frame: the audio path runs thousands of times a second. */
  private readonly emitAudio = (chunk: AudioChunk): void => this.subscriber.next(chunk);

  constructor(
    private readonly subscriber: Subscriber<AudioChunk>,
    private readonly settings: TtsSettings,
  ) {
    this.chunker = new AudioChunker(settings.options.audioFormat, settings.options.samplingRate);
    this.retries = new Retries(settings.retry);
    this.current = this.newLink([], false);
    // Nothing is awaited while a retry is pending or the socket is not read (the server's audio waits for us then).
    const waitedSince = (since: number | undefined) =>
      since === undefined || !this.reading || this.retries.waiting ? undefined : Math.max(since, this.readingSince, this.currentSince);
    this.watchdog = new Watchdog(settings, () => this.current, waitedSince, (error) => this.fail(error));
  }

  private newLink(messages: readonly ClientMessage[], queued: boolean): Link {
    const link = new Link(this.settings.protocol.wire, this.settings.options.segment === 'immediate', messages, queued);
    link.read(this.reading);
    return link;
  }

  /**
   * Stops reading the sockets while downstream cannot take more audio (`reading` false), and reads again when it
   * can: the server's audio then waits in the network, not in memory. The deadlines do not run meanwhile, and start
   * again when reading does.
   */
  read(reading: boolean): void {
    if (reading === this.reading) return;
    this.reading = reading;
    if (reading) this.readingSince = asyncScheduler.now();
    [this.current, ...this.ahead].forEach((link) => link.read(reading));
    if (reading) this.watchdog.watch();
  }

  start(): void {
    this.connect(this.current);
  }

  /** What the text side asks: a segment, the end of a turn (`flush`), an interruption (`clear`), the end (`eos`). */
  handle(message: ClientMessage): void {
    switch (message.type) {
      case 'text':
        return this.speak(message);
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

  /** The connection new messages go to: the first that has not been ended. */
  private receiving(): Link {
    if (!this.current.ended) return this.current;
    // Every connection ahead but the last has been ended: only the last can take more (constant time, however many
    // wait behind a server that is slow to finish).
    const last = this.ahead[this.ahead.length - 1];
    if (last !== undefined && !last.ended) return last;
    const next = this.newLink([], true);
    this.ahead.push(next);
    if (this.ahead.length === 1 && this.settings.prewarm && !this.retries.waiting) this.connect(next);
    return next;
  }

  /**
   * Sends a segment so that the server synthesizes exactly it: by default a flush after every segment (the
   * connection is `segment=never`). With a `segment` mode of the caller's, a flush first when the server's buffer
   * would otherwise pass Rime's text limit, and in `bySentence` one after a segment that Rime's own buffering would
   * not end (a sentence closed by a quote or bracket, a long text cut at whitespace). A segment that would take the
   * connection past `maxReplayCharacters` goes to the next one, so a retry never says more again.
   */
  private speak(segment: Extract<ClientMessage, { type: 'text' }>): void {
    const { text } = segment;
    if (!this.turnOpen || this.turn === undefined) {
      this.turn = { index: this.turns++, textSentAt: undefined, heard: false };
      this.turnOpen = true;
      this.spareWanted = true;
    }
    let link = this.receiving();
    if (link.hasText && link.textCharacters + text.length > this.settings.maxReplayCharacters) {
      this.endConnection();
      link = this.receiving();
    }
    if (link.heldCharacters > 0 && link.heldCharacters + text.length > RIME_TEXT_LIMIT) this.give(FLUSH);
    link.turn ??= this.turn;
    this.give(segment);
    this.noteTextSent();
    const { flushEachSegment, options } = this.settings;
    if (flushEachSegment || (options.segment === 'bySentence' && !isBufferBoundary(text.charAt(text.length - 1)))) this.give(FLUSH);
  }

  /**
   * Ends the receiving connection with `eos` (Rime synthesizes what it holds, sends it, and closes): a retry of it
   * can only say its own text again. What comes next goes to the connection after it.
   */
  private endConnection(): void {
    this.give(EOS);
    this.receiving();
    this.sendAhead();
  }

  /** The source completed: `eos` where text waits for it; done at once if no connection owes anything. */
  private end(): void {
    this.endOfStream = true;
    const last = this.ahead[this.ahead.length - 1];
    const link = !this.current.ended ? this.current : last !== undefined && !last.ended ? last : undefined;
    if (link?.hasText === true) return this.give(EOS);
    if (link !== this.current) {
      // Connections still speaking end the speech; an empty one after them is not needed.
      if (link !== undefined) this.ahead.splice(this.ahead.indexOf(link), 1);
      return link?.dispose();
    }
    // Nothing is owed (all was spoken on connections that have closed): no connection just for `eos`.
    this.disposeLinks();
    this.subscriber.complete();
  }

  private give(message: ClientMessage): void {
    const link = this.receiving();
    link.push(message);
    if ((link === this.current || link.released) && !link.connecting && !this.retries.waiting) this.connect(link);
    this.watchdog.watch();
    this.announce();
    if (link === this.current) this.sendAhead();
    else this.noteTextSent(link);
  }

  /** `link`'s turn had its first text sent now, if not before: its first audio is timed from here. */
  private noteTextSent(link: Link = this.current): void {
    const { turn, spoke } = link;
    if (turn !== undefined && turn.textSentAt === undefined && spoke) turn.textSentAt = asyncScheduler.now();
  }

  /**
   * Once the current connection has sent `eos`, the next one sends what it holds (and what comes), so Rime
   * synthesizes it while the current one finishes: no connection waits for another's close. Its audio is kept until
   * it is current (see `onEvent`), so the order of the speech is the order of the text.
   */
  private sendAhead(): void {
    const next = this.ahead[0];
    if (next === undefined || next.released || !this.current.endOfStreamSent || this.retries.waiting) return;
    next.release();
    if (!next.connecting && (this.settings.prewarm || next.hasText)) this.connect(next);
    this.noteTextSent(next);
  }

  /** A fresh connection in place of `from`, given `messages` of its log, and so its turn. */
  private successor(from: Link, messages: readonly ClientMessage[], queued: boolean): Link {
    const link = this.newLink(messages, queued);
    link.turn = from.turn;
    return link;
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
      this.noteTextSent(link);
      if (link !== this.current) return;
      this.watchdog.watch();
      this.announce();
      return this.sendAhead();
    }
    if (event.type === 'close') return this.onClose(link, event.code, event.reason);
    const decoded = this.settings.protocol.wire.decodeServer(event.frame);
    if (decoded._tag === 'Left') return link === this.current ? this.fail(decoded.left) : this.lostAhead(link);
    const message = decoded.right;
    if (message === undefined) return;
    if (link === this.current) return this.onAudio(link, message.bytes);
    // The next connection speaks while this one finishes: its audio waits, bounded, until it is current.
    if (link === this.ahead[0]) link.keepEarly(message.bytes);
  }

  private onAudio(link: Link, bytes: Uint8Array): void {
    link.answered(bytes.length);
    this.retries.progress(link.audioBytes);
    this.chunker.push(bytes, this.emitAudio);
    // The subscriber may have interrupted or unsubscribed from inside `next`: this audio is then the old turn's.
    if (link !== this.current || this.subscriber.closed) return;
    this.prewarm();
    const { turn } = link;
    if (turn !== undefined && turn.textSentAt !== undefined && !turn.heard) {
      turn.heard = true;
      this.report({ type: 'first-audio', turn: turn.index, milliseconds: asyncScheduler.now() - turn.textSentAt });
    }
  }

  /**
   * Opens the spare connection an interruption will continue on, once the current one is speaking: not earlier, so
   * its handshake never competes with the first audio.
   */
  private prewarm(): void {
    if (!this.settings.spare || !this.spareWanted || this.endOfStream || this.ahead.length > 0 || this.retries.waiting) return;
    const spare = this.newLink([], true);
    this.ahead.push(spare);
    this.connect(spare);
  }

  /**
   * The server closed a connection. A clean close (1000) is taken as the server's word that what it was sent before
   * its latest audio has been spoken (Rime closes cleanly after `eos` once everything is sent, and closes idle
   * connections): after `eos` the connection is done, and the next one goes on (or the speech ends), before it the
   * connection was idle. Text sent after the latest audio may have raced the close: if audio was owed for it, it was
   * lost, and it alone is retried (a failure); if the server was only holding it (waiting for a flush), it moves to
   * the next connection.
   */
  private onClose(link: Link, code: number, reason: string): void {
    this.report({ type: 'close', code, reason });
    if (this.subscriber.closed) return;
    if (link === this.current) return this.settleClose(link, code, reason);
    if (link === this.ahead[0] && code === 1000 && link.endOfStreamSent && link.unansweredFrom === undefined) {
      // The next connection finished before this one: its audio and its close are taken in turn.
      link.earlyClose = { code, reason };
      return;
    }
    this.lostAhead(link);
  }

  /** What the close of the current connection means: done, idle, or a failure. */
  private settleClose(link: Link, code: number, reason: string): void {
    const unanswered = link.unansweredFrom;
    if (code === 1000 && unanswered === undefined) {
      if (!link.endOfStreamSent) this.spareWanted = false; // closed idle
      this.watchdog.closed();
      if (link.endOfStreamSent && this.endOfStream && !this.ahead.some((next) => next.hasText)) return this.subscriber.complete();
      return this.advance();
    }
    if (code === 1000 && link.owedSince === undefined && unanswered !== undefined) {
      // Text the server was only holding (a `segment` mode of the caller's, waiting for a flush) when it closed idle:
      // nothing failed. It goes to the next connection, opened when more comes (a flush, text, the end).
      this.spareWanted = false;
      return this.replaceCurrent(this.successor(link, this.settings.protocol.replay(link.messages, unanswered), false));
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
    link.dispose();
    if (link.messages.length === 0) return void this.ahead.splice(at, 1);
    this.ahead[at] = this.successor(link, link.messages, true);
  }

  /** Goes on with the connection after the current one (or a new one when more comes), which sends what it holds. */
  private advance(): void {
    this.replaceCurrent(this.ahead.shift() ?? this.newLink([], false));
    if (this.current.messages.length > 0 && !this.current.connecting) this.connect(this.current);
    this.connectAhead();
  }

  /** Opens the connection after the current one ahead of time, if there is one and `prewarm` asks for it. */
  private connectAhead(): void {
    const next = this.ahead[0];
    if (next !== undefined && !next.connecting && this.settings.prewarm) this.connect(next);
  }

  /**
   * Retries a failed connection after the backoff, on a fresh one given what the protocol replays of its log from
   * `unansweredFrom` (0, all of it, unless the server closed cleanly); or gives up.
   */
  private fail(error: RimeError, unansweredFrom = 0): void {
    if (this.retries.waiting) return; // a retry is already on its way and will replay everything
    this.watchdog.cancel(); // the deadlines start again with the next connection
    const failed = this.current;
    if (!this.retries.admit(error, failed.audioBytes, unansweredFrom === 0)) return this.subscriber.error(error);
    failed.dispose();
    this.chunker.reset();
    this.current = this.successor(failed, this.settings.protocol.replay(failed.messages, unansweredFrom), false);
    const replayedSegments = this.current.messages.filter((message) => message.type === 'text').length;
    const replayedCharacters = this.current.textCharacters;
    this.report({ type: 'retry', attempt: this.retries.attempt, error, replayedSegments, replayedCharacters });
    if (this.subscriber.closed) return; // the events observer unsubscribed or threw
    this.retries.wait(
      error,
      () => {
        this.connect(this.current);
        // Nothing was opened ahead during the backoff (a rate-limited account is not asked again meanwhile).
        this.connectAhead();
      },
      (giveUp) => this.subscriber.error(giveUp),
    );
  }

  /**
   * An interruption: the current connection is told so and closed at once, so none of its audio can be emitted
   * afterwards; speech continues on the one opened ahead (or a new connection). Text queued for later connections
   * was given before the interruption: it is dropped too.
   */
  private interrupt(): void {
    const { interruption } = this.settings.protocol;
    this.turn = undefined; // none of its audio will come
    this.turnOpen = false;
    if (this.endOfStream) {
      // Everything was said: an interruption now only silences what is still arriving.
      this.current.dispose(interruption);
      this.disposeLinks();
      this.watchdog.closed();
      return this.subscriber.complete();
    }
    this.ahead.splice(1).forEach((link) => link.dispose());
    const next = this.ahead[0];
    if (next?.spoke === true) {
      // It was already speaking text from before the interruption: it goes, with its audio.
      next.dispose(interruption);
      this.ahead.shift();
    } else next?.dropUnsent();
    if (!this.current.spoke && !this.retries.waiting) {
      // Nothing went out yet: dropping what waits to be sent is the whole interruption, and the connection stays.
      return this.current.dropUnsent();
    }
    this.current.dispose(interruption);
    this.retries.cancel();
    this.advance();
    if (!this.current.connecting) this.connect(this.current);
  }

  /** Goes on with `link`, which carries none of the current connection's messages: no audio to beat on it. */
  private replaceCurrent(link: Link): void {
    this.current = link;
    this.retries.freshStart();
    this.chunker.reset(); // a byte carried from the old connection belongs to none of the new one's samples
    link.release();
    this.currentSince = asyncScheduler.now();
    this.noteTextSent();
    this.watchdog.watch();
    this.announce();
    this.takeEarly(link);
  }

  /** Emits what a connection received before it became current, then settles a close that came meanwhile. */
  private takeEarly(link: Link): void {
    for (let bytes = link.takeEarly(); bytes !== undefined; bytes = link.takeEarly()) {
      if (link !== this.current || this.subscriber.closed) return;
      this.onAudio(link, bytes);
    }
    const { earlyClose } = link;
    link.earlyClose = undefined;
    if (link !== this.current || this.subscriber.closed) return;
    if (earlyClose !== undefined) return this.settleClose(link, earlyClose.code, earlyClose.reason);
    this.sendAhead();
  }

  /**
   * Reports `open` once for each connection that carries the speech: at its upgrade if it is the current one, or for
   * one opened ahead, when it becomes the current one.
   */
  private announce(): void {
    const link = this.current;
    if (link.announced || !link.open) return;
    link.announced = true;
    this.report({ type: 'open', attempt: this.retries.attempt });
  }

  private report(event: RimeEvent): void {
    report(this.settings.events, this.subscriber, event);
  }

  /** An interruption from the `clear` control: while text flows it goes through the segmenter first. */
  clearAfterEnd(): boolean {
    if (!this.endOfStream) return false;
    this.interrupt();
    return true;
  }

  private disposeLinks(): void {
    this.current.dispose();
    this.ahead.splice(0).forEach((link) => link.dispose());
  }

  dispose(): void {
    this.watchdog.cancel();
    this.retries.cancel();
    this.disposeLinks();
  }
}
