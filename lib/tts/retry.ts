import * as t from 'io-ts';
import { type ObservableInput, type Subscription, defer, take, timer } from 'rxjs';
import { Count, MAX_TIMER_MS, described, isNumberIn } from '../codecs';
import type { RimeError } from '../errors';

export type RetryDelay = number | ((error: RimeError, retryCount: number) => ObservableInput<unknown>);

const Delay = described(
  `a number of milliseconds from 0 to ${MAX_TIMER_MS}, or a function (error, retryCount) => ObservableInput`,
  (u): u is RetryDelay => typeof u === 'function' || isNumberIn(0, MAX_TIMER_MS, false)(u),
);

/** `retry` in RxJS's own shape: a count, or `{ count, delay, resetOnSuccess }`. */
export const RetryConfig = t.union(
  [Count, t.exact(t.partial({ count: Count, delay: Delay, resetOnSuccess: t.boolean }))],
  `a number of retries, or { count, delay, resetOnSuccess } (delay: milliseconds up to ${MAX_TIMER_MS}, or (error, retryCount) => ObservableInput)`,
);
export type RetryConfig = t.TypeOf<typeof RetryConfig>;

export interface RetryPolicy {
  readonly count: number;
  /** When the next attempt may start: the first emission of the returned observable. */
  readonly delay: (error: RimeError, retryCount: number) => ObservableInput<unknown>;
  /**
   * Forget earlier failures once a connection makes progress: audio beyond what the failed connections delivered for
   * the same text (a retry replays it from the start, so the same bytes again are no progress).
   */
  readonly resetOnSuccess: boolean;
}

export const DEFAULT_RETRY_COUNT = 3;
const BASE_DELAY_MS = 250;
const MAX_DELAY_MS = 5000;
/** Rate limits clear slowly: back off this many times longer. */
const RATE_LIMITED_FACTOR = 4;

/** Capped exponential backoff with jitter (50–100% of the step), longer after a rate limit. */
export function backoff(error: RimeError, retryCount: number, random: () => number = Math.random): number {
  const step = Math.min(MAX_DELAY_MS, BASE_DELAY_MS * 2 ** (retryCount - 1));
  const factor = error.kind === 'rate-limited' ? RATE_LIMITED_FACTOR : 1;
  return Math.round(step * factor * (0.5 + random() / 2));
}

/** The policy a decoded `retry` option stands for. Defaults: 3 retries, {@link backoff}, reset on progress. */
export function retryPolicy(config: RetryConfig | undefined): RetryPolicy {
  const options = typeof config === 'number' ? { count: config } : (config ?? {});
  const delay = options.delay ?? ((error: RimeError, retryCount: number) => timer(backoff(error, retryCount)));
  return {
    count: options.count ?? DEFAULT_RETRY_COUNT,
    delay: typeof delay === 'number' ? () => timer(delay) : delay,
    resetOnSuccess: options.resetOnSuccess ?? true,
  };
}

/**
 * One subscription's retries: counts consecutive failures, waits out the backoff before the next attempt, and
 * tells progress from a replay saying the same again.
 */
export class Retries {
  private failures = 0;
  /**
   * The most audio a failed connection delivered for what the current one replays. A retry speaks it from the
   * start, so audio arriving is progress only past this point: the same fault after the same bytes is a failure
   * again, not a success that resets the count.
   */
  private audioToBeat = 0;
  private backoff: Subscription | undefined;

  constructor(private readonly policy: RetryPolicy) {}

  /** Consecutive failures so far: the attempt the current connection is. */
  get attempt(): number {
    return this.failures;
  }

  /** Whether a retry waits out its backoff. */
  get waiting(): boolean {
    return this.backoff !== undefined;
  }

  /** A connection that has now received `audioBytes` in all made progress, if past what failed before it. */
  progress(audioBytes: number): void {
    if (this.policy.resetOnSuccess && audioBytes > this.audioToBeat) this.failures = 0;
  }

  /** Rime acknowledged text no failed connection had finished: progress, whatever the audio. */
  progressed(): void {
    if (this.policy.resetOnSuccess) this.failures = 0;
  }

  /** A connection carrying none of the failed ones' text took over: nothing to beat on it. */
  freshStart(): void {
    this.audioToBeat = 0;
  }

  /**
   * Whether `error` is retried (it is retryable and the count is not spent); if so, it counts. `deliveredBytes`:
   * the failed connection's audio, to beat when `replaysAll` (its text is said again from the start).
   */
  admit(error: RimeError, deliveredBytes: number, replaysAll: boolean): boolean {
    if (!error.retryable || this.failures >= this.policy.count) return false;
    this.failures++;
    this.audioToBeat = replaysAll ? Math.max(this.audioToBeat, deliveredBytes) : 0;
    return true;
  }

  /**
   * Waits out the policy's delay, then calls `next`. A delay that completes without emitting means: stop retrying
   * (`giveUp` with `error`); one that fails gives up with its own error.
   */
  wait(error: RimeError, next: () => void, giveUp: (error: unknown) => void): void {
    let waited = false;
    this.backoff = defer(() => this.policy.delay(error, this.failures))
      .pipe(take(1))
      .subscribe({
        next: () => {
          waited = true;
          this.backoff = undefined;
          next();
        },
        complete: () => {
          if (!waited) giveUp(error);
        },
        error: giveUp,
      });
  }

  /** Abandons a pending retry (an interruption, the end). */
  cancel(): void {
    this.backoff?.unsubscribe();
    this.backoff = undefined;
  }
}
