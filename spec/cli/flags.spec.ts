import { parseArgs } from 'node:util';
import * as t from 'io-ts';
import { fieldsFromFlags, flagHelp, flagOptions, textFlag } from '../../lib/cli/flags';
import { numberFromText } from '../../lib/codecs';
import { defaulted, optional } from '../../lib/fields';
import { rimeClientFields, rimeQueryFields } from '../../lib/options';
import { rimeServerFields } from '../../lib/server/options';
import { rimeTtsFields } from '../../lib/tts/config';
import { speakUsage } from '../../lib/cli/speak';
import { serveUsage } from '../../lib/cli/serve';

const table = {
  samplingRate: defaulted(t.number, 22050, { doc: 'samples per second', fromText: numberFromText, flag: { name: 'sampling-rate', value: 'HZ' } }),
  loud: defaulted(t.boolean, false, { doc: 'say it `loudly`', flag: { name: 'loud' } }),
  keys: optional(t.array(t.string), { doc: 'keys', flag: { name: 'key', value: 'K', multiple: true } }),
  hidden: defaulted(t.number, 1, { doc: 'no flag' }),
};

describe('cli/flags', () => {
  it('flagOptions: a string option per valued flag, a switch per flagless value, repeats, and the command\'s own', () => {
    expect(flagOptions([table], { help: { short: 'h', doc: 'help' } })).toEqual({
      'sampling-rate': { type: 'string' },
      loud: { type: 'boolean' },
      key: { type: 'string', multiple: true },
      help: { type: 'boolean', short: 'h' },
    });
  });

  it('fieldsFromFlags: by option name, each read by its fromText, flags not given left out', () => {
    const { values } = parseArgs({ args: ['--sampling-rate', '16000', '--key', 'a', '--key', 'b'], options: flagOptions([table]), strict: true });
    expect(fieldsFromFlags(table, values)).toEqual({ samplingRate: 16000, keys: ['a', 'b'] });
    expect(fieldsFromFlags(table, { 'sampling-rate': 'fast' })).toEqual({ samplingRate: 'fast' }); // the codec quotes it back
    expect(textFlag({ a: 'x', b: true }, 'a')).toBe('x');
    expect(textFlag({ a: 'x', b: true }, 'b')).toBeUndefined();
  });

  it("flagHelp: the doc as a terminal shows it, what a value takes, the default (or the command's own), wrapped", () => {
    expect(flagHelp(table, { samplingRate: '24000' })).toBe(
      '      --sampling-rate HZ          samples per second: number (default 24000)\n' +
        '      --loud                      say it loudly\n' +
        '      --key K                     keys: Array<string>\n',
    );
    const long = { x: defaulted(t.string, 'y', { doc: 'word '.repeat(40).trim(), flag: { name: 'x', value: 'X' } }) };
    const lines = flagHelp(long).trimEnd().split('\n');
    expect(lines.length).toBeGreaterThan(1);
    expect(lines.every((line) => line.length <= 118)).toBe(true);
    expect(lines.slice(1).every((line) => line.startsWith(' '.repeat(34)))).toBe(true);
  });

  it('every flag of the library options speak and serve take is in their --help', () => {
    const tables = [rimeQueryFields, rimeClientFields, rimeTtsFields];
    for (const table of tables) {
      for (const field of Object.values(table)) if (field.flag !== undefined) expect(speakUsage).toContain(`--${field.flag.name}`);
    }
    for (const field of Object.values(rimeServerFields)) if (field.flag !== undefined) expect(serveUsage).toContain(`--${field.flag.name}`);
  });
});
