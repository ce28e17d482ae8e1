import type { ContextId } from '../protocol/messages';
import type { Link, Turn } from './link';

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

  /** Every turn before `next` is stale. */
  interrupt(next: number): void {
    this.liveFrom = next;
    for (const [id, turn] of this.turns) if (turn.index < next) this.turns.delete(id);
  }
}
