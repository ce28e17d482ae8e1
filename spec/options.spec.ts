import fc from 'fast-check';
import * as E from 'fp-ts/Either';
import { inspect } from 'node:util';
import { RimeError } from '../lib/errors';
import { DEFAULT_RIME_URL, type RimeOptions, decodeRimeOptions, decodeRimeQuery, parseRimeOptions, rimeUrl } from '../lib/options';
import { voiceCatalog } from '../lib/catalog';

const SECRET = 'sk-sentinel-0123456789abcdef';

function decoded(input: unknown): RimeOptions {
  const result = decodeRimeOptions(input);
  if (E.isLeft(result)) throw new Error(`expected a valid decode, got: ${result.left.message}`);
  return result.right;
}

function failure(input: unknown): RimeError {
  const result = decodeRimeOptions(input);
  if (E.isRight(result)) throw new Error('expected a decode failure');
  return result.left;
}

describe('parseRimeOptions(): the same check without fp-ts', () => {
  it('returns the decoded options, or throws the RimeError decodeRimeOptions would return', () => {
    expect(parseRimeOptions({ speaker: 'cove', audioFormat: 'pcm' })).toEqual(decoded({ speaker: 'cove', audioFormat: 'pcm' }));
    let thrown: unknown;
    try {
      parseRimeOptions({ speaker: 'cov', samplingRate: 48000 });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(RimeError);
    expect(thrown).toEqual(failure({ speaker: 'cov', samplingRate: 48000 }));
    expect((thrown as RimeError).issues).toHaveLength(2);
  });
});

describe('decodeRimeOptions()', () => {
  it('fills every default', () => {
    expect(decoded({ speaker: 'cove' })).toEqual({
      speaker: 'cove',
      modelId: 'mistv3',
      audioFormat: 'mp3',
      lang: 'eng',
      pauseBetweenBrackets: false,
      phonemizeBetweenBrackets: false,
      samplingRate: 22050,
      speedAlpha: 1.0,
      segment: 'bySentence',
      protocol: 'ws',
      url: DEFAULT_RIME_URL,
      allowUnlistedSpeaker: false,
    });
  });

  it('keeps every option given, including the documented extras', () => {
    // mistv2 takes them all (phonemes, no normalization) but timeScaleFactor, which mistv3 takes.
    const options = {
      speaker: 'sofia',
      modelId: 'mistv3',
      audioFormat: 'pcm',
      lang: 'spa',
      pauseBetweenBrackets: true,
      phonemizeBetweenBrackets: false,
      samplingRate: 16000,
      speedAlpha: 1.2,
      segment: 'never',
      inlineSpeedAlpha: '0.5, 3',
      timeScaleFactor: 0.85,
      protocol: 'ws3',
      url: 'ws://127.0.0.1:8787/ws3',
      apiKey: SECRET,
      allowUnlistedSpeaker: false,
    };
    expect(decoded(options)).toEqual(options);
    const mistv2 = { ...options, modelId: 'mistv2', speaker: 'astra', lang: 'eng', phonemizeBetweenBrackets: true, noTextNormalization: true, timeScaleFactor: undefined };
    const { timeScaleFactor: _absent, ...expected } = mistv2;
    expect(decoded(expected)).toEqual(expected);
  });

  it.each([
    ['en', 'eng'],
    ['ES', 'spa'],
    ['de', 'ger'],
    ['deu', 'ger'],
    ['fr', 'fra'],
    ['fra', 'fra'],
  ])('accepts the language code %j as %j', (lang, expected) => {
    const speaker = { eng: 'cove', spa: 'sofia', ger: 'klaus', fra: 'simone' }[expected];
    expect(decoded({ speaker, lang }).lang).toBe(expected);
  });

  it.each([
    [{ samplingRate: 48000 }, 'samplingRate must be an integer from 4000 to 44100 on mistv3, got 48000'],
    [{ samplingRate: 16000.5 }, 'samplingRate must be an integer from 4000 to 96000, got 16000.5'],
    [{ samplingRate: '16000' }, 'samplingRate must be an integer from 4000 to 96000, got "16000"'],
    [{ speedAlpha: 0 }, 'speedAlpha must be a finite number greater than 0, got 0'],
    [{ speedAlpha: Infinity }, 'speedAlpha must be a finite number greater than 0, got Infinity'],
    [{ speedAlpha: NaN }, 'speedAlpha must be a finite number greater than 0, got NaN'],
    [{ audioFormat: 'wav' }, 'audioFormat must be one of mp3, mulaw, pcm, got "wav"'],
    [{ segment: 'sentence' }, 'segment must be one of immediate, never, bySentence, got "sentence"'],
    [{ modelId: 'mistv9' }, 'modelId must be one of mist, mistv2, arcana, mistv3, coda, got "mistv9"'],
    [{ pauseBetweenBrackets: 'yes' }, 'pauseBetweenBrackets must be true or false, got "yes"'],
    [{ timeScaleFactor: 3 }, 'timeScaleFactor must be a number from 0.4 to 2.5, got 3'],
    [{ inlineSpeedAlpha: '0.5, fast' }, 'inlineSpeedAlpha must be a comma-separated list of positive numbers, like "0.5, 3", got "0.5, fast"'],
    [{ url: 'https://users.rime.ai/ws' }, 'url must be a ws:// or wss:// URL without credentials, got "https://users.rime.ai/ws"'],
    [{ lang: 'xx' }, 'lang must be a language code: eng (en), spa (es), fra (fr), ger (de), hin (hi), ara (ar), heb (he), jpn (ja), por (pt), got "xx"'],
    [{ speaker: 'two words' }, 'speaker must be a voice name (letters, digits, "_", "-" or ".", at most 64), got "two words"'],
    [{ speaker: undefined }, 'speaker is required'],
  ])('names the field, the value and what is allowed: %j', (override, message) => {
    expect(failure({ speaker: 'cove', ...override }).issues).toEqual([message]);
  });

  it('never shows the credentials of a URL it rejects', () => {
    expect(failure({ speaker: 'cove', url: 'ws://user:pass@127.0.0.1/ws' }).issues).toEqual([
      'url must be a ws:// or wss:// URL without credentials, got "ws://***:***@127.0.0.1/ws"',
    ]);
  });

  it('reports every problem at once', () => {
    const error = failure({ speaker: 'cove', samplingRate: 48000, audioFormat: 'wav', sampleRate: 8000, speedAlpha: -1 });
    expect(error).toBeInstanceOf(RimeError);
    expect(error.kind).toBe('invalid-options');
    expect(error.retryable).toBe(false);
    expect(error.issues).toHaveLength(4);
    expect(error.message).toMatch(/^Invalid Rime options:\n {2}- /);
  });

  it('rejects unknown keys with a did-you-mean hint', () => {
    expect(failure({ speaker: 'cove', sampleRate: 8000 }).issues).toEqual([
      'sampleRate is not a Rime option; did you mean samplingRate?',
    ]);
    expect(failure({ voice: 'cove' }).issues).toEqual(['voice is not a Rime option; did you mean speaker?', 'speaker is required']);
    expect(failure({ speaker: 'cove', format: 'pcm' }).issues).toEqual(['format is not a Rime option; did you mean audioFormat?']);
    expect(failure({ speaker: 'cove', speedalpha: 2 }).issues).toEqual(['speedalpha is not a Rime option; did you mean speedAlpha?']);
    expect(failure({ speaker: 'cove', zzzzzz: 1 }).issues).toEqual(['zzzzzz is not a Rime option']);
  });

  it('rejects input that is not an object', () => {
    for (const input of [null, undefined, 'cove', 42, ['cove']]) {
      expect(failure(input).issues?.[0]).toMatch(/^options must be an object, got /);
    }
  });

  describe('the voice catalog', () => {
    it('suggests the nearest speakers of that model and language', () => {
      expect(failure({ speaker: 'cov' }).issues).toEqual([
        'speaker "cov" is not a mistv3 voice for eng; did you mean cove? ' +
          '(set allowUnlistedSpeaker: true for a voice the bundled catalog does not list yet)',
      ]);
    });

    it("says 'an' before a model that starts with a vowel", () => {
      expect(failure({ speaker: 'cov', modelId: 'arcana' }).issues?.[0]).toMatch(/^speaker "cov" is not an arcana voice for eng/);
    });

    it('says which language a speaker of another language speaks', () => {
      expect(failure({ speaker: 'sofia' }).issues).toEqual(['speaker "sofia" speaks spa on mistv3, not eng: set lang to "spa"']);
    });

    it('rejects a language the model does not speak, in Rime\'s words', () => {
      expect(failure({ speaker: 'cove', lang: 'jpn' }).issues).toEqual([
        'Language jpn is not supported for model mistv3 (it speaks eng, spa, ger, fra)',
      ]);
      expect(decoded({ speaker: 'yukiko', allowUnlistedSpeaker: true, modelId: 'arcana', lang: 'ja' }).lang).toBe('jpn');
    });

    it('checks the voice even when other fields fail', () => {
      expect(failure({ speaker: 'cov', samplingRate: 1 }).issues).toHaveLength(2);
    });

    it('lets allowUnlistedSpeaker pass a speaker the catalog does not list, but not a wrong language', () => {
      expect(decoded({ speaker: 'brand-new-voice', allowUnlistedSpeaker: true }).speaker).toBe('brand-new-voice');
      expect(failure({ speaker: 'brand-new-voice', allowUnlistedSpeaker: true, lang: 'hin' }).issues?.[0]).toMatch(
        /^Language hin is not supported for model mistv3/,
      );
    });

    it('accepts every speaker the catalog lists, for its model and language', () => {
      for (const [modelId, languages] of Object.entries(voiceCatalog)) {
        for (const [lang, speakers] of Object.entries(languages)) {
          for (const speaker of speakers) expect(E.isRight(decodeRimeOptions({ speaker, modelId, lang }))).toBe(true);
        }
      }
    });
  });

  describe('the API key', () => {
    it('never appears in an error, its issues or its inspection', () => {
      const errors = [
        failure({ speaker: 'cove', apiKey: `${SECRET} with spaces` }),
        failure({ speaker: 'cove', apiKey: ` ${SECRET}`, samplingRate: 1 }),
        failure({ speaker: 'cove', apikey: SECRET }),
        failure({ speaker: 'cove', api_key: SECRET, key: SECRET, token: SECRET, authorization: `Bearer ${SECRET}` }),
      ];
      for (const error of errors) {
        expect(inspect(error, { depth: Infinity, showHidden: true })).not.toContain('sk-sentinel');
        expect(JSON.stringify(error)).not.toContain('sk-sentinel');
        expect(error.stack).not.toContain('sk-sentinel');
      }
      expect(errors[0]?.issues).toEqual(['apiKey must be a non-empty string without whitespace, got a string (not shown)']);
    });
  });
});

describe('rimeUrl()', () => {
  it('puts every synthesis parameter in the query, and nothing else', () => {
    const url = rimeUrl(decoded({ speaker: 'cove', apiKey: SECRET, audioFormat: 'pcm', samplingRate: 16000 }));
    expect(url.href).toBe(
      'wss://users-ws.rime.ai/ws?speaker=cove&modelId=mistv3&audioFormat=pcm&lang=eng&pauseBetweenBrackets=false' +
        '&phonemizeBetweenBrackets=false&samplingRate=16000&speedAlpha=1&segment=bySentence',
    );
    expect(url.href).not.toContain('sk-sentinel');
  });

  it('encodes values that need it', () => {
    const url = rimeUrl(decoded({ speaker: 'astra', modelId: 'mistv2', inlineSpeedAlpha: '0.5, 3', noTextNormalization: true }));
    expect(url.search).toContain('inlineSpeedAlpha=0.5%2C+3');
    expect(url.searchParams.get('inlineSpeedAlpha')).toBe('0.5, 3');
    expect(url.searchParams.get('noTextNormalization')).toBe('true');
  });

  it('keeps the endpoint given, path and port included', () => {
    const url = rimeUrl(decoded({ speaker: 'cove', url: 'ws://127.0.0.1:9000/custom/ws' }));
    expect(`${url.origin}${url.pathname}`).toBe('ws://127.0.0.1:9000/custom/ws');
  });

  it('round-trips through decodeRimeQuery, as a server reads it', () => {
    const speakers = Object.entries(voiceCatalog.mistv3 ?? {}).flatMap(([lang, names]) => names.map((speaker) => ({ lang, speaker })));
    const options = fc.record(
      {
        voice: fc.constantFrom(...speakers),
        audioFormat: fc.constantFrom('mp3', 'mulaw', 'pcm'),
        pauseBetweenBrackets: fc.boolean(),
        samplingRate: fc.integer({ min: 4000, max: 44100 }),
        speedAlpha: fc.double({ min: 0.01, max: 10, noNaN: true }),
        segment: fc.constantFrom('immediate', 'never', 'bySentence'),
        timeScaleFactor: fc.double({ min: 0.4, max: 2.5, noNaN: true }),
        inlineSpeedAlpha: fc.array(fc.integer({ min: 1, max: 50 }).map((n) => String(n / 10)), { minLength: 1 }).map((v) => v.join(', ')),
      },
      { requiredKeys: ['voice'] },
    );
    fc.assert(
      fc.property(options, ({ voice, ...rest }) => {
        const { url, allowUnlistedSpeaker, apiKey, protocol, region, ...query } = decoded({ ...voice, ...rest });
        expect(decodeRimeQuery(rimeUrl({ url, allowUnlistedSpeaker, protocol, ...query }).searchParams)).toEqual(E.right(query));
      }),
    );
  });
});

describe('decodeRimeQuery()', () => {
  const query = (search: string) => decodeRimeQuery(new URLSearchParams(search));

  it('parameters named like Object.prototype members are unknown parameters, not a TypeError', () => {
    const result = query('speaker=cove&__proto__=x&hasOwnProperty=1&valueOf=2&constructor=3');
    expect(E.isLeft(result) && result.left.issues).toEqual([
      expect.stringMatching(/^__proto__ is not a Rime query parameter/),
      expect.stringMatching(/^hasOwnProperty is not a Rime query parameter/),
      expect.stringMatching(/^valueOf is not a Rime query parameter/),
      expect.stringMatching(/^constructor is not a Rime query parameter/),
    ]);
  });

  it('turns strings into the values the codecs expect', () => {
    expect(query('speaker=cove&samplingRate=8000&speedAlpha=1.5&pauseBetweenBrackets=True&lang=en')).toEqual(
      E.right(expect.objectContaining({ samplingRate: 8000, speedAlpha: 1.5, pauseBetweenBrackets: true, lang: 'eng' })),
    );
  });

  it('reports what it got as text', () => {
    const result = query('speaker=cove&samplingRate=fast&phonemizeBetweenBrackets=1');
    expect(E.isLeft(result) && result.left.issues).toEqual([
      'phonemizeBetweenBrackets must be true or false, got "1"',
      'samplingRate must be an integer from 4000 to 96000, got "fast"',
    ]);
  });

  it('refuses what is not a query parameter, the API key included, and repeated parameters', () => {
    const result = query(`speaker=cove&speaker=dew&apiKey=${SECRET}&url=ws://x`);
    expect(E.isLeft(result) && result.left.issues).toEqual([
      'speaker is given more than once',
      'apiKey is not a Rime query parameter',
      'url is not a Rime query parameter',
    ]);
    expect(E.isLeft(result) && inspect(result.left)).not.toContain('sk-sentinel');
  });

  it('says "speaker is required" as Rime does', () => {
    const result = query('modelId=mistv3');
    expect(E.isLeft(result) && result.left.issues).toEqual(['speaker is required']);
  });
});

describe('protocol and url', () => {
  it("a url on the other protocol's path is refused, saying where the protocol is served", () => {
    const plainPath = decodeRimeOptions({ speaker: 'cove', protocol: 'ws3', url: 'ws://127.0.0.1:8787/ws' });
    expect(E.isLeft(plainPath) && plainPath.left.issues).toEqual(['url ends in /ws, the path of the other protocol: protocol ws3 is served on /ws3']);
    const jsonPath = decodeRimeOptions({ speaker: 'cove', url: 'ws://127.0.0.1:8787/ws3' });
    expect(E.isLeft(jsonPath) && jsonPath.left.issues).toEqual(['url ends in /ws3, the path of the other protocol: protocol ws is served on /ws']);
    expect(E.isRight(decodeRimeOptions({ speaker: 'cove', protocol: 'ws3', url: 'ws://127.0.0.1:8787/proxy/rime' }))).toBe(true);
  });
});
