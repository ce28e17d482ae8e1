import * as t from 'io-ts';
import { isLeft } from 'fp-ts/Either';
import catalogJson from './data/rime-voices.json';
import { nearest } from './nearest';

/** Rime's public voice catalog: `{ modelId: { lang: speaker[] } }`, as Rime publishes it (voices-all-v2). */
export const VoiceCatalog = t.readonly(t.record(t.string, t.readonly(t.record(t.string, t.readonlyArray(t.string)))));
export type VoiceCatalog = t.TypeOf<typeof VoiceCatalog>;

function loadCatalog(json: unknown): VoiceCatalog {
  const decoded = VoiceCatalog.decode(json);
  if (isLeft(decoded)) throw new Error('rime-rx: the bundled voice catalog (lib/data/rime-voices.json) is malformed');
  return decoded.right;
}

/** The catalog bundled with this version of rime-rx. */
export const voiceCatalog: VoiceCatalog = loadCatalog(catalogJson);

/** Model ids the bundled catalog knows, in catalog order. */
export const knownModelIds: readonly string[] = Object.keys(voiceCatalog);

/**
 * Two-letter (ISO 639-1) and alternative three-letter codes Rime accepts, mapped to the three-letter codes its
 * catalog uses.
 */
export const languageAliases: Readonly<Record<string, string>> = {
  en: 'eng',
  es: 'spa',
  fr: 'fra',
  fre: 'fra',
  de: 'ger',
  deu: 'ger',
  pt: 'por',
  ja: 'jpn',
  hi: 'hin',
  ar: 'ara',
  he: 'heb',
};

/** Every language some model of the catalog speaks, as the catalog spells it. */
export const knownLanguages: readonly string[] = [
  ...new Set(knownModelIds.flatMap((model) => Object.keys(voiceCatalog[model] ?? {}))),
];

/** The catalog's code for `code` (`en` -> `eng`), or undefined for a language no model speaks. */
export function catalogLanguage(code: string): string | undefined {
  const lower = code.toLowerCase();
  const canonical = languageAliases[lower] ?? lower;
  return knownLanguages.includes(canonical) ? canonical : undefined;
}

export interface Voice {
  readonly speaker: string;
  readonly modelId: string;
  readonly lang: string;
}

/**
 * Problems with a speaker/model/language triple, worded for a person: an empty list when the catalog has the voice.
 * With `allowUnlistedSpeaker`, only the model/language pairing is checked.
 */
export function voiceIssues(voice: Voice, allowUnlistedSpeaker: boolean): string[] {
  // Own keys only: a model or language named `constructor` is no entry of the catalog.
  const languages = Object.hasOwn(voiceCatalog, voice.modelId) ? voiceCatalog[voice.modelId] : undefined;
  if (languages === undefined) return []; // an unknown model is reported by the modelId codec
  const speakers = Object.hasOwn(languages, voice.lang) ? languages[voice.lang] : undefined;
  if (speakers === undefined) {
    return [
      `Language ${voice.lang} is not supported for model ${voice.modelId} (it speaks ${Object.keys(languages).join(', ')})`,
    ];
  }
  if (allowUnlistedSpeaker || speakers.includes(voice.speaker)) return [];
  const otherLanguages = Object.keys(languages).filter((lang) => languages[lang]?.includes(voice.speaker));
  if (otherLanguages.length > 0) {
    return [
      `speaker "${voice.speaker}" speaks ${otherLanguages.join(', ')} on ${voice.modelId}, not ${voice.lang}: set lang to ${otherLanguages
        .map((lang) => `"${lang}"`)
        .join(' or ')}`,
    ];
  }
  const suggestions = nearest(voice.speaker, speakers);
  const hint = suggestions.length > 0 ? `; did you mean ${suggestions.join(', ')}?` : '';
  return [
    `speaker "${voice.speaker}" is not ${/^[aeiou]/i.test(voice.modelId) ? 'an' : 'a'} ${voice.modelId} voice for ${voice.lang}${hint} ` +
      '(set allowUnlistedSpeaker: true for a voice the bundled catalog does not list yet)',
  ];
}

/** One voice of the catalog: a speaker of a model, in a language. The catalog has no more about a voice than this. */
export interface VoiceListing {
  readonly speaker: string;
  readonly modelId: string;
  readonly lang: string;
}

export interface VoiceFilter {
  readonly modelId?: string;
  /** A 2- or 3-letter code (`es`, `spa`). */
  readonly lang?: string;
  /** A piece of the speaker's name, in any case. */
  readonly name?: string;
}

/**
 * The bundled catalog's voices, by model, language and name, filtered: a model, a language, a piece of the name.
 *
 * @example
 * listVoices({ modelId: 'coda', lang: 'spa' }).map((voice) => voice.speaker)
 */
export function listVoices(filter: VoiceFilter = {}): VoiceListing[] {
  const lang = filter.lang === undefined ? undefined : (catalogLanguage(filter.lang) ?? filter.lang.toLowerCase());
  const name = filter.name?.toLowerCase();
  return Object.entries(voiceCatalog).flatMap(([modelId, languages]) =>
    filter.modelId !== undefined && filter.modelId !== modelId
      ? []
      : Object.entries(languages).flatMap(([language, speakers]) =>
          lang !== undefined && lang !== language
            ? []
            : speakers.filter((speaker) => name === undefined || speaker.toLowerCase().includes(name)).map((speaker) => ({ speaker, modelId, lang: language })),
        ),
  );
}
