import type { RimeError } from '../errors';

/**
 * What `rimeTts` reports to its optional `events` observer: enough to build metrics (time to first audio, retries,
 * why a connection ended). Never carries the API key.
 */
export type RimeEvent =
  /** A connection opened. `attempt` is 0 for the first, n after n consecutive failures. */
  | { readonly type: 'open'; readonly attempt: number }
  /**
   * Once per turn (the text up to a flush or an interruption; `turn` counts from 0): milliseconds from the turn's
   * first text sent on a connection to the first audio byte after it. On the plain protocol nothing marks where a
   * synthesis ends, so when a turn's text goes out while the previous turn's audio is still arriving, that byte may
   * still be the previous turn's: exact for the first turn and after an interruption, a lower bound otherwise.
   */
  | { readonly type: 'first-audio'; readonly turn: number; readonly milliseconds: number }
  /** A connection failed and will be retried after the backoff, replaying `replayedSegments` segments. */
  | { readonly type: 'retry'; readonly attempt: number; readonly error: RimeError; readonly replayedSegments: number }
  /** The server closed a connection (as the server reported it). */
  | { readonly type: 'close'; readonly code: number; readonly reason: string };

/**
 * Where `rimeTts` reports its events: any object with a `next` (an `Observer`, a `Subject`). Each event is reported
 * after what it describes was emitted; a `next` that throws errors the stream.
 */
export interface RimeEventObserver {
  readonly next?: (event: RimeEvent) => void;
}
