import { type Subscriber, type Subscription, asyncScheduler, defer, take } from 'rxjs';
import type { AudioChunk } from '../audio/chunk';
import { Deadline } from '../deadline';
import { RimeError } from '../errors';
import { PLAIN_COMMANDS, RIME_BUFFER_BOUNDARIES, commandOf } from '../protocol/plain';
import { DEFAULT_MAX_LENGTH as RIME_TEXT_LIMIT } from '../text/sentences';
import type { TransportEvent } from '../transport/transport';
import { AudioChunker } from './audio';
import type { TtsCommand } from './commands';
import type { TtsSettings } from './config';
import type { RimeEvent } from './events';
import { closedEarly } from './failures';
import { Link, type Turn } from './link';

/** The most audio a connection keeps before it is current; past it, its socket is not read until then. */
const EARLY_AUDIO_LIMIT = 1024 * 1024;

/**
 * One subscription's speech: feeds commands to the current connection, emits its audio, replaces it on a failure
 * (replaying what it was given), at the end of a turn (the next one, opened ahead, takes over once the server has
 * closed the current one after its last audio) or on an interruption (switching to the one opened ahead).
 */
export class Speech {
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
  /** Since when the current connection is current: nothing is awaited from it before. */
  private currentSince = 0;
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
      since === undefined || !this.reading || this.retryWait !== undefined ? undefined : Math.max(since, this.readingSince, this.currentSince);
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
    // Every connection ahead but the last has been ended: only the last can take more (constant time, however many
    // wait behind a server that is slow to finish).
    const last = this.ahead[this.ahead.length - 1];
    if (last !== undefined && !last.ended) return last;
    const next = this.newLink([], true);
    this.ahead.push(next);
    if (this.ahead.length === 1 && this.settings.prewarm && this.retryWait === undefined) this.connect(next);
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
      this.turn = { index: this.turns++, textSentAt: undefined, heard: false };
      this.turnOpen = true;
      this.spareWanted = true;
    }
    let link = this.receiving();
    if (link.hasText && link.textCharacters + text.length > this.settings.maxReplayCharacters) {
      this.endConnection();
      link = this.receiving();
    }
    if (link.heldCharacters > 0 && link.heldCharacters + text.length > RIME_TEXT_LIMIT) this.give(PLAIN_COMMANDS.flush);
    link.turn ??= this.turn;
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
    this.sendAhead();
  }

  /** The source completed: `<EOS>` where text waits for it; done at once if no connection owes anything. */
  private end(): void {
    this.endOfStream = true;
    const last = this.ahead[this.ahead.length - 1];
    const link = !this.current.ended ? this.current : last !== undefined && !last.ended ? last : undefined;
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
    if ((link === this.current || link.released) && !link.connecting && this.retryWait === undefined) this.connect(link);
    this.watchDeadlines();
    this.announce();
    if (link === this.current) this.sendAhead();
    else this.noteTextSent(link);
  }

  private watchDeadlines(): void {
    this.audioDeadline.watch();
    this.closeDeadline.watch();
  }

  /** `link`'s turn had its first text sent now, if not before: its first audio is timed from here. */
  private noteTextSent(link: Link = this.current): void {
    const { turn, spoke } = link;
    if (turn !== undefined && turn.textSentAt === undefined && spoke) turn.textSentAt = asyncScheduler.now();
  }

  /**
   * Once the current connection has sent `<EOS>`, the next one sends what it holds (and what comes), so Rime
   * synthesizes it while the current one finishes: no connection waits for another's close. Its audio is kept until
   * it is current (see `onEvent`), so the order of the speech is the order of the text.
   */
  private sendAhead(): void {
    const next = this.ahead[0];
    if (next === undefined || next.released || !this.current.endOfStreamSent || this.retryWait !== undefined) return;
    next.release();
    if (!next.connecting && (this.settings.prewarm || next.hasText)) this.connect(next);
    this.noteTextSent(next);
  }

  /** `to` carries on with `from`'s frames, and so with its turn. */
  private relink(from: Link, to: Link): void {
    to.turn = from.turn;
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
      this.watchDeadlines();
      this.announce();
      return this.sendAhead();
    }
    if (event.type === 'close') return this.onClose(link, event.code, event.reason);
    if (link === this.current) return this.onAudio(link, event.bytes);
    if (link !== this.ahead[0]) return;
    // The next connection speaks while this one finishes: its audio waits, bounded, until it is current.
    link.answered(0);
    link.early.push(event.bytes);
    link.earlyBytes += event.bytes.length;
    if (link.earlyBytes > EARLY_AUDIO_LIMIT) link.holdBack(true);
  }

  private onAudio(link: Link, bytes: Uint8Array): void {
    link.answered(bytes.length);
    if (this.settings.retry.resetOnSuccess && link.audioBytes > this.audioToBeat) this.failures = 0;
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
    if (!this.settings.spare || !this.spareWanted || this.endOfStream || this.ahead.length > 0 || this.retryWait !== undefined) return;
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
    this.connectAhead();
  }

  /** Opens the connection after the current one ahead of time, if there is one and `prewarm` asks for it. */
  private connectAhead(): void {
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
    const replayedSegments = this.current.frames.filter((frame) => commandOf(frame) === undefined).length;
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
          // Nothing was opened ahead during the backoff (a rate-limited account is not asked again meanwhile).
          this.connectAhead();
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
    const next = this.ahead[0];
    if (next?.spoke === true) {
      // It was already speaking text from before the interruption: it goes, with its audio.
      next.dispose(true);
      this.ahead.shift();
    } else next?.dropUnsent();
    if (!this.current.spoke && this.retryWait === undefined) {
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
    this.currentSince = asyncScheduler.now();
    this.noteTextSent();
    this.watchDeadlines();
    this.announce();
    this.takeEarly(link);
  }

  /** Emits what a connection received before it became current, then settles a close that came meanwhile. */
  private takeEarly(link: Link): void {
    link.holdBack(false);
    for (let bytes = link.early.shift(); bytes !== undefined; bytes = link.early.shift()) {
      if (link !== this.current || this.subscriber.closed) return;
      this.onAudio(link, bytes);
    }
    link.earlyBytes = 0;
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
    this.report({ type: 'open', attempt: this.failures });
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

