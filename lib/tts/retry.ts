import * as t from 'io-ts';
import { type ObservableInput, timer } from 'rxjs';
import { MAX_TIMER_MS, described, isNumberIn } from '../codecs';
import type { RimeError } from '../errors';

export type RetryDelay = number | ((error: RimeError, retryCount: number) => ObservableInput<unknown>);

const Count = described('an integer of at least 0', isNumberIn(0, Number.MAX_SAFE_INTEGER, true));
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

const DEFAULT_COUNT = 3;
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
    count: options.count ?? DEFAULT_COUNT,
    delay: typeof delay === 'number' ? () => timer(delay) : delay,
    resetOnSuccess: options.resetOnSuccess ?? true,
  };
}
