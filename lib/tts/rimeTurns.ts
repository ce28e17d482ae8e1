import * as E from 'fp-ts/Either';
import {
  EMPTY,
  type ObservableInput,
  type OperatorFunction,
  Observable,
  Subject,
  Subscription,
  asyncScheduler,
  concat,
  concatMap,
  defer,
  from,
  map,
  takeUntil,
  tap,
  throwError,
} from 'rxjs';
import type { AudioChunk } from '../audio/chunk';
import { audioClock } from '../audio/clock';
import { CLEAR, type ClientMessage, EOS, FLUSH, type WordTiming } from '../protocol/messages';
import { ttsCommands } from './commands';
import { type RimeTtsConfig, decodeSettings } from './config';
import type { RimeEvent } from './events';
import { Speech } from './speech';

/** Segments whose start is remembered for their word timings. */
const REMEMBERED_STARTS = 64;
/** Turns whose audio has all come that an interruption may still name (the player may still be in one). */
const REMEMBERED_TURNS = 8;

/** What an interruption may say: where the player was (audio is usually buffered downstream). */
export interface Interruption {
  /** Milliseconds of the interrupted turn's audio the listener has heard. */
  readonly playedMs?: number;
  /**
   * The turn the player is in, as events tag it: one whose audio has all come (its `done` emitted) may be named, for
   * the listener may still be hearing it (any of the last 8). Default: the oldest turn whose audio has not all come.
   */
  readonly turn?: number;
}

/** A turn's figures, with its `done`. */
export interface TurnMetrics {
  /** From the turn's first text sent to its first audio byte (undefined: no audio). */
  readonly firstAudioMs: number | undefined;
  /** Seconds of audio the turn emitted. */
  readonly audioSeconds: number;
  /** Characters of the reply given to Rime. */
  readonly charactersSent: number;
  /** What Rime was asked to synthesize for it: the characters sent, and those said again by retries. */
  readonly charactersBilled: number;
  /** Retries while it played (on `/ws3` a retry also says again later turns' text: it is counted here, on this turn). */
  readonly retries: number;
  /**
   * Whether the turn went on a connection open before its first text (no handshake made it wait): on `/ws3` every
   * turn whose text came after the connection opened (every turn but a first; the first too on a warm
   * `rimeConnection()`); on `/ws` the turns whose connection was opened ahead in time.
   */
  readonly connectionReused: boolean;
  /** How long the turn's first text waited for a connection's upgrade (0 when it was reused). */
  readonly handshakeMs: number;
}

/** What `rimeTurns` emits: each reply's audio, word timings and end, and the interruptions, tagged with the reply. */
export type TurnEvent =
  | { readonly type: 'audio'; readonly turn: number; readonly bytes: AudioChunk }
  /** Timings of the turn's words, in seconds from the start of the turn's audio. */
  | { readonly type: 'words'; readonly turn: number; readonly words: readonly WordTiming[] }
  /**
   * The turn was interrupted. For the turn playing: with a `playedMs` and word timings (`/ws3`), `heard` is the words
   * the listener heard (those whose audio started before that point) and `notHeard` the rest of the reply's text so
   * far; without them both are undefined: nothing tells which word was playing, and no guess is made. For a turn
   * queued behind it: `heard` is empty (the player plays in order), and `notHeard` its text (undefined for a reply
   * never read).
   */
  | { readonly type: 'interrupted'; readonly turn: number; readonly playedMs: number | undefined; readonly heard?: string; readonly notHeard?: string }
  | { readonly type: 'done'; readonly turn: number; readonly metrics: TurnMetrics };

export interface RimeTurnsConfig extends Omit<RimeTtsConfig, 'flush' | 'clear'> {
  /** Each emission interrupts the turn being spoken (and the reply being read); may say where the player was. */
  readonly clear?: ObservableInput<Interruption | undefined | void>;
}

interface TurnState {
  readonly reply: number;
  text: string;
  charactersSent: number;
  replayed: number;
  retries: number;
  firstAudioMs: number | undefined;
  /** Seconds on the stream's clock where its audio started, and how much of it there is. */
  startedAt: number | undefined;
  audioSeconds: number;
  words: WordTiming[];
  /** When its first text was given, and how long it waited for upgrades since (before its first audio). */
  readonly givenAt: number;
  handshakeMs: number;
}

/**
 * A voice agent's conversation: the source emits one text stream per reply (an LLM response's tokens); the replies
 * are spoken in order, each a turn, on one warm connection (`/ws3`; on `/ws` a connection per turn, the next opened
 * ahead). `clear` is a barge-in: the listener spoke, so the turn playing is interrupted and every reply emitted
 * before the barge-in is dropped (the one being read is unsubscribed, one not read yet never is; each turn gets its
 * `interrupted` event); no stale byte is emitted, and the next reply emitted starts at once. Events are tagged with
 * their reply's index.
 *
 * ```
 * replies: -r-------s----|      r = reply 0's tokens, s = reply 1's
 * clear:   ------c--------      (while reply 0 is spoken)
 * events:  --aaa-i--aa-(d|)     a = audio   i = interrupted (turn 0)   d = done (turn 1)
 * ```
 *
 * @example
 * llmReplies$.pipe(rimeTurns({ speaker: 'cove', audioFormat: 'pcm', protocol: 'ws3', clear: bargeIn$ }))
 */
export function rimeTurns(config: RimeTurnsConfig): OperatorFunction<ObservableInput<string>, TurnEvent> {
  return (replies) =>
    defer(() => {
      const { clear, events: userEvents, ...speechConfig } = config;
      /** The speech's turns not ended yet, by the speech's turn number: each the state of the reply it speaks. */
      const turnsOf = new Map<number, TurnState>();
      let latest: TurnState | undefined;
      /** The latest turns whose audio has all come, by reply. */
      const recent = new Map<number, TurnState>();
      let turnCount = 0;
      let listener: ((event: RimeEvent) => void) | undefined;
      const settings = decodeSettings({ ...speechConfig, events: { next: (event) => (userEvents?.next?.(event), listener?.(event)) } });
      if (E.isLeft(settings)) return throwError(() => settings.left);
      const { options, releaseAfterMs } = settings.right;
      return new Observable<TurnEvent>((subscriber) => {
        const clock = audioClock(options.audioFormat, options.samplingRate);
        /** Where each segment's audio started on the stream's clock: its word timings count from there. */
        const segmentStarts = new Map<string, number>();
        const speech = new Speech(subscriber, settings.right, {
          audio: (bytes, speechTurn, contextId) => {
            const state = speechTurn === undefined ? undefined : turnsOf.get(speechTurn);
            if (state === undefined) return;
            state.startedAt ??= clock.seconds;
            if (contextId !== undefined && !segmentStarts.has(contextId)) segmentStarts.set(contextId, clock.seconds);
            clock.add(bytes);
            state.audioSeconds = clock.seconds - state.startedAt;
            subscriber.next({ type: 'audio', turn: state.reply, bytes });
          },
          words: (words, speechTurn, contextId) => {
            const state = turnsOf.get(speechTurn);
            if (state === undefined) return;
            // Speech gives them from the start of their segment's audio: on the turn's clock, from where it started.
            const segmentStart = segmentStarts.get(contextId) ?? clock.seconds;
            segmentStarts.set(contextId, segmentStart);
            if (segmentStarts.size > REMEMBERED_STARTS) segmentStarts.delete(segmentStarts.keys().next().value ?? contextId);
            const start = segmentStart - (state.startedAt ?? segmentStart);
            const timed = words.map((word) => ({ word: word.word, start: start + word.start, end: start + word.end }));
            state.words.push(...timed);
            subscriber.next({ type: 'words', turn: state.reply, words: timed });
          },
          restart: () => segmentStarts.clear(),
          done: (speechTurn) => {
            const state = turnsOf.get(speechTurn);
            if (state === undefined) return;
            turnsOf.delete(speechTurn);
            recent.set(state.reply, state);
            if (recent.size > REMEMBERED_TURNS) recent.delete(recent.keys().next().value ?? state.reply);
            const { firstAudioMs, audioSeconds, charactersSent, replayed, retries } = state;
            const { handshakeMs } = state;
            subscriber.next({
              type: 'done',
              turn: state.reply,
              metrics: { firstAudioMs, audioSeconds, charactersSent, charactersBilled: charactersSent + replayed, retries, connectionReused: handshakeMs === 0, handshakeMs },
            });
          },
        });
        /** The turn being spoken: the oldest whose audio has not all come. */
        const speaking = (): TurnState | undefined => turnsOf.values().next().value;
        listener = (event) => {
          if (event.type === 'open') {
            // Every turn whose text waited for this upgrade waited for the part of it that came after its first text.
            const now = asyncScheduler.now();
            for (const state of turnsOf.values()) {
              if (state.firstAudioMs === undefined) state.handshakeMs += Math.min(event.handshakeMs, now - state.givenAt);
            }
          }
          const state = event.type === 'first-audio' ? turnsOf.get(event.turn) : speaking();
          if (state === undefined) return;
          if (event.type === 'first-audio') state.firstAudioMs = event.milliseconds;
          if (event.type === 'retry') {
            state.retries++;
            state.replayed += event.replayedCharacters;
          }
        };
        const subscriptions = new Subscription(() => speech.dispose());
        /** The reply being read, while it is, and its text so far. */
        let reading: number | undefined;
        let readingText = (): string => '';
        let turnOpen = false;
        const give = (message: ClientMessage, reply: number | undefined) => {
          if (message.type === 'text' && !turnOpen && reply !== undefined) {
            // A text after a flush, an interruption or the start begins the speech's next turn: this reply's.
            latest = {
              reply,
              text: '',
              charactersSent: 0,
              replayed: 0,
              retries: 0,
              firstAudioMs: undefined,
              startedAt: undefined,
              audioSeconds: 0,
              words: [],
              givenAt: asyncScheduler.now(),
              handshakeMs: 0,
            };
            turnsOf.set(turnCount++, latest);
            turnOpen = true;
          }
          if (message.type === 'text' && latest !== undefined) latest.charactersSent += message.text.length;
          if (message.type !== 'text') turnOpen = false;
          speech.handle(message);
        };
        const interruptions = new Subject<void>();
        if (clear !== undefined) {
          subscriptions.add(
            from(clear).subscribe({
              next: (request) => {
                // A barge-in: the listener spoke. The turn being spoken is cut where they heard it, and the replies
                // queued behind it, written before they spoke, are not said either.
                clears++;
                const said = request ?? undefined;
                const cut = [...turnsOf.values()];
                turnsOf.clear();
                const playing = said?.turn === undefined ? cut[0] : (cut.find((state) => state.reply === said.turn) ?? recent.get(said.turn));
                if (playing !== undefined) subscriber.next(interrupted(playing, said));
                // The player plays in order: a turn after the one playing was not heard at all.
                const playingReply = playing?.reply ?? said?.turn ?? -1;
                // Turns whose audio has all come but that the player had not reached yet were not heard either.
                const queued = [...recent.values()].filter((state) => state.reply > playingReply && state !== playing);
                for (const state of [...queued, ...cut]) {
                  if (state === playing) continue;
                  subscriber.next(state.reply > playingReply ? unheard(state) : { type: 'interrupted', turn: state.reply, playedMs: undefined });
                }
                queued.forEach((state) => recent.delete(state.reply));
                // The reply being read whose text is still held (no segment of it given yet) is a turn cut too.
                if (reading !== undefined && latest?.reply !== reading && readingText().trim() !== '') {
                  subscriber.next({ type: 'interrupted', turn: reading, playedMs: undefined, heard: '', notHeard: readingText().trim() });
                }
                if (speech.clearAfterEnd()) return;
                // While a reply is read, its segmenter drops what it holds and says clear; else it is said here.
                if (reading !== undefined) interruptions.next();
                else give(CLEAR, undefined);
              },
              error: (error: unknown) => subscriber.error(error),
            }),
          );
        }
        speech.start();
        const { pauseBetweenBrackets } = options;
        /** Barge-ins so far: a reply emitted before the latest one is not read. */
        let clears = 0;
        subscriptions.add(
          from(replies)
            .pipe(
              map((reply) => ({ reply, clearsBefore: clears })),
              concatMap(({ reply, clearsBefore }, index) => {
                if (clearsBefore < clears) {
                  // Never read (an LLM stream not subscribed to is not asked for), so its text is not known.
                  return defer(() => {
                    subscriber.next({ type: 'interrupted', turn: index, playedMs: undefined, heard: '' });
                    return EMPTY;
                  });
                }
                const texts: string[] = [];
                return concat(
                  defer(() => {
                    reading = index;
                    readingText = () => texts.join('');
                    return EMPTY;
                  }),
                  from(reply).pipe(
                    takeUntil(interruptions),
                    tap((token) => texts.push(token)),
                    ttsCommands({ clear: interruptions, pauseBetweenBrackets, releaseAfterMs }),
                    // The end of a reply is the end of its turn, not of the conversation.
                    map((message) => (message.type === 'eos' ? FLUSH : message)),
                    tap((message) => {
                      give(message, index);
                      if (latest?.reply === index) latest.text = texts.join('');
                    }),
                  ),
                  defer(() => {
                    reading = undefined;
                    return EMPTY;
                  }),
                );
              }),
            )
            .subscribe({
              error: (error: unknown) => subscriber.error(error),
              complete: () => give(EOS, undefined),
            }),
        );
        return subscriptions;
      });
    });
}

/** A turn queued behind the one playing: none of it was heard. */
function unheard(state: TurnState): TurnEvent {
  return { type: 'interrupted', turn: state.reply, playedMs: undefined, heard: '', notHeard: state.text.trim() };
}

/** What the listener heard of an interrupted turn, as far as its word timings tell. */
function interrupted(state: TurnState, request: Interruption | undefined): TurnEvent {
  const playedMs = request?.playedMs;
  if (playedMs === undefined || state.words.length === 0) return { type: 'interrupted', turn: state.reply, playedMs };
  // Timings come ahead of their audio: a word whose audio was not emitted cannot have been heard.
  const heardUntil = Math.min(playedMs / 1000, state.audioSeconds);
  const heardWords = state.words.filter((word) => word.start < heardUntil).map((word) => word.word);
  // The rest is the reply's text after the last word heard (found in order), what was never spoken included.
  let at = 0;
  for (const word of heardWords) {
    const found = state.text.indexOf(word, at);
    if (found !== -1) at = found + word.length;
  }
  return { type: 'interrupted', turn: state.reply, playedMs, heard: heardWords.join(' '), notHeard: state.text.slice(at).trim() };
}
