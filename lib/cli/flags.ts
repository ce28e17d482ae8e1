import type { ParseArgsConfig } from 'node:util';
import { type Field, type FieldTable, defaultText } from '../fields';

type FlagOptions = NonNullable<ParseArgsConfig['options']>;

/** A flag of the command's own (not an option of the library), by its name: its parse spec and its help line. */
export interface OwnFlag {
  readonly short?: string;
  /** The value's placeholder; none: a switch. */
  readonly value?: string;
  readonly doc: string;
  readonly multiple?: boolean;
}

export type OwnFlags = Readonly<Record<string, OwnFlag>>;

interface FlagSpec {
  readonly name: string;
  readonly short?: string;
  readonly value?: string;
  readonly multiple?: boolean;
}

const ownSpecs = (own: OwnFlags): FlagSpec[] => Object.entries(own).map(([name, flag]) => ({ name, ...flag }));

const flagged = (table: FieldTable): [string, Field & { readonly flag: NonNullable<Field['flag']> }][] =>
  (Object.entries(table) as [string, Field][]).flatMap(([name, field]) => (field.flag === undefined ? [] : [[name, { ...field, flag: field.flag }]]));

/** The `parseArgs` options for the flags of the tables' options and the command's own flags. */
export function flagOptions(tables: readonly FieldTable[], own: OwnFlags = {}): FlagOptions {
  const flags: readonly FlagSpec[] = [...tables.flatMap((table) => flagged(table).map(([, field]) => field.flag)), ...ownSpecs(own)];
  const options: FlagOptions = {};
  for (const flag of flags) {
    options[flag.name] = {
      type: flag.value === undefined ? 'boolean' : 'string',
      ...(flag.multiple === true ? { multiple: true } : {}),
      ...(flag.short === undefined ? {} : { short: flag.short }),
    };
  }
  return options;
}

/** Where the help's text column starts, and where its lines end. */
const HELP_COLUMN = 34;
const HELP_WIDTH = 118;

/** `text` cut at spaces into lines that fit between the column and the width. */
function wrap(text: string): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line !== '' && HELP_COLUMN + line.length + 1 + word.length > HELP_WIDTH) {
      lines.push(line);
      line = word;
    } else line = line === '' ? word : `${line} ${word}`;
  }
  return [...lines, line];
}

function helpLine(flag: FlagSpec, text: string): string {
  const name = `${flag.short === undefined ? '    ' : `-${flag.short}, `}--${flag.name}${flag.value === undefined ? '' : ` ${flag.value}`}`;
  const [first = '', ...rest] = wrap(text);
  const head = name.length < HELP_COLUMN - 3 ? `  ${name.padEnd(HELP_COLUMN - 3)} ${first}` : `  ${name}\n${' '.repeat(HELP_COLUMN)}${first}`;
  return [head, ...rest.map((line) => `${' '.repeat(HELP_COLUMN)}${line}`)].join('\n');
}

/** Docs' Markdown, as a terminal shows it. */
const plain = (text: string): string => text.replace(/`/g, '');

/**
 * Help lines: one per flag of `table` (its doc, what it takes, and its default; `defaults` replaces a default as
 * the command applies it), then the command's own flags.
 */
export function flagHelp(table: FieldTable, defaults: Readonly<Record<string, string>> = {}, own: OwnFlags = {}): string {
  const lines = flagged(table).map(([name, field]) => {
    const fallback = defaults[name] ?? (field.presence === 'defaulted' && field.fallback !== false ? plain(defaultText(field)) : undefined);
    const takes = field.flag.value === undefined ? '' : `: ${field.codec.name}`;
    const help = field.flag.help ?? `${plain(field.doc)}${takes}`;
    return helpLine(field.flag, `${help}${fallback === undefined ? '' : ` (default ${fallback})`}`);
  });
  const ownLines = Object.entries(own).map(([name, flag]) => helpLine({ name, ...flag }, flag.doc));
  return [...lines, ...ownLines].map((line) => `${line}\n`).join('');
}

/**
 * The options the flags of `table` give, by option name, each read by its option's `fromText` (the codecs check
 * them after): flags not given are left out.
 */
export function fieldsFromFlags(table: FieldTable, values: Readonly<Record<string, unknown>>): Record<string, unknown> {
  return Object.fromEntries(
    flagged(table).flatMap(([name, field]) => {
      const value = values[field.flag.name];
      if (value === undefined) return [];
      const read = (text: unknown) => (typeof text === 'string' && field.fromText !== undefined ? field.fromText(text) : text);
      return [[name, Array.isArray(value) ? value.map(read) : read(value)]];
    }),
  );
}

/** A flag's text value, if it was given as text. */
export function textFlag(values: Readonly<Record<string, unknown>>, name: string): string | undefined {
  const value = values[name];
  return typeof value === 'string' ? value : undefined;
}
