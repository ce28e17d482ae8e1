import * as t from 'io-ts';
import * as E from 'fp-ts/Either';
import { described, isNumberIn } from '../lib/codecs';
import { RimeError } from '../lib/errors';
import { type Input, decodeFields, defaultText, defaulted, fieldIssues, markdownTable, optional, parseFields, pickFields, required, tableCodec } from '../lib/fields';

const SamplingRate = described('an integer from 4000 to 44100', isNumberIn(4000, 44100, true));

const table = {
  speaker: required(t.string, { doc: 'the voice' }),
  samplingRate: defaulted(SamplingRate, 22050, { doc: 'samples per second' }),
  apiKey: optional(t.literal('never'), { doc: 'the key', secret: true }),
  url: optional(t.literal('wss://example.com/'), { doc: 'the endpoint', shown: (value) => String(value).replace(/\/\/[^@]*@/, '//***@') }),
};

/** The issues `table` reports for `input`. */
function issuesOf(input: Record<string, unknown>): string[] {
  const decoded = decodeFields(table, input);
  return E.isLeft(decoded) ? [...(decoded.left.issues ?? [])] : [];
}

describe('tableCodec()', () => {
  it('fills defaults, keeps optional options only when given, and strips unknown keys', () => {
    expect(tableCodec(table).decode({ speaker: 'cove', extra: 1 })).toEqual(E.right({ speaker: 'cove', samplingRate: 22050 }));
    expect(tableCodec(table).decode({ speaker: 'cove', samplingRate: 16000, apiKey: 'never' })).toEqual(
      E.right({ speaker: 'cove', samplingRate: 16000, apiKey: 'never' }),
    );
  });

  it('types what a caller writes: only required options must be given', () => {
    const input: Input<typeof table> = { speaker: 'cove' };
    // @ts-expect-error speaker is required
    const missing: Input<typeof table> = { samplingRate: 16000 };
    expect([input, missing]).toHaveLength(2);
  });
});

describe('fieldIssues() and decodeFields()', () => {
  it('says, per failing option, what is allowed and what came', () => {
    expect(issuesOf({ speaker: 'cove', samplingRate: 48000 })).toEqual(['samplingRate must be an integer from 4000 to 44100, got 48000']);
    expect(issuesOf({ samplingRate: '16000', speaker: 7 })).toEqual(['speaker must be string, got 7', 'samplingRate must be an integer from 4000 to 44100, got "16000"']);
  });

  it('says a missing required option is required', () => {
    expect(issuesOf({})).toEqual(['speaker is required']);
  });

  it('never shows the value of a secret option', () => {
    const issues = issuesOf({ speaker: 'cove', apiKey: 'sk-live-123 with spaces' });
    expect(issues).toEqual(['apiKey must be "never", got a string (not shown)']);
  });

  it('shows an option through its `shown` function, even when that gives nothing', () => {
    expect(issuesOf({ speaker: 'cove', url: 'https://user:pw@example.com/' })).toEqual(['url must be "wss://example.com/", got "https://***@example.com/"']);
    const hiding = { url: optional(t.literal('x'), { doc: '', shown: () => undefined }) };
    const decoded = tableCodec(hiding).decode({ url: 'wss://user:pw@host/' });
    expect(E.isLeft(decoded) && fieldIssues(decoded.left, hiding, { url: 'wss://user:pw@host/' })).toEqual(['url must be "x", got nothing']);
  });

  it('ignores errors that name no option of the table', () => {
    const decoded = t.number.decode('x');
    expect(E.isLeft(decoded) && fieldIssues(decoded.left, table, {})).toEqual([]);
  });

  it('parseFields throws the same invalid-options error', () => {
    expect(() => parseFields(table, { speaker: 1 })).toThrow(RimeError);
    expect(() => parseFields(table, { speaker: 1 })).toThrow('Invalid Rime options: speaker must be string, got 1');
    expect(parseFields(table, { speaker: 'cove' })).toEqual({ speaker: 'cove', samplingRate: 22050 });
  });
});

describe('pickFields()', () => {
  it("keeps only the table's options that are given", () => {
    expect(pickFields(table, { speaker: 'cove', samplingRate: undefined, other: 1 })).toEqual({ speaker: 'cove' });
  });
});

describe('markdownTable() and defaultText()', () => {
  it('has a row per option: name, doc, what is allowed, the default', () => {
    expect(markdownTable(table).split('\n')).toEqual([
      '| option | what it does | allowed | default |',
      '|---|---|---|---|',
      '| `speaker` | the voice | string | required |',
      '| `samplingRate` | samples per second | an integer from 4000 to 44100 | `22050` |',
      '| `apiKey` | the key | "never" | not set |',
      '| `url` | the endpoint | "wss://example.com/" | not set |',
    ]);
  });

  it('a defaultDoc says the default in its own words; a | in what is allowed is escaped', () => {
    expect(defaultText(optional(t.string, { doc: '', defaultDoc: 'RIME_API_KEY' }))).toBe('RIME_API_KEY');
    expect(markdownTable({ x: defaulted(t.union([t.literal('a'), t.literal('b')]), 'a', { doc: 'x' }) })).toContain('| ("a" \\| "b") | `a` |');
  });
});
