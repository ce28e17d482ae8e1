import type { Subscriber } from 'rxjs';
import type { RimeError } from '../errors';

/**
 * What `rimeTts` reports to its optional `events` observer: enough to build metrics (time to first audio, retries,
 * why a connection ended). Never carries the API key.
 */
export type RimeEvent =
  /**
   * A connection starts carrying the speech: at its upgrade, or, for one opened ahead, when it becomes the current
   * one. `attempt` is 0 for the first, n after n consecutive failures. `handshakeMs`: how long the speech waited
   * for its upgrade (0 for a connection opened ahead, by `prewarm` or a `rimeConnection()`).
   */
  | { readonly type: 'open'; readonly attempt: number; readonly handshakeMs: number }
  /**
   * Once per turn (the text up to a flush or an interruption; `turn` counts from 0): milliseconds from the turn's
   * first text sent on a connection to the first audio byte on it. Every turn has a connection of its own, so the
   * byte is the turn's.
   */
  | { readonly type: 'first-audio'; readonly turn: number; readonly milliseconds: number }
  /**
   * A connection failed and will be retried after the backoff, replaying `replayedSegments` segments of
   * `replayedCharacters` characters (Rime bills them again).
   */
  | {
      readonly type: 'retry';
      readonly attempt: number;
      readonly error: RimeError;
      readonly replayedSegments: number;
      readonly replayedCharacters: number;
    }
  /** The server closed a connection (as the server reported it). */
  | { readonly type: 'close'; readonly code: number; readonly reason: string };

/**
 * Where `rimeTts` reports its events: any object with a `next` (an `Observer`, a `Subject`). Each event is reported
 * after what it describes was emitted; a `next` that throws errors the stream.
 */
export interface RimeEventObserver {
  readonly next?: (event: RimeEvent) => void;
}

/** Tells `events` of `event`; an observer that throws ends `subscriber` with its error, as a throwing `tap` would. */
export function report(events: RimeEventObserver | undefined, subscriber: Subscriber<unknown>, event: RimeEvent): void {
  if (events?.next === undefined || subscriber.closed) return;
  try {
    events.next(event);
  } catch (error: unknown) {
    subscriber.error(error);
  }
}
