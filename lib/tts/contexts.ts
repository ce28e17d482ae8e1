import type { ContextId } from '../protocol/messages';
import type { Link, Turn } from './link';

/** The order of a context among those of one speech (`Contexts.open` numbers them); NaN for one not ours. */
const sequenceOf = (contextId: string): number => Number(contextId.slice(contextId.indexOf('.') + 1));

/**
 * The contexts of one speech, on a protocol that has them (`/ws3`): each segment is sent in a context of its own,
 * so every answer says which segment (and so which turn) it is of. An interruption makes every turn so far stale:
 * their answers still come (Rime's `clear` cancels no synthesis already asked for) and are dropped.
 */
export class Contexts {
  private count = 0;
  private readonly turns = new Map<string, Turn>();
  /** Turns from this index on are live; the ones before were interrupted. */
  private liveFrom = 0;
  /** Every context up to this one (in the order they were opened) is done. */
  private doneThrough = -1;

  /** A new context for a segment of `turn`. */
  open(turn: Turn): string {
    const contextId = `${turn.index}.${this.count++}`;
    this.turns.set(contextId, turn);
    return contextId;
  }

  /**
   * The turn an answer on `link` belongs to. An untagged one (`null`: Rime tags the first sentence so when two
   * messages came before any audio) can only be of the first text `link` sent; a context that is not ours, of none.
   */
  turnOf(contextId: ContextId | undefined, link: Link): Turn | undefined {
    const id = contextId ?? link.firstContext;
    return typeof id === 'string' ? this.turns.get(id) : undefined;
  }

  /** Whether answers of `turn` are still wanted (it was not interrupted). */
  live(turn: Turn | undefined): turn is Turn {
    return turn !== undefined && turn.index >= this.liveFrom;
  }

  /**
   * Rime finished `contextId`, and so every context before it (syntheses run in order): whether that is news. The
   * contexts done are forgotten: nothing more comes for them.
   */
  done(contextId: string): boolean {
    const sequence = sequenceOf(contextId);
    if (!(sequence > this.doneThrough)) return false;
    this.doneThrough = sequence;
    // The one just done may still have its timestamps to come; those before it have nothing more.
    for (const id of this.turns.keys()) if (sequenceOf(id) < sequence) this.turns.delete(id);
    return true;
  }

  /** Whether Rime finished `contextId`. */
  isDone(contextId: string): boolean {
    return sequenceOf(contextId) <= this.doneThrough;
  }

  /** Every turn before `next` is stale. */
  interrupt(next: number): void {
    this.liveFrom = next;
    for (const [id, turn] of this.turns) if (turn.index < next) this.turns.delete(id);
  }
}

/**
 * What the listener heard of each segment Rime has not finished (bytes emitted, by context), so that a retry, which
 * says such a segment again from its start, resumes where the listener is: the bytes heard are skipped. Exact when
 * Rime speaks the same text the same way (the test voice does); for mp3, whose frames cannot be cut anywhere, the
 * segment is heard again from its start.
 */
export class HeardAudio {
  private readonly heard = new Map<string, number>();
  private skipping = new Map<string, number>();
  /** Word timings told of each segment, and received of it on the current rendition (a retry starts one anew). */
  private readonly told = new Map<string, number>();
  private readonly received = new Map<string, number>();

  constructor(private readonly exact: boolean) {}

  /** Of `words`, the next timings of `contextId`, those not told before: a retry that resumes at the byte tells each once. */
  freshWords<W>(contextId: string, words: readonly W[]): readonly W[] {
    const seen = this.received.get(contextId) ?? 0;
    const told = this.told.get(contextId) ?? 0;
    this.received.set(contextId, seen + words.length);
    this.told.set(contextId, Math.max(told, seen + words.length));
    return words.slice(Math.max(0, told - seen));
  }

  /** What of `bytes`, audio of `contextId`, the listener has not heard yet. */
  fresh(contextId: string | undefined, bytes: Uint8Array): Uint8Array {
    const skip = contextId === undefined ? 0 : (this.skipping.get(contextId) ?? 0);
    if (skip === 0 || contextId === undefined) return bytes;
    const skipped = Math.min(skip, bytes.length);
    this.skipping.set(contextId, skip - skipped);
    return bytes.subarray(skipped);
  }

  /** `count` bytes of `contextId`'s audio reached the listener. */
  emitted(contextId: string, count: number): void {
    this.heard.set(contextId, (this.heard.get(contextId) ?? 0) + count);
  }

  /** Rime finished `contextId` and every one before it: none of them is said again. */
  done(contextId: string): void {
    const finished = sequenceOf(contextId);
    for (const id of this.heard.keys()) if (sequenceOf(id) <= finished) this.heard.delete(id);
    for (const map of [this.told, this.received]) for (const id of map.keys()) if (sequenceOf(id) < finished) map.delete(id);
  }

  /**
   * A retry says again, from its start, what is not done: all that was heard of it, on any connection, is skipped.
   * Whether the listener hears those segments again from their start (mp3): then their timings are told again.
   */
  retry(): boolean {
    if (this.exact) this.skipping = new Map(this.heard);
    else this.told.clear();
    this.received.clear();
    return !this.exact;
  }

  /** An interruption: nothing said so far will be said again. */
  clear(): void {
    this.heard.clear();
    this.skipping.clear();
    this.told.clear();
    this.received.clear();
  }
}
