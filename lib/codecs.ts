import * as t from 'io-ts';

/** A codec accepting exactly the values `is` accepts; its name is the description error messages use. */
export function described<A>(description: string, is: (u: unknown) => u is A): t.Type<A, A, unknown> {
  return new t.Type<A, A, unknown>(description, is, (u, c) => (is(u) ? t.success(u) : t.failure(u, c)), t.identity);
}

/** `codec`, but `undefined` decodes to `fallback`. */
export function withDefault<A, O>(codec: t.Type<A, O, unknown>, fallback: A): t.Type<A, O, unknown> {
  return new t.Type<A, O, unknown>(
    codec.name,
    codec.is,
    (u, c) => (u === undefined ? t.success(fallback) : codec.validate(u, c)),
    codec.encode,
  );
}

/** Node timers take at most 2^31 - 1 ms (about 24.8 days); a longer delay fires at once. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

export const isNumberIn =
  (min: number, max: number, integer: boolean) =>
  (u: unknown): u is number =>
    typeof u === 'number' && Number.isFinite(u) && u >= min && u <= max && (!integer || Number.isInteger(u));

/** A delay a Node timer can honour: an integer number of milliseconds from 0. */
export const TimerDelay = described(`an integer number of milliseconds from 0 to ${MAX_TIMER_MS}`, isNumberIn(0, MAX_TIMER_MS, true));

/** A timeout: as {@link TimerDelay}, but at least 1. */
export const Timeout = described(`an integer number of milliseconds from 1 to ${MAX_TIMER_MS}`, isNumberIn(1, MAX_TIMER_MS, true));

/** A count: an integer from 0. */
export const Count = described('an integer of at least 0', isNumberIn(0, Number.MAX_SAFE_INTEGER, true));

/** An integer from 1 (a length, a size, a limit). */
export const PositiveInteger = described('an integer of at least 1', isNumberIn(1, Number.MAX_SAFE_INTEGER, true));

/** A finite number greater than 0, described as `description` says what it measures. */
export const positiveNumber = (description = 'a finite number greater than 0') =>
  described(description, (u): u is number => isNumberIn(0, Infinity, false)(u) && u > 0);

/** A value as a message may show it: short, and never a secret. */
export function showValue(value: unknown, secret = false): string {
  if (value === undefined) return 'nothing';
  if (secret) return `${typeof value === 'object' ? 'an' : 'a'} ${typeof value} (not shown)`;
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (typeof value === 'number' || typeof value === 'boolean' || value === null) return String(value);
  return Array.isArray(value) ? 'an array' : typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

export function isRecord(u: unknown): u is Readonly<Record<string, unknown>> {
  return typeof u === 'object' && u !== null && !Array.isArray(u);
}

/** A number written as text (`"16000"`, `"1.5"`), or the text itself when it is not one, so errors can quote it. */
export function numberFromText(text: string): unknown {
  return /^\s*[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?\s*$/i.test(text) ? Number(text) : text;
}
