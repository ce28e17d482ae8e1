/**
 * Rime's rules by model, as its docs give them (mid/late 2026): the sampling rates each model makes and its default,
 * and the parameters it does not honour. Arcana is served by Coda and follows Coda's rules. Where Rime accepts a
 * parameter and ignores it (phonemes on Coda and Mist v3), it is refused here all the same: a setting that does
 * nothing should not look as if it did.
 */

type Family = 'coda' | 'mistv3' | 'mistv2';

const families: Readonly<Record<string, Family>> = { coda: 'coda', arcana: 'coda', mistv3: 'mistv3', mistv2: 'mistv2', mist: 'mistv2' };

/** A flag or a value a model may not take, and what to say when it is set. */
type Settable = 'timeScaleFactor' | 'inlineSpeedAlpha' | 'pauseBetweenBrackets' | 'phonemizeBetweenBrackets' | 'noTextNormalization';

interface ModelRules {
  /** The rates it makes: a list, or a range of integers. */
  readonly samplingRates: readonly number[] | { readonly from: number; readonly to: number };
  readonly defaultSamplingRate: number;
  /** What it does not honour, and what to use instead. */
  readonly refuses: Readonly<Partial<Record<Settable, string>>>;
}

const NO_NORMALIZATION = 'only mistv2 and mist read it';

const rules: Readonly<Record<Family, ModelRules>> = {
  coda: {
    samplingRates: [8000, 16000, 22050, 24000, 44100, 48000, 96000],
    defaultSamplingRate: 24000,
    refuses: {
      inlineSpeedAlpha: 'it has no inline speeds; use timeScaleFactor (above 1 is slower) for the whole text',
      pauseBetweenBrackets: 'it has no custom pauses',
      phonemizeBetweenBrackets: 'it reads no phonemes (Rime ignores the flag); use mistv2 or mist for phonemes',
      noTextNormalization: NO_NORMALIZATION,
    },
  },
  mistv3: {
    samplingRates: { from: 4000, to: 44100 },
    defaultSamplingRate: 22050,
    refuses: {
      phonemizeBetweenBrackets: 'it reads no phonemes (Rime ignores the flag); use mistv2 or mist for phonemes',
      noTextNormalization: NO_NORMALIZATION,
    },
  },
  mistv2: {
    samplingRates: { from: 4000, to: 44100 },
    defaultSamplingRate: 22050,
    refuses: { timeScaleFactor: 'it has no timeScaleFactor; use speedAlpha (on mistv2 and mist, above 1 is slower)' },
  },
};

const rulesOf = (modelId: string): ModelRules | undefined => {
  const family = Object.hasOwn(families, modelId) ? families[modelId] : undefined;
  return family === undefined ? undefined : rules[family];
};

/** The sampling rate `modelId` makes when none is asked for (Coda: 24,000 Hz; the Mist models: 22,050). */
export function defaultSamplingRate(modelId: unknown): number | undefined {
  return typeof modelId === 'string' ? rulesOf(modelId)?.defaultSamplingRate : undefined;
}

const ratesText = (rates: ModelRules['samplingRates']) => ('from' in rates ? `an integer from ${rates.from} to ${rates.to}` : `one of ${rates.join(', ')}`);

/** What of `options` `options.modelId` does not take, one sentence each naming the model and what to do instead. */
export function modelIssues(options: {
  readonly modelId: string;
  readonly samplingRate: number;
  readonly pauseBetweenBrackets: boolean;
  readonly phonemizeBetweenBrackets: boolean;
  readonly inlineSpeedAlpha?: string;
  readonly noTextNormalization?: boolean;
  readonly timeScaleFactor?: number;
}): string[] {
  const model = rulesOf(options.modelId);
  if (model === undefined) return []; // an unknown model is reported by the modelId codec
  const { samplingRates } = model;
  const rateOk = 'from' in samplingRates ? options.samplingRate >= samplingRates.from && options.samplingRate <= samplingRates.to : samplingRates.includes(options.samplingRate);
  const set: Readonly<Record<Settable, boolean>> = {
    timeScaleFactor: options.timeScaleFactor !== undefined,
    inlineSpeedAlpha: options.inlineSpeedAlpha !== undefined,
    pauseBetweenBrackets: options.pauseBetweenBrackets,
    phonemizeBetweenBrackets: options.phonemizeBetweenBrackets,
    noTextNormalization: options.noTextNormalization === true,
  };
  return [
    ...(rateOk ? [] : [`samplingRate must be ${ratesText(samplingRates)} on ${options.modelId}, got ${options.samplingRate}`]),
    ...(Object.keys(set) as Settable[]).flatMap((name) => {
      const why = model.refuses[name];
      return set[name] && why !== undefined ? [`${name} is not for ${options.modelId}: ${why}`] : [];
    }),
  ];
}
