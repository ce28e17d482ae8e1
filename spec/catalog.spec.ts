import { isLeft, isRight } from 'fp-ts/Either';
import catalogJson from '../lib/data/rime-voices.json';
import { VoiceCatalog, catalogLanguage, knownLanguages, knownModelIds, languageAliases, voiceCatalog, voiceIssues, listVoices } from '../lib/catalog';

const unlisted = '(set allowUnlistedSpeaker: true for a voice the bundled catalog does not list yet)';

describe('VoiceCatalog', () => {
  it('decodes { modelId: { lang: speaker[] } }', () => {
    const catalog = { mistv3: { eng: ['cove', 'luna'], spa: [] } };
    const decoded = VoiceCatalog.decode(catalog);
    expect(isRight(decoded) && decoded.right).toEqual(catalog);
  });

  it.each([
    ['a list of models', ['mistv3']],
    ['a model that is a list', { mistv3: ['cove'] }],
    ['speakers that are not a list', { mistv3: { eng: 'cove' } }],
    ['a speaker that is not a string', { mistv3: { eng: ['cove', 7] } }],
    ['null', null],
  ])('rejects %s', (_, input) => {
    expect(isLeft(VoiceCatalog.decode(input))).toBe(true);
  });
});

describe('voiceCatalog', () => {
  it('is the bundled JSON, decoded', () => {
    expect(voiceCatalog).toEqual(catalogJson);
    expect(voiceCatalog.mistv3?.eng).toContain('cove');
    expect(voiceCatalog.arcana?.heb).toEqual(['aviva', 'ori']);
  });

  it('knownModelIds are the models of the catalog, in catalog order', () => {
    expect(knownModelIds).toEqual(['mist', 'mistv2', 'arcana', 'mistv3', 'coda']);
  });

  it('knownLanguages are every language some model speaks, once each, in order of first appearance', () => {
    expect(knownLanguages).toEqual(['eng', 'spa', 'fra', 'ger', 'hin', 'ara', 'heb', 'jpn', 'por']);
  });

  it('every alias names a language of the catalog', () => {
    for (const [alias, lang] of Object.entries(languageAliases)) {
      expect([alias, knownLanguages.includes(lang)]).toEqual([alias, true]);
    }
  });
});

describe('catalogLanguage()', () => {
  it.each([
    ['eng', 'eng'],
    ['en', 'eng'],
    ['EN', 'eng'],
    ['Eng', 'eng'],
    ['es', 'spa'],
    ['fr', 'fra'],
    ['fre', 'fra'],
    ['de', 'ger'],
    ['deu', 'ger'],
    ['pt', 'por'],
    ['ja', 'jpn'],
    ['hi', 'hin'],
    ['ar', 'ara'],
    ['he', 'heb'],
    ['HEB', 'heb'],
  ])('%j -> %j', (code, expected) => {
    expect(catalogLanguage(code)).toBe(expected);
  });

  it.each(['zh', 'xx', '', ' eng', 'eng ', 'english', 'constructor', 'toString', '__proto__'])(
    '%j is no language of the catalog',
    (code) => {
      expect(catalogLanguage(code)).toBeUndefined();
    },
  );
});

describe('voiceIssues()', () => {
  it('finds nothing wrong with a voice the catalog lists', () => {
    expect(voiceIssues({ speaker: 'cove', modelId: 'mistv3', lang: 'eng' }, false)).toEqual([]);
    expect(voiceIssues({ speaker: 'diego', modelId: 'mistv3', lang: 'spa' }, false)).toEqual([]);
    expect(voiceIssues({ speaker: 'aviva', modelId: 'arcana', lang: 'heb' }, false)).toEqual([]);
  });

  it('leaves an unknown model to the modelId codec', () => {
    expect(voiceIssues({ speaker: 'nobody', modelId: 'mistv9', lang: 'xxx' }, false)).toEqual([]);
  });

  it('names the languages a model speaks when it does not speak the one asked for, even with allowUnlistedSpeaker', () => {
    const issue = 'Language jpn is not supported for model mistv3 (it speaks eng, spa, ger, fra)';
    expect(voiceIssues({ speaker: 'cove', modelId: 'mistv3', lang: 'jpn' }, false)).toEqual([issue]);
    expect(voiceIssues({ speaker: 'cove', modelId: 'mistv3', lang: 'jpn' }, true)).toEqual([issue]);
    expect(voiceIssues({ speaker: 'cove', modelId: 'mist', lang: 'spa' }, false)).toEqual([
      'Language spa is not supported for model mist (it speaks eng)',
    ]);
  });

  it('says which lang to set for a speaker of the model who speaks another language', () => {
    expect(voiceIssues({ speaker: 'diego', modelId: 'mistv3', lang: 'eng' }, false)).toEqual([
      'speaker "diego" speaks spa on mistv3, not eng: set lang to "spa"',
    ]);
    expect(voiceIssues({ speaker: 'jose', modelId: 'mistv3', lang: 'fra' }, false)).toEqual([
      'speaker "jose" speaks eng, spa on mistv3, not fra: set lang to "eng" or "spa"',
    ]);
  });

  it('suggests near speaker names, and uses "an" before a model that starts with a vowel', () => {
    expect(voiceIssues({ speaker: 'cvoe', modelId: 'mistv3', lang: 'eng' }, false)).toEqual([
      `speaker "cvoe" is not a mistv3 voice for eng; did you mean cove? ${unlisted}`,
    ]);
    expect(voiceIssues({ speaker: 'zzzzzzzzzz', modelId: 'mistv3', lang: 'eng' }, false)).toEqual([
      `speaker "zzzzzzzzzz" is not a mistv3 voice for eng ${unlisted}`,
    ]);
    expect(voiceIssues({ speaker: 'zzzzzzzzzz', modelId: 'arcana', lang: 'eng' }, false)).toEqual([
      `speaker "zzzzzzzzzz" is not an arcana voice for eng ${unlisted}`,
    ]);
  });

  it('suggests at most three speakers, nearest first, ties in alphabetical order', () => {
    const [issue] = voiceIssues({ speaker: 'stor', modelId: 'mistv3', lang: 'eng' }, false);
    expect(issue).toBe(`speaker "stor" is not a mistv3 voice for eng; did you mean storm, spore, stone? ${unlisted}`);
  });

  it('with allowUnlistedSpeaker, checks only the model and language', () => {
    expect(voiceIssues({ speaker: 'zzzzzzzzzz', modelId: 'mistv3', lang: 'eng' }, true)).toEqual([]);
    expect(voiceIssues({ speaker: 'diego', modelId: 'mistv3', lang: 'eng' }, true)).toEqual([]);
  });

  it('is case-sensitive about speakers, as the catalog is', () => {
    expect(voiceIssues({ speaker: 'Cove', modelId: 'mistv3', lang: 'eng' }, false)).toEqual([
      `speaker "Cove" is not a mistv3 voice for eng; did you mean cove, grove, jose? ${unlisted}`,
    ]);
  });

  it('treats a language or model named like an Object.prototype member ("constructor") as no entry of the catalog', () => {
    expect(voiceIssues({ speaker: 'cove', modelId: 'mistv3', lang: 'constructor' }, false)).toEqual([
      expect.stringMatching(/^Language constructor is not supported for model mistv3 \(it speaks /),
    ]);
    expect(voiceIssues({ speaker: 'cove', modelId: 'constructor', lang: 'eng' }, false)).toEqual([]);
    expect(voiceIssues({ speaker: 'cove', modelId: 'toString', lang: 'eng' }, false)).toEqual([]);
  });
});

describe('listVoices()', () => {
  it('lists every voice of the catalog, with its model and language', () => {
    const all = listVoices();
    const count = Object.values(voiceCatalog).reduce((sum, languages) => sum + Object.values(languages).reduce((n, speakers) => n + speakers.length, 0), 0);
    expect(all).toHaveLength(count);
    expect(all).toContainEqual({ speaker: 'cove', modelId: 'mistv3', lang: 'eng' });
  });

  it('filters by model, by language (2- or 3-letter, any case) and by a piece of the name (any case)', () => {
    const spanishCoda = listVoices({ modelId: 'coda', lang: 'es' });
    expect(spanishCoda.length).toBe(voiceCatalog.coda?.spa?.length);
    expect(spanishCoda.every((voice) => voice.modelId === 'coda' && voice.lang === 'spa')).toBe(true);
    expect(listVoices({ modelId: 'coda', lang: 'SPA' })).toEqual(spanishCoda);
    expect(listVoices({ name: 'ASTR' }).map((voice) => voice.speaker)).toEqual(expect.arrayContaining(['astra']));
    expect(listVoices({ name: 'astr' }).every((voice) => voice.speaker.includes('astr'))).toBe(true);
    expect(listVoices({ modelId: 'nope' })).toEqual([]);
  });
});
