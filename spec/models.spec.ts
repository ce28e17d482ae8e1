import * as E from 'fp-ts/Either';
import { decodeRimeOptions, decodeRimeQuery, parseRimeOptions, rimeUrl } from '../lib/options';
import { defaultSamplingRate, modelIssues } from '../lib/models';

/** A voice of each model in the bundled catalog, so only the rule under test can fail. */
const voices = { coda: 'astra', arcana: 'astra', mistv3: 'astra', mistv2: 'astra', mist: 'abbie' } as const;
type Model = keyof typeof voices;
const issuesOf = (modelId: Model, extra: Record<string, unknown>) => {
  const decoded = decodeRimeOptions({ speaker: voices[modelId], modelId, ...extra });
  return E.isLeft(decoded) ? (decoded.left.issues ?? []) : [];
};

describe("Rime's rules by model", () => {
  describe('samplingRate', () => {
    it.each([
      ['coda', 24000],
      ['arcana', 24000],
      ['mistv3', 22050],
      ['mistv2', 22050],
      ['mist', 22050],
    ] as const)('defaults to the model\'s own: %s %i', (modelId, rate) => {
      expect(parseRimeOptions({ speaker: voices[modelId], modelId }).samplingRate).toBe(rate);
      expect(defaultSamplingRate(modelId)).toBe(rate);
      expect(rimeUrl(parseRimeOptions({ speaker: voices[modelId], modelId })).searchParams.get('samplingRate')).toBe(String(rate));
    });

    it.each([8000, 16000, 22050, 24000, 44100, 48000, 96000])('coda takes %i', (rate) => {
      expect(issuesOf('coda', { samplingRate: rate })).toEqual([]);
    });

    it.each([4000, 12000, 23000, 32000, 88200])('coda refuses %i, naming its rates', (rate) => {
      expect(issuesOf('coda', { samplingRate: rate })).toEqual([`samplingRate must be one of 8000, 16000, 22050, 24000, 44100, 48000, 96000 on coda, got ${rate}`]);
    });

    it.each(['mistv3', 'mistv2', 'mist'] as const)('%s takes 4000 to 44100 and refuses 48000, not clamped', (modelId) => {
      expect(issuesOf(modelId, { samplingRate: 4000 })).toEqual([]);
      expect(issuesOf(modelId, { samplingRate: 12345 })).toEqual([]);
      expect(issuesOf(modelId, { samplingRate: 44100 })).toEqual([]);
      expect(issuesOf(modelId, { samplingRate: 48000 })).toEqual([`samplingRate must be an integer from 4000 to 44100 on ${modelId}, got 48000`]);
    });

    it('no model goes past 96000 or below 4000', () => {
      expect(issuesOf('coda', { samplingRate: 192000 })).toEqual(['samplingRate must be an integer from 4000 to 96000, got 192000']);
    });
  });

  // Each cell of the table: a value the model honours is accepted; one it does not is refused, naming the model and
  // what to use instead.
  const cells: [string, Record<string, unknown>, Record<Model, string | undefined>][] = [
    [
      'timeScaleFactor',
      { timeScaleFactor: 1.5 },
      {
        coda: undefined,
        arcana: undefined,
        mistv3: undefined,
        mistv2: 'timeScaleFactor is not for mistv2: it has no timeScaleFactor; use speedAlpha (on mistv2 and mist, above 1 is slower)',
        mist: 'timeScaleFactor is not for mist: it has no timeScaleFactor; use speedAlpha (on mistv2 and mist, above 1 is slower)',
      },
    ],
    [
      'inlineSpeedAlpha',
      { inlineSpeedAlpha: '0.5, 2' },
      {
        coda: 'inlineSpeedAlpha is not for coda: it has no inline speeds; use timeScaleFactor (above 1 is slower) for the whole text',
        arcana: 'inlineSpeedAlpha is not for arcana: it has no inline speeds; use timeScaleFactor (above 1 is slower) for the whole text',
        mistv3: undefined,
        mistv2: undefined,
        mist: undefined,
      },
    ],
    [
      'pauseBetweenBrackets',
      { pauseBetweenBrackets: true },
      { coda: 'pauseBetweenBrackets is not for coda: it has no custom pauses', arcana: 'pauseBetweenBrackets is not for arcana: it has no custom pauses', mistv3: undefined, mistv2: undefined, mist: undefined },
    ],
    [
      'phonemizeBetweenBrackets',
      { phonemizeBetweenBrackets: true },
      {
        coda: 'phonemizeBetweenBrackets is not for coda: it reads no phonemes (Rime ignores the flag); use mistv2 or mist for phonemes',
        arcana: 'phonemizeBetweenBrackets is not for arcana: it reads no phonemes (Rime ignores the flag); use mistv2 or mist for phonemes',
        mistv3: 'phonemizeBetweenBrackets is not for mistv3: it reads no phonemes (Rime ignores the flag); use mistv2 or mist for phonemes',
        mistv2: undefined,
        mist: undefined,
      },
    ],
    [
      'noTextNormalization',
      { noTextNormalization: true },
      {
        coda: 'noTextNormalization is not for coda: only mistv2 and mist read it',
        arcana: 'noTextNormalization is not for arcana: only mistv2 and mist read it',
        mistv3: 'noTextNormalization is not for mistv3: only mistv2 and mist read it',
        mistv2: undefined,
        mist: undefined,
      },
    ],
    ['speedAlpha', { speedAlpha: 1.3 }, { coda: undefined, arcana: undefined, mistv3: undefined, mistv2: undefined, mist: undefined }],
  ];
  describe.each(cells)('%s', (_, setting, expected) => {
    it.each(Object.keys(voices) as Model[])('on %s', (modelId) => {
      const issue = expected[modelId];
      expect(issuesOf(modelId, setting)).toEqual(issue === undefined ? [] : [issue]);
    });

    // The local server reads an upgrade's query string with decodeRimeQuery and refuses with 400 and these issues
    // (spec/server/createRimeServer.spec.ts checks the 400 itself): the same rules, from text.
    it.each(Object.keys(voices) as Model[])('on %s, from an upgrade\'s query string', (modelId) => {
      const issue = expected[modelId];
      const query = new URLSearchParams({ speaker: voices[modelId], modelId, ...Object.fromEntries(Object.entries(setting).map(([name, value]) => [name, String(value)])) });
      const decoded = decodeRimeQuery(query);
      expect(E.isLeft(decoded) ? decoded.left.issues : []).toEqual(issue === undefined ? [] : [issue]);
    });
  });

  it('a flag left off (false) is no setting: nothing to refuse', () => {
    expect(issuesOf('coda', { pauseBetweenBrackets: false, phonemizeBetweenBrackets: false, noTextNormalization: false })).toEqual([]);
  });

  it('the server reads the same rules from an upgrade\'s query string', () => {
    const query = new URLSearchParams({ speaker: 'astra', modelId: 'coda', samplingRate: '48000' });
    expect(E.isRight(decodeRimeQuery(query))).toBe(true);
    const bad = decodeRimeQuery(new URLSearchParams({ speaker: 'astra', modelId: 'mistv3', samplingRate: '48000' }));
    expect(E.isLeft(bad) && bad.left.issues).toEqual(['samplingRate must be an integer from 4000 to 44100 on mistv3, got 48000']);
    const coda = decodeRimeQuery(new URLSearchParams({ speaker: 'astra', modelId: 'coda' }));
    expect(E.isRight(coda) && coda.right.samplingRate).toBe(24000);
  });

  it('modelIssues leaves an unknown model to the modelId codec', () => {
    expect(modelIssues({ modelId: 'nope', samplingRate: 1, pauseBetweenBrackets: true, phonemizeBetweenBrackets: true })).toEqual([]);
  });
});

describe('regions', () => {
  it.each([
    ['us-west-2', 'ws', 'wss://users-ws.rime.ai/ws'],
    ['us-east-1', 'ws', 'wss://users-east-ws.rime.ai/ws'],
    ['us-east-1', 'ws3', 'wss://users-east-ws.rime.ai/ws3'],
  ] as const)('%s on %s is %s', (region, protocol, url) => {
    const options = parseRimeOptions({ speaker: 'cove', region, protocol });
    expect(`${rimeUrl(options).origin}${rimeUrl(options).pathname}`).toBe(url);
    expect(E.isRight(decodeRimeOptions(options))).toBe(true); // decoded options given again agree with themselves
  });

  it('a region and a url elsewhere contradict each other; an unknown region is refused', () => {
    const both = decodeRimeOptions({ speaker: 'cove', region: 'us-east-1', url: 'ws://localhost:8787/ws' });
    expect(E.isLeft(both) && both.left.issues).toEqual(['give url or region, not both: region us-east-1 is wss://users-east-ws.rime.ai, url names another endpoint']);
    const unknown = decodeRimeOptions({ speaker: 'cove', region: 'eu-west-1' });
    expect(E.isLeft(unknown) && unknown.left.issues).toEqual(['region must be one of us-west-2, us-east-1, got "eu-west-1"']);
  });
});
