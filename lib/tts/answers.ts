import { asyncScheduler } from 'rxjs';
import { RimeError, redactKey } from '../errors';
import type { ClientMessage, ServerMessage } from '../protocol/messages';
import { Contexts, HeardAudio } from './contexts';
import type { Link, Turn } from './link';
import type { SpeechOutput } from './output';

type Text = Extract<ClientMessage, { type: 'text' }>;

/** What the answers need of the speech they serve. */
export interface AnswersHost {
  readonly output: SpeechOutput;
  /** Audio of a live segment, new to the listener, to emit (of `contextId`). */
  readonly audio: (link: Link, bytes: Uint8Array, turn: Turn, contextId: string | undefined) => void;
  /** Rime finished text not finished before: progress for the retry policy. */
  readonly progressed: () => void;
  readonly failed: (error: RimeError) => void;
}

/**
 * How a speech reads Rime's answers on a protocol with contexts (`/ws3`): each segment is sent in a context of its
 * own, so every chunk, timestamp and `done` says its segment and so its turn. It drops the answers of interrupted
 * turns, skips what the listener heard already when a retry says a segment again, acknowledges `done`s, and ends
 * each turn with its last segment's `done`.
 */
export class ContextAnswers {
  private readonly contexts = new Contexts();
  private readonly heard: HeardAudio;
  /** Turns whose first text has not gone out yet (their first audio is timed from it). */
  private readonly unsent: Turn[] = [];
  /** Turns that can take no more text, waiting for their last `done`. */
  private closed: Turn[] = [];
  /** Whether a text is still wanted: not of a turn an interruption made stale. */
  readonly live = (text: Text, link: Link): boolean => this.contexts.live(this.contexts.turnOf(text.contextId ?? undefined, link));

  constructor(
    exact: boolean,
    private readonly apiKey: string,
    private readonly host: AnswersHost,
  ) {
    this.heard = new HeardAudio(exact);
  }

  /** A turn begins: its first text is yet to go out. */
  began(turn: Turn): void {
    this.unsent.push(turn);
  }

  /** A segment of `turn`, in a context of its own. */
  segment(turn: Turn, text: string): Text {
    turn.lastContext = this.contexts.open(turn);
    return { type: 'text', text, contextId: turn.lastContext };
  }

  /** `link` may have spoken: the turns waiting for their first text to go out had it sent now. */
  sent(link: Link): void {
    if (this.unsent.length === 0 || !link.spoke) return;
    const now = asyncScheduler.now();
    for (const turn of this.unsent.splice(0)) turn.textSentAt ??= now;
  }

  /** No more text comes in `turn`: it ends with its last segment's `done`, now if that came. */
  close(turn: Turn): void {
    if (turn.lastContext === undefined) return;
    if (this.contexts.isDone(turn.lastContext)) this.host.output.done?.(turn.index);
    else this.closed.push(turn);
  }

  /** The bytes of audio emitted of `contextId`: what a retry that says it again skips. */
  emitted(contextId: string, count: number): void {
    this.heard.emitted(contextId, count);
  }

  answer(link: Link, message: ServerMessage): void {
    switch (message.type) {
      case 'audio': {
        const turn = this.contexts.turnOf(message.contextId, link);
        if (!this.contexts.live(turn)) return link.answered(message.bytes.length); // the server is alive, but this is stale
        const contextId = message.contextId ?? link.firstContext ?? undefined;
        const bytes = this.heard.fresh(contextId, message.bytes);
        if (bytes.length === 0) return link.answered(message.bytes.length); // a retry saying again what was heard
        return this.host.audio(link, bytes, turn, contextId);
      }
      case 'done': {
        // Untagged, it can only be the first text's, as an untagged chunk is.
        const contextId = message.contextId ?? link.firstContext;
        if (typeof contextId !== 'string' || !this.contexts.done(contextId)) return;
        link.acknowledge(contextId);
        this.host.progressed();
        this.heard.done(contextId);
        const ended = this.closed.filter((turn) => turn.lastContext !== undefined && this.contexts.isDone(turn.lastContext));
        this.closed = this.closed.filter((turn) => !ended.includes(turn) && this.contexts.live(turn));
        return ended.forEach((turn) => this.contexts.live(turn) && this.host.output.done?.(turn.index));
      }
      case 'words': {
        const turn = this.contexts.turnOf(message.contextId, link);
        const contextId = message.contextId ?? link.firstContext;
        if (!this.contexts.live(turn) || typeof contextId !== 'string') return;
        const words = this.heard.freshWords(contextId, message.words);
        if (words.length > 0) this.host.output.words?.(words, turn.index, contextId);
        return;
      }
      case 'error':
        return this.host.failed(new RimeError('protocol', redactKey(`Rime refused a message: ${message.message}`, this.apiKey)));
    }
  }

  /** A retry says again, from its start, what is not done (mp3: the listener hears it again; its timings too). */
  retry(): void {
    if (this.heard.retry()) this.host.output.restart?.();
  }

  /** An interruption: every turn before `next` is stale, and nothing said so far is said again. */
  interrupt(next: number): void {
    this.contexts.interrupt(next);
    this.heard.clear();
  }
}
