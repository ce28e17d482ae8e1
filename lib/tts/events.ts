import type { RimeError } from '../errors';

/**
 * What `rimeTts` reports to its optional `events` observer: enough to build metrics (time to first audio, retries,
 * why a connection ended). Never carries the API key.
 */
export type RimeEvent =
  /** A connection opened. `attempt` is 0 for the first, n after n consecutive failures. */
  | { readonly type: 'open'; readonly attempt: number }
  /** Milliseconds from the first text sent on a connection to its first audio byte. */
  | { readonly type: 'first-audio'; readonly milliseconds: number }
  /** A connection failed and will be retried after the backoff, replaying `replayedSegments` segments. */
  | { readonly type: 'retry'; readonly attempt: number; readonly error: RimeError; readonly replayedSegments: number }
  /** The server closed a connection (as the server reported it). */
  | { readonly type: 'close'; readonly code: number; readonly reason: string };
