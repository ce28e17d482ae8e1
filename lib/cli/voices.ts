import { parseArgs } from 'node:util';
import { catalogLanguage, knownLanguages, knownModelIds, listVoices } from '../catalog';
import { nearest } from '../nearest';
import { type OwnFlags, flagHelp, flagOptions, textFlag } from './flags';
import { type CliIo, parseErrorMessage } from './io';

const voicesFlags: OwnFlags = {
  model: { value: 'ID', doc: `only this model's voices: ${knownModelIds.join(', ')}` },
  lang: { value: 'CODE', doc: `only voices of this language (2- or 3-letter): ${knownLanguages.join(', ')}` },
  json: { doc: 'one JSON array of { speaker, modelId, lang }' },
  help: { short: 'h', doc: 'this help' },
};

export const voicesUsage = `Usage: rime-rx voices [NAME] [options]

Lists the voices of the bundled catalog (Rime's public voice list), filtered by model, language and a piece of
the name. Pass one to rime-rx speak with --speaker NAME --model ID --lang CODE.

Options:
${flagHelp({}, {}, voicesFlags)}`;

const options = flagOptions([], voicesFlags);

/** `rime-rx voices`: resolves with the exit code. */
export async function voices(args: readonly string[], io: CliIo): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: [...args], options, strict: true, allowPositionals: true });
  } catch (error) {
    io.err.write(`rime-rx voices: ${parseErrorMessage(error, options)} (try --help)\n`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values['help'] === true) {
    io.out.write(voicesUsage);
    return 0;
  }
  const modelId = textFlag(values, 'model');
  const lang = textFlag(values, 'lang');
  const problems = [
    ...(modelId !== undefined && !knownModelIds.includes(modelId) ? [unknown('model', modelId, knownModelIds)] : []),
    ...(lang !== undefined && catalogLanguage(lang) === undefined ? [unknown('language', lang, knownLanguages)] : []),
    ...(positionals.length > 1 ? ['give one name (or a piece of one)'] : []),
  ];
  if (problems.length > 0) {
    io.err.write(`rime-rx voices: ${problems.join('; ')}\n`);
    return 2;
  }
  const found = listVoices({ ...(modelId === undefined ? {} : { modelId }), ...(lang === undefined ? {} : { lang }), ...(positionals[0] === undefined ? {} : { name: positionals[0] }) });
  const width = Math.max(7, ...found.map((voice) => voice.speaker.length));
  const table = [`${'speaker'.padEnd(width)}  model   lang`, ...found.map((voice) => `${voice.speaker.padEnd(width)}  ${voice.modelId.padEnd(6)}  ${voice.lang}`)];
  await written(io, values['json'] === true ? `${JSON.stringify(found)}\n` : `${table.join('\n')}\n`);
  if (values['json'] !== true) io.err.write(`rime-rx voices: ${found.length} voice${found.length === 1 ? '' : 's'}\n`);
  return 0;
}

/** Writes `text` to stdout; a reader that stopped reading (`| head`) is a normal end. */
function written(io: CliIo, text: string): Promise<void> {
  return new Promise((resolve) => {
    const stopped = () => resolve();
    io.out.once('error', stopped);
    io.out.write(text, () => {
      io.out.off('error', stopped);
      resolve();
    });
  });
}

function unknown(what: string, value: string, known: readonly string[]): string {
  const guess = nearest(value, known, 1)[0];
  return `no ${what} "${value}" in the catalog${guess === undefined ? '' : `; did you mean ${guess}?`} (${known.join(', ')})`;
}
