import type { ParseArgsConfig } from 'node:util';
import { type Field, type FieldTable, defaultText } from '../fields';

type FlagOptions = NonNullable<ParseArgsConfig['options']>;

/** A flag of the command's own (not an option of the library): its parse spec and its help line. */
export interface OwnFlag {
  readonly name: string;
  readonly short?: string;
  readonly value?: string;
  readonly doc: string;
  readonly multiple?: boolean;
}

const flagged = (table: FieldTable): [string, Field & { readonly flag: NonNullable<Field['flag']> }][] =>
  (Object.entries(table) as [string, Field][]).flatMap(([name, field]) => (field.flag === undefined ? [] : [[name, { ...field, flag: field.flag }]]));

/** The `parseArgs` options for the flags of the tables' options and the command's own flags. */
export function flagOptions(tables: readonly FieldTable[], own: readonly OwnFlag[] = []): FlagOptions {
  const flags: readonly Omit<OwnFlag, 'doc'>[] = [...tables.flatMap((table) => flagged(table).map(([, field]) => field.flag)), ...own];
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

/** Where the help's text column starts. */
const HELP_COLUMN = 34;

function helpLine(flag: Omit<OwnFlag, 'doc'>, text: string): string {
  const name = `${flag.short === undefined ? '    ' : `-${flag.short}, `}--${flag.name}${flag.value === undefined ? '' : ` ${flag.value}`}`;
  return `  ${name.padEnd(HELP_COLUMN - 3)} ${text}`;
}

/** Docs' Markdown, as a terminal shows it. */
const plain = (text: string): string => text.replace(/`/g, '');

/**
 * Help lines: one per flag of `table` (its doc and default; `defaults` replaces a default as the command applies
 * it), then the command's own flags.
 */
export function flagHelp(table: FieldTable, defaults: Readonly<Record<string, string>> = {}, own: readonly OwnFlag[] = []): string {
  const lines = flagged(table).map(([name, field]) => {
    const fallback = defaults[name] ?? (field.presence === 'defaulted' && field.fallback !== false ? plain(defaultText(field)) : undefined);
    return helpLine(field.flag, `${field.doc}${fallback === undefined ? '' : ` (default ${fallback})`}`);
  });
  return [...lines, ...own.map((flag) => helpLine(flag, flag.doc))].map((line) => `${line}\n`).join('');
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
