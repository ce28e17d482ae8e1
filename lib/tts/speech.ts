import { type Subscriber, asyncScheduler } from 'rxjs';
import type { AudioChunk } from '../audio/chunk';
import { RimeError } from '../errors';
import { type ClientMessage, EOS, FLUSH, type ServerMessage } from '../protocol/messages';
import { RIME_TEXT_LIMIT, closedEarly, isBufferBoundary } from '../protocol/rules';
import { AudioChunker } from './audio';
import type { TtsSettings } from './config';
import { type RimeEvent, report } from './events';
import type { SpeechOutput } from './output';
import { ContextAnswers } from './answers';
import { SHORTEST_IDLE_LIFE_MS } from '../transport/pool';
import { Lineup } from './lineup';
import type { Link, Turn } from './link';
import { Retries } from './retry';
import { Watchdog } from './watchdog';

/**
 * One subscription's speech: gives the text side's messages to the connection receiving them, emits the current
 * connection's audio, and decides what each close means: done (the next connection, opened ahead, goes on), idle,
 * or a failure (retried on a fresh connection, replaying what the protocol says to). The connections themselves,
 * in order, are the {@link Lineup}'s.
 */
export class Speech {
  private readonly lineup: Lineup;
  /** The latest turn; `turnOpen` while more of its text may come (until a flush or an interruption). */
  private turn: Turn | undefined;
  private turnOpen = false;
  private turns = 0;
  /** The source completed: `eos` was given; nothing more will be said. */
  private endOfStream = false;
  /**
   * The speech ends with its last `done` instead of `eos`, and its connection goes back to the transport, open:
   * the transport can take it back (a pool's, on `/ws3`).
   */
  private handingBack = false;
  /** The source completed while the connection was opening: the speech ends once it is open (see `finish`). */
  private finishOnOpen = false;
  private readonly retries: Retries;
  /** On a protocol with contexts (`/ws3`): how Rime's answers are read. */
  private readonly answers: ContextAnswers | undefined;
  /** Whether a text is still wanted: not of a turn an interruption made stale. */
  private readonly live = (text: Extract<ClientMessage, { type: 'text' }>): boolean => this.answers?.live(text, this.lineup.current) ?? true;
  private readonly chunker: AudioChunker;
  /** Whether the sockets are read (downstream takes audio), and since when. */
  private reading = true;
  private readingSince = 0;
  /** Since when the current connection is current: nothing is awaited from it before. */
  private currentSince = 0;
  private readonly watchdog: Watchdog;
  /** Made once, not per frame: the audio path runs thousands of times a second. */
  private readonly emitAudio = (chunk: AudioChunk): void => this.output.audio(chunk, this.emittingTurn, this.emitting);
  /** The turn of the audio being emitted, and on `/ws3` its context. */
  private emittingTurn: number | undefined;
  private emitting: string | undefined;
  private readonly emitCounted = (chunk: AudioChunk): void => {
    if (this.emitting !== undefined) this.answers?.emitted(this.emitting, chunk.length);
    this.emitAudio(chunk);
  };

  constructor(
    private readonly subscriber: Subscriber<unknown>,
    private readonly settings: TtsSettings,
    private readonly output: SpeechOutput,
  ) {
    this.chunker = new AudioChunker(settings.options.audioFormat, settings.options.samplingRate);
    this.retries = new Retries(settings.retry);
    this.answers = settings.protocol.contexts
      ? new ContextAnswers(settings.options.audioFormat !== 'mp3', settings.apiKey, {
          output,
          audio: (link, bytes, turn, contextId) => {
            this.emitting = contextId;
            this.onAudio(link, bytes, turn);
            this.emitting = undefined;
          },
          progressed: () => this.retries.progressed(),
          failed: (error) => this.fail(error),
        })
      : undefined;
    this.lineup = new Lineup({
      settings,
      stopped: () => subscriber.closed,
      retrying: () => this.retries.waiting,
      audio: (link, bytes) => this.onAudio(link, bytes, link.turn),
      message: (link, message) => this.onMessage(link, message),
      closed: (link, code, reason) => this.settleClose(link, code, reason),
      failed: (error) => this.fail(error instanceof RimeError ? error : new RimeError('connection', `the transport failed: ${String(error)}`)),
      opened: () => {
        this.watchdog.watch();
        this.announce();
        this.answers?.sent(this.lineup.current);
        if (this.finishOnOpen && this.lineup.current.open) {
          this.finishOnOpen = false;
          this.finish();
        }
      },
      replaced: () => {
        this.retries.freshStart(); // it carries none of the old connection's messages: no audio to beat on it
        this.chunker.reset(); // a byte carried from the old connection belongs to none of the new one's samples
        this.currentSince = asyncScheduler.now();
      },
      report: (event) => this.report(event),
    });
    // Nothing is awaited while a retry is pending or the socket is not read (the server's audio waits for us then).
    const waitedSince = (since: number | undefined) =>
      since === undefined || !this.reading || this.retries.waiting ? undefined : Math.max(since, this.readingSince, this.currentSince);
    this.watchdog = new Watchdog(settings, () => this.lineup.current, waitedSince, (error) => this.fail(error));
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
    this.lineup.read(reading);
    if (reading) this.watchdog.watch();
  }

  start(): void {
    this.lineup.connect(this.lineup.current);
  }

  /** What the text side asks: a segment, the end of a turn (`flush`), an interruption (`clear`), the end (`eos`). */
  handle(message: ClientMessage): void {
    switch (message.type) {
      case 'text':
        return this.speak(message);
      case 'flush':
        this.closeTurn();
        if (!this.settings.protocol.contexts) return this.lineup.receiving().hasText ? this.endConnection() : undefined;
        // One connection serves every turn: the end of one is only a flush of what the server holds.
        return this.lineup.current.heldCharacters > 0 ? this.give(FLUSH) : undefined;
      case 'clear':
        return this.interrupt();
      case 'eos':
        return this.end();
    }
  }

  /**
   * Sends a segment so that the server synthesizes exactly it: by default a flush after every segment (the
   * connection is `segment=never`). With a `segment` mode of the caller's, a flush first when the server's buffer
   * would otherwise pass Rime's text limit, and in `bySentence` one after a segment that Rime's own buffering would
   * not end (a sentence closed by a quote or bracket, a long text cut at whitespace). On `/ws`, a segment that would
   * take the connection past `maxReplayCharacters` goes to the next one, so a retry never says more again; on
   * `/ws3` each segment has a context of its own, and a retry says only what is not done.
   */
  private speak(segment: Extract<ClientMessage, { type: 'text' }>): void {
    const { text } = segment;
    const { contexts } = this.settings.protocol;
    if (!this.turnOpen || this.turn === undefined) {
      this.turn = { index: this.turns++, textSentAt: undefined, heard: false };
      this.turnOpen = true;
      this.lineup.newTurn();
      this.answers?.began(this.turn);
    }
    let link = this.lineup.receiving();
    if (!contexts && link.hasText && link.textCharacters + text.length > this.settings.maxReplayCharacters) {
      this.endConnection();
      link = this.lineup.receiving();
    }
    if (link.heldCharacters > 0 && link.heldCharacters + text.length > RIME_TEXT_LIMIT) this.give(FLUSH);
    link.turn ??= this.turn;
    this.give(this.answers?.segment(this.turn, text) ?? segment);
    this.lineup.current.markTextSent();
    this.answers?.sent(this.lineup.current);
    const { flushEachSegment, options } = this.settings;
    if (flushEachSegment || (options.segment === 'bySentence' && !isBufferBoundary(text.charAt(text.length - 1)))) this.give(FLUSH);
  }

  /**
   * Ends the receiving connection with `eos` (Rime synthesizes what it holds, sends it, and closes): a retry of it
   * can only say its own text again. What comes next goes to the connection after it.
   */
  private endConnection(): void {
    this.give(EOS);
    this.lineup.receiving();
    this.lineup.sendAhead();
  }

  /** No more text can come in the latest turn (a flush, the end): on `/ws3` it ends with its last segment's `done`. */
  private closeTurn(): void {
    const { turn, turnOpen } = this;
    this.turnOpen = false;
    // Once: a turn flushed, then ended by the end of the text (or flushed again) is closed already.
    if (turnOpen && turn !== undefined) this.answers?.close(turn);
  }

  /** The source completed. */
  private end(): void {
    this.closeTurn();
    this.endOfStream = true;
    this.finish();
  }

  /**
   * Ends the speech, the source completed: `eos` where text waits for it, or, on `/ws3` on a connection its
   * transport can take back, the last `done`; done at once if no connection owes anything. Which of the first two
   * is known only once the connection is open: until then, it waits for the open.
   */
  private finish(): void {
    const link = this.lineup.takingMessages();
    if (link?.hasText === true && link === this.lineup.current && this.settings.protocol.contexts) {
      if (!link.open) return void (this.finishOnOpen = true);
      if (link.canHandBack) {
        this.handingBack = true;
        if (link.heldCharacters > 0) this.give(FLUSH);
        return this.handBackIfDone();
      }
    }
    if (link?.hasText === true) return this.give(EOS);
    // Connections still speaking end the speech; an empty one after them is not needed.
    if (link !== this.lineup.current) return link === undefined ? undefined : this.lineup.drop(link);
    // Nothing is owed (all was spoken on connections that have closed): no connection just for `eos`.
    this.lineup.dispose();
    this.subscriber.complete();
  }

  private give(message: ClientMessage): void {
    const { lineup } = this;
    const link = lineup.receiving();
    link.push(message);
    if ((link === lineup.current || link.released) && !link.connecting && !this.retries.waiting) lineup.connect(link);
    this.watchdog.watch();
    this.announce();
    if (link === lineup.current) lineup.sendAhead();
    else link.markTextSent();
  }

  /** A message on the current connection: on `/ws` audio, of the connection's turn; on `/ws3`, the answers' to read. */
  private onMessage(link: Link, message: ServerMessage): void {
    if (this.answers !== undefined) {
      this.answers.answer(link, message);
      return message.type === 'done' ? this.handBackIfDone() : undefined;
    }
    if (message.type === 'audio') this.onAudio(link, message.bytes, link.turn);
  }

  private onAudio(link: Link, bytes: Uint8Array, turn: Turn | undefined): void {
    link.answered(bytes.length);
    this.emittingTurn = turn?.index;
    if (!this.settings.protocol.contexts) this.retries.progress(link.audioBytes);
    this.chunker.push(bytes, this.answers === undefined ? this.emitAudio : this.emitCounted);
    // The subscriber may have interrupted or unsubscribed from inside `next`: this audio is then the old turn's.
    if (link !== this.lineup.current || this.subscriber.closed) return;
    if (!this.endOfStream) this.lineup.prewarmSpare();
    if (turn !== undefined && turn.textSentAt !== undefined && !turn.heard) {
      turn.heard = true;
      this.report({ type: 'first-audio', turn: turn.index, milliseconds: asyncScheduler.now() - turn.textSentAt });
    }
  }

  /** Once Rime said every text done, a speech handing its connection back is over: it leaves it open, and completes. */
  private handBackIfDone(): void {
    const link = this.lineup.current;
    if (!this.handingBack || this.subscriber.closed || link.unacknowledgedFrom(() => true) !== undefined) return;
    this.watchdog.cancel();
    link.handBack();
    this.lineup.dispose();
    this.subscriber.complete();
  }

  /**
   * What the close of the current connection means. A clean close (1000) is taken as the server's word that what
   * it was sent before its latest audio has been spoken (Rime closes cleanly after `eos` once everything is sent,
   * and closes idle connections): after `eos` the connection is done, and the next one goes on (or the speech
   * ends), before it the connection was idle. Text sent after the latest audio may have raced the close: if audio
   * was owed for it, it was lost, and it alone is retried (a failure); if the server was only holding it (waiting
   * for a flush), it moves to the next connection.
   */
  private settleClose(link: Link, code: number, reason: string): void {
    // On `/ws3` text is answered when its `done` comes: a clean close before it is a failure, not the end.
    const { contexts } = this.settings.protocol;
    const unanswered = contexts ? link.unacknowledgedFrom(this.live) : link.unansweredFrom;
    const owed = unanswered !== undefined && (contexts ? link.flushedAfter(unanswered) : link.owedSince !== undefined);
    if (code === 1000 && unanswered === undefined) {
      if (!link.endOfStreamSent) this.lineup.noSpare(); // closed idle
      this.watchdog.closed();
      // On `/ws` a turn ends with the clean close of its last connection (a long one spans several).
      const { turn } = link;
      const turnEnded = turn !== undefined && !(turn === this.turn && this.turnOpen) && !this.lineup.carries(turn);
      if (!contexts && link.endOfStreamSent && turnEnded) this.output.done?.(turn.index);
      if (link.endOfStreamSent && this.endOfStream && !this.lineup.textAhead) return this.subscriber.complete();
      this.lineup.advance();
      // On `/ws3` one connection serves the whole speech: one Rime closed idle is opened again at once, so the next
      // text waits for no handshake (not one closed as soon as it opened: that server would be asked again and again).
      const idleFor = link.openedAt === undefined ? 0 : asyncScheduler.now() - link.openedAt;
      if (contexts && !link.endOfStreamSent && idleFor >= SHORTEST_IDLE_LIFE_MS && !this.lineup.current.connecting) this.lineup.connect(this.lineup.current);
      return;
    }
    if (code === 1000 && !owed && unanswered !== undefined) {
      // Text the server was only holding (a `segment` mode of the caller's, waiting for a flush) when it closed idle:
      // nothing failed. It goes to the next connection, opened when more comes (a flush, text, the end).
      this.lineup.noSpare();
      return this.lineup.replaceCurrent(this.lineup.successor(link, this.settings.protocol.replay(link.messages, unanswered, this.live), false));
    }
    this.fail(closedEarly(code, reason), code === 1000 ? unanswered : 0);
  }

  /**
   * Retries a failed connection after the backoff, on a fresh one given what the protocol replays of its log from
   * `unansweredFrom` (0, all of it, unless the server closed cleanly); or gives up.
   */
  private fail(error: RimeError, unansweredFrom = 0): void {
    if (this.retries.waiting) return; // a retry is already on its way and will replay everything
    this.watchdog.cancel(); // the deadlines start again with the next connection
    const failed = this.lineup.current;
    if (!this.retries.admit(error, failed.audioBytes, unansweredFrom === 0)) return this.subscriber.error(error);
    // On `/ws3`, what Rime said is done is never said again.
    if (this.settings.protocol.contexts) {
      unansweredFrom = failed.unacknowledgedFrom(this.live) ?? failed.messages.length;
      this.answers?.retry();
    }
    failed.dispose();
    this.chunker.reset();
    const retried = this.lineup.successor(failed, this.settings.protocol.replay(failed.messages, unansweredFrom, this.live), false);
    this.lineup.current = retried;
    if (this.handingBack) {
      // A fresh connection ends as one does that nobody takes back.
      this.handingBack = false;
      retried.push(EOS);
    }
    const replayedSegments = retried.messages.filter((message) => message.type === 'text').length;
    this.report({ type: 'retry', attempt: this.retries.attempt, error, replayedSegments, replayedCharacters: retried.textCharacters });
    if (this.subscriber.closed) return; // the events observer unsubscribed or threw
    this.retries.wait(
      error,
      () => {
        this.lineup.connect(this.lineup.current);
        // Nothing was opened ahead during the backoff (a rate-limited account is not asked again meanwhile).
        this.lineup.connectAhead();
      },
      (giveUp) => this.subscriber.error(giveUp),
    );
  }

  /**
   * An interruption: the current connection is told so and closed at once, so none of its audio can be emitted
   * afterwards; speech continues on the one opened ahead (or a new connection).
   */
  private interrupt(): void {
    const { interruption } = this.settings.protocol;
    const { lineup } = this;
    this.turn = undefined; // none of its audio will come
    this.turnOpen = false;
    if (this.endOfStream) {
      // Everything was said: an interruption now only silences what is still arriving.
      lineup.current.dispose(interruption);
      lineup.dispose();
      this.watchdog.closed();
      return this.subscriber.complete();
    }
    if (this.settings.protocol.contexts) return this.interruptInBand();
    lineup.interruptAhead(interruption);
    if (!lineup.current.spoke && !this.retries.waiting) {
      // Nothing went out yet: dropping what waits to be sent is the whole interruption, and the connection stays.
      return lineup.current.dropUnsent();
    }
    lineup.current.dispose(interruption);
    this.retries.cancel();
    lineup.advance();
    if (!lineup.current.connecting) lineup.connect(lineup.current);
  }

  /**
   * An interruption on `/ws3`: every turn so far is stale (their audio, still coming for what was asked before, is
   * dropped), what was not sent yet is dropped, and the server is told `clear`; the connection stays.
   */
  private interruptInBand(): void {
    const link = this.lineup.current;
    this.answers?.interrupt(this.turns);
    this.chunker.reset(); // a byte carried from stale audio belongs to no sample of what comes
    link.dropUnsent();
    if (link.spoke) this.give(this.settings.protocol.interruption);
  }

  /**
   * Reports `open` once for each connection that carries the speech: at its upgrade if it is the current one, or for
   * one opened ahead, when it becomes the current one.
   */
  private announce(): void {
    const link = this.lineup.current;
    if (link.announced || !link.open) return;
    link.announced = true;
    this.report({ type: 'open', attempt: this.retries.attempt, handshakeMs: link.handshakeMs });
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

  dispose(): void {
    this.watchdog.cancel();
    this.retries.cancel();
    this.lineup.dispose();
  }
}
