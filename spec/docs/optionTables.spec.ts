import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';
import { type FieldTable, markdownTable } from '../../lib/fields';
import { rimeClientFields, rimeQueryFields } from '../../lib/options';
import { rimeServerFields } from '../../lib/server/options';
import { rimeTtsFields } from '../../lib/tts/config';
import { rimeConnectionFields } from '../../lib/tts/rimeConnection';

/**
 * The option tables of docs/ are made from the field tables, never written by hand: between
 * `<!-- fields: NAME -->` and `<!-- /fields -->` each document holds exactly `markdownTable(NAME)`.
 * `UPDATE_DOCS=1 npx jest spec/docs/optionTables.spec.ts` rewrites them after a change to a table.
 */
const tables: Readonly<Record<string, FieldTable>> = { rimeQueryFields, rimeClientFields, rimeTtsFields, rimeServerFields, rimeConnectionFields };
const documents = ['docs/options.md', 'docs/rime-tts.md', 'docs/server.md', 'docs/connections.md'];
const root = join(__dirname, '..', '..');
const marked = /(<!-- fields: (\w+) -->\n)([\s\S]*?)(\n<!-- \/fields -->)/g;

describe('the option tables of docs/', () => {
  const seen = new Set<string>();
  it.each(documents)('%s holds each table as the field table makes it', (document) => {
    const path = join(root, document);
    const text = readFileSync(path, 'utf8');
    const made = text.replace(marked, (_whole, open: string, name: string, _table: string, close: string) => {
      const table = tables[name];
      if (table === undefined) throw new Error(`${document} names no field table: ${name}`);
      seen.add(name);
      return `${open}${markdownTable(table)}${close}`;
    });
    if (process.env['UPDATE_DOCS'] === '1') writeFileSync(path, made);
    expect(text).toBe(made);
  });

  it('every field table is in the docs', () => {
    expect([...seen].sort()).toEqual(Object.keys(tables).sort());
  });
});

describe('the API reference of every option', () => {
  // The rows' doc comments are what editors and typedoc show for each option of the input types (a homomorphic
  // mapping keeps them): each must exist, and a defaulted option's must say its default.
  const sources: Readonly<Record<string, string>> = {
    rimeQueryFields: 'lib/options.ts',
    rimeClientFields: 'lib/options.ts',
    rimeTtsFields: 'lib/tts/config.ts',
    rimeServerFields: 'lib/server/options.ts',
  };
  it.each(Object.entries(sources))('%s: a doc comment on every row, naming the default of a defaulted one', (name, file) => {
    const source = ts.createSourceFile(file, readFileSync(join(root, file), 'utf8'), ts.ScriptTarget.Latest, true);
    const comments = new Map<string, string>();
    source.forEachChild(function visit(node) {
      if (ts.isVariableDeclaration(node) && node.name.getText() === name && node.initializer !== undefined && ts.isObjectLiteralExpression(node.initializer)) {
        for (const property of node.initializer.properties) {
          const text = ts.getJSDocCommentsAndTags(property).map((doc) => doc.getText()).join('\n');
          comments.set(property.name?.getText() ?? '', text);
        }
      }
      node.forEachChild(visit);
    });
    const table = tables[name] ?? {};
    expect([...comments.keys()]).toEqual(Object.keys(table));
    for (const [option, field] of Object.entries(table)) {
      expect({ option, documented: comments.get(option) !== '' }).toEqual({ option, documented: true });
      if (field.presence === 'defaulted' && typeof field.fallback !== 'boolean') {
        expect({ option, saysDefault: /default/i.test(comments.get(option) ?? '') }).toEqual({ option, saysDefault: true });
      }
    }
  });
});
