import * as t from 'io-ts';
import * as E from 'fp-ts/Either';
import { showValue, withDefault } from './codecs';
import { RimeError } from './errors';

/**
 * One table per options object, one row per option: everything any place needs to know of it. The io-ts codec,
 * the static types, Rime's query string, the command-line flags and their help, and the tables of `docs/` are all
 * made from it, so an option is written down once.
 */

/** How text (a query parameter, a command-line flag) becomes the value an option's codec expects. */
export type FromText = (text: string) => unknown;

export type Presence = 'required' | 'defaulted' | 'optional';

export interface Field<A = unknown, P extends Presence = Presence> {
  /** What is allowed; its name says so in every message (`an integer from 4000 to 44100`). */
  readonly codec: t.Type<A, unknown, unknown>;
  readonly presence: P;
  /** The value when none is given (`defaulted` only). */
  readonly fallback?: A;
  /** One line: what the option does (the docs' tables, `--help`). */
  readonly doc: string;
  /** The default as the docs say it, where its value alone would not tell (`RIME_API_KEY`, `not sent`). */
  readonly defaultDoc?: string;
  /** Read from text this way (a query parameter, a flag); absent: the text as it is. */
  readonly fromText?: FromText;
  /** Travels in Rime's query string (under the option's own name). */
  readonly query?: boolean;
  /**
   * The command-line flag (without `--`), its value's placeholder (none: a switch), whether it repeats, and its
   * help where the option's doc and codec do not fit a command line (a count, where code may pass a function).
   */
  readonly flag?: { readonly name: string; readonly value?: string; readonly multiple?: boolean; readonly help?: string };
  /** Never shown in a message, whatever it is. */
  readonly secret?: boolean;
  /** Shown in messages only after this (a URL without its credentials). */
  readonly shown?: (value: unknown) => unknown;
}

type Details<A> = Omit<Field<A>, 'codec' | 'presence' | 'fallback'>;

export const required = <A>(codec: t.Type<A, unknown, unknown>, details: Details<A>): Field<A, 'required'> => ({ codec, presence: 'required', ...details });

export const defaulted = <A>(codec: t.Type<A, unknown, unknown>, fallback: A, details: Details<A>): Field<A, 'defaulted'> => ({
  codec,
  presence: 'defaulted',
  fallback,
  ...details,
});

export const optional = <A>(codec: t.Type<A, unknown, unknown>, details: Details<A>): Field<A, 'optional'> => ({ codec, presence: 'optional', ...details });

/** Any table: a row's value type is its own (a codec's type is invariant, so no narrower bound fits every row). */
export type FieldTable = Readonly<Record<string, Field<any, Presence>>>;

type ValueOf<F> = F extends Field<infer A, Presence> ? A : never;
type Keys<T, P extends Presence> = { [K in keyof T]: T[K] extends Field<any, P> ? K : never }[keyof T];

/** What decoding a table gives: every required and defaulted option, and the optional ones given. */
export type Decoded<T> = { readonly [K in Keys<T, 'required' | 'defaulted'>]: ValueOf<T[K]> } & {
  readonly [K in Keys<T, 'optional'>]?: ValueOf<T[K]>;
};

/**
 * What a caller writes: the required options, and any of the others. A homomorphic mapping, so each option keeps
 * the doc comment of its row (editors and the API reference show it).
 */
export type Input<T> = { readonly [K in keyof T as K extends Keys<T, 'required'> ? K : never]: ValueOf<T[K]> } & {
  readonly [K in keyof T as K extends Keys<T, 'required'> ? never : K]?: ValueOf<T[K]>;
};

/** The io-ts codec of a table: exact (unknown keys are stripped), defaults filled in. */
export function tableCodec<T extends FieldTable>(table: T): t.Type<Decoded<T>, unknown, unknown> {
  const always: t.Props = {};
  const given: t.Props = {};
  for (const [name, field] of Object.entries(table) as [string, Field][]) {
    if (field.presence === 'optional') given[name] = field.codec;
    else always[name] = field.presence === 'defaulted' ? withDefault(field.codec, field.fallback) : field.codec;
  }
  return t.exact(t.intersection([t.type(always), t.partial(given)])) as unknown as t.Type<Decoded<T>, unknown, unknown>;
}

/**
 * One sentence per failing option (`samplingRate must be an integer from 4000 to 44100, got 48000`), from io-ts
 * errors. Only the option's own value is shown, never the whole input, and never a secret.
 */
export function fieldIssues(errors: t.Errors, table: FieldTable, input: Readonly<Record<string, unknown>>): string[] {
  const failed = new Set<string>();
  for (const error of errors) {
    const name = error.context.find((entry) => Object.hasOwn(table, entry.key))?.key;
    if (name !== undefined) failed.add(name);
  }
  return [...failed].map((name) => {
    const field = table[name] as Field;
    const value = input[name];
    if (value === undefined && field.presence === 'required') return `${name} is required`;
    const shown = field.shown === undefined ? value : field.shown(value);
    return `${name} must be ${field.codec.name}, got ${showValue(shown, field.secret === true)}`;
  });
}

/** Decodes `input` with `table`'s codec: the options, or an `invalid-options` error naming every problem. */
export function decodeFields<T extends FieldTable>(table: T, input: Readonly<Record<string, unknown>>, codec = tableCodec(table)): E.Either<RimeError, Decoded<T>> {
  const decoded = codec.decode(input);
  return E.isLeft(decoded) ? E.left(RimeError.invalidOptions(fieldIssues(decoded.left, table, input))) : E.right(decoded.right);
}

/** {@link decodeFields} that throws its error. */
export function parseFields<T extends FieldTable>(table: T, input: Readonly<Record<string, unknown>>, codec = tableCodec(table)): Decoded<T> {
  const decoded = decodeFields(table, input, codec);
  if (E.isLeft(decoded)) throw decoded.left;
  return decoded.right;
}

/** Only the options `table` has, as given (missing ones left out): what a caller's larger object holds of it. */
export function pickFields<T extends FieldTable>(table: T, input: Readonly<Record<string, unknown>>): Record<string, unknown> {
  return Object.fromEntries(Object.keys(table).flatMap((name) => (input[name] === undefined ? [] : [[name, input[name]]])));
}

/** The default as docs say it. */
export function defaultText(field: FieldTable[string]): string {
  if (field.defaultDoc !== undefined) return field.defaultDoc;
  if (field.presence === 'required') return 'required';
  if (field.presence === 'optional') return 'not set';
  return typeof field.fallback === 'string' ? `\`${field.fallback}\`` : `\`${JSON.stringify(field.fallback)}\``;
}

/** A Markdown table of the options: name, what it does, what is allowed, the default. */
export function markdownTable(table: FieldTable): string {
  const rows = (Object.entries(table) as [string, Field][]).map(
    ([name, field]) => `| \`${name}\` | ${field.doc} | ${field.codec.name.replace(/\|/g, '\\|')} | ${defaultText(field)} |`,
  );
  return ['| option | what it does | allowed | default |', '|---|---|---|---|', ...rows].join('\n');
}
