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

/** A value as a message may show it: short, and never a secret. */
export function showValue(value: unknown, secret = false): string {
  if (value === undefined) return 'nothing';
  if (secret) return `a ${typeof value} (not shown)`;
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (typeof value === 'number' || typeof value === 'boolean' || value === null) return String(value);
  return Array.isArray(value) ? 'an array' : typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

export interface FieldSet {
  /** Codec per field; its name describes what is allowed. */
  readonly codecs: Readonly<Record<string, t.Mixed>>;
  /** Fields whose value must never appear in a message. */
  readonly secret?: ReadonlySet<string>;
  /** Fields whose value is shown only after this (e.g. a URL without its credentials). */
  readonly shown?: Readonly<Record<string, (value: unknown) => unknown>>;
  /** Fields that have no default. */
  readonly required?: ReadonlySet<string>;
}

/**
 * One sentence per failing field (`samplingRate must be an integer from 4000 to 44100, got 48000`), from io-ts
 * errors. Only the field's own value is shown, never the whole input.
 */
export function fieldIssues(errors: t.Errors, fields: FieldSet, input: Readonly<Record<string, unknown>>): string[] {
  const failed = new Set<string>();
  for (const error of errors) {
    const field = error.context.find((entry) => entry.key in fields.codecs)?.key;
    if (field !== undefined) failed.add(field);
  }
  return [...failed].map((field) => {
    const value = input[field];
    if (value === undefined && fields.required?.has(field)) return `${field} is required`;
    const allowed = fields.codecs[field]?.name ?? 'valid';
    const shown = fields.shown?.[field]?.(value) ?? value;
    return `${field} must be ${allowed}, got ${showValue(shown, fields.secret?.has(field))}`;
  });
}

export function isRecord(u: unknown): u is Readonly<Record<string, unknown>> {
  return typeof u === 'object' && u !== null && !Array.isArray(u);
}

/** A number written as text (`"16000"`, `"1.5"`), or the text itself when it is not one, so errors can quote it. */
export function numberFromText(text: string): unknown {
  return /^\s*[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?\s*$/i.test(text) ? Number(text) : text;
}
