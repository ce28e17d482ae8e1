import * as t from 'io-ts';
import * as E from 'fp-ts/Either';
import { pipe as flow } from 'fp-ts/function';
import { catalogLanguage, knownLanguages, knownModelIds, languageAliases, voiceIssues } from './catalog';
import { described, isNumberIn, isRecord, numberFromText, positiveNumber, showValue } from './codecs';
import { RimeError } from './errors';
import { type FieldTable, type FromText, type Input, defaulted, fieldIssues, optional, required, tableCodec } from './fields';
import { defaultSamplingRate, modelIssues } from './models';
import { nearest } from './nearest';
import { jsonWire } from './protocol/json';
import { plainWire } from './protocol/plain';
import { RIME_ORIGIN, RIME_REGIONS, type RimeRegion } from './protocol/rules';

/** Rime's plain websocket endpoint. */
export const DEFAULT_RIME_URL = `${RIME_ORIGIN}${plainWire.path}`;

/** Rime's endpoint for each protocol: `ws`, the plain one (`/ws`), and `ws3`, the JSON one (`/ws3`). */
export const RIME_URLS = { ws: DEFAULT_RIME_URL, ws3: `${RIME_ORIGIN}${jsonWire.path}` } as const;
export type ProtocolName = keyof typeof RIME_URLS;

const oneOf = <K extends string>(values: readonly K[]) =>
  described(`one of ${values.join(', ')}`, (u): u is K => typeof u === 'string' && (values as readonly string[]).includes(u));

const Flag = described('true or false', (u): u is boolean => typeof u === 'boolean');

const Speaker = described(
  'a voice name (letters, digits, "_", "-" or ".", at most 64)',
  (u): u is string => typeof u === 'string' && /^[A-Za-z0-9_.-]{1,64}$/.test(u),
);

const ModelId = oneOf(knownModelIds);

/** Accepts Rime's 2- and 3-letter codes and decodes to the catalog's 3-letter code (`en` -> `eng`). */
const Lang = new t.Type<string, string, unknown>(
  `a language code: ${knownLanguages
    .map((lang) => {
      const short = Object.keys(languageAliases).find((alias) => alias.length === 2 && languageAliases[alias] === lang);
      return short === undefined ? lang : `${lang} (${short})`;
    })
    .join(', ')}`,
  (u): u is string => typeof u === 'string' && knownLanguages.includes(u),
  (u, c) => {
    const lang = typeof u === 'string' ? catalogLanguage(u) : undefined;
    return lang === undefined ? t.failure(u, c) : t.success(lang);
  },
  t.identity,
);

/** Any rate some model makes; which ones a model makes is its rule (`models.ts`). */
const SamplingRate = described('an integer from 4000 to 96000', isNumberIn(4000, 96000, true));
const SpeedAlpha = positiveNumber();
const TimeScaleFactor = described('a number from 0.4 to 2.5', isNumberIn(0.4, 2.5, false));
const InlineSpeedAlpha = described(
  'a comma-separated list of positive numbers, like "0.5, 3"',
  (u): u is string =>
    typeof u === 'string' &&
    u.split(',').every((part) => /^\s*(\d+\.?\d*|\.\d+)\s*$/.test(part) && Number(part) > 0),
);

/** A URL as a message may show it: user and password blanked. */
function withoutCredentials(value: unknown): unknown {
  if (typeof value !== 'string' || !URL.canParse(value)) return value;
  const url = new URL(value);
  if (url.username === '' && url.password === '') return value;
  url.username = url.username === '' ? '' : '***';
  url.password = url.password === '' ? '' : '***';
  return url.href;
}

const WsUrl = described('a ws:// or wss:// URL without credentials', (u): u is string => {
  if (typeof u !== 'string' || !URL.canParse(u)) return false;
  const url = new URL(u);
  return (url.protocol === 'ws:' || url.protocol === 'wss:') && url.username === '' && url.password === '';
});

/** What an API key may look like: it travels in an HTTP header. */
export const ApiKey = described(
  'a non-empty string without whitespace',
  (u): u is string => typeof u === 'string' && /^[\x21-\x7e]+$/.test(u),
);

const asNumber: FromText = numberFromText;
const asFlag: FromText = (value) => {
  const lower = value.toLowerCase();
  return lower === 'true' ? true : lower === 'false' ? false : value;
};

/** Rime's query parameters: the synthesis, exactly what Rime reads from the query string, in the URL's order. */
export const rimeQueryFields = {
  /** The voice: a name from the catalog for the model and language. Required. */
  speaker: required(Speaker, { doc: 'the voice, from the catalog of the model and language', query: true, flag: { name: 'speaker', value: 'NAME' } }),
  /** The model (default `mistv3`). */
  modelId: defaulted(ModelId, 'mistv3', { doc: 'the model', query: true, flag: { name: 'model', value: 'ID' } }),
  /** The audio: mp3, mu-law, or pcm (16-bit signed little-endian mono). Default `mp3`. */
  audioFormat: defaulted(oneOf(['mp3', 'mulaw', 'pcm'] as const), 'mp3', { doc: 'the audio: pcm is 16-bit signed little-endian mono', query: true }),
  /** The language, a 2- or 3-letter code, decoded to the catalog's 3-letter one (default `eng`). */
  lang: defaulted(Lang, 'eng', { doc: "the language; a 2-letter code is decoded to the catalog's 3-letter one", query: true, flag: { name: 'lang', value: 'CODE' } }),
  /** `<200>` in the text is a 200 ms pause (default false). */
  pauseBetweenBrackets: defaulted(Flag, false, { doc: '`<200>` in the text is a 200 ms pause', query: true, fromText: asFlag, flag: { name: 'pause-between-brackets' } }),
  /** `{h'El.o}` in the text is spoken from its phonemes (default false). */
  phonemizeBetweenBrackets: defaulted(Flag, false, {
    doc: "`{h'El.o}` in the text is spoken from its phonemes",
    query: true,
    fromText: asFlag,
    flag: { name: 'phonemize-between-brackets' },
  }),
  /** Samples per second of the audio (default the model's: 24000 on coda and arcana, 22050 on the Mist models). */
  samplingRate: defaulted(SamplingRate, 22050, {
    doc: "samples per second of the audio; which rates a model makes is its rule (coda: 8000, 16000, 22050, 24000, 44100, 48000, 96000; the Mist models: 4000 to 44100)",
    defaultDoc: "the model's: `24000` on coda and arcana, `22050` on the Mist models",
    query: true,
    fromText: asNumber,
    flag: { name: 'sampling-rate', value: 'HZ' },
  }),
  /** The speed: above 1 is faster on mistv3 (default 1). */
  speedAlpha: defaulted(SpeedAlpha, 1.0, { doc: 'the speed: above 1 is faster on mistv3', query: true, fromText: asNumber, flag: { name: 'speed', value: 'X' } }),
  /**
   * When Rime synthesizes: at each sentence (`bySentence`, Rime's default), each text as it comes (`immediate`), or
   * only at a flush (`never`). Left unset, `rimeTts()` asks for `never` and flushes each segment.
   */
  segment: defaulted(oneOf(['immediate', 'never', 'bySentence'] as const), 'bySentence', {
    doc: 'when Rime synthesizes: at each sentence, each text as it comes, or only at a flush',
    defaultDoc: "`bySentence` (Rime's default; `rimeTts()` left unset asks for `never` and flushes each segment)",
    query: true,
    flag: { name: 'segment', value: 'MODE' },
  }),
  /** Speeds of the `[bracketed]` words, in order (sent only when given). */
  inlineSpeedAlpha: optional(InlineSpeedAlpha, { doc: 'speeds of the `[bracketed]` words, in order', defaultDoc: 'not sent', query: true, flag: { name: 'inline-speed-alpha', value: 'LIST' } }),
  /** Speak the text as written: no expansion of numbers, dates, abbreviations (sent only when given). */
  noTextNormalization: optional(Flag, {
    doc: 'speak the text as written: no expansion of numbers, dates, abbreviations',
    defaultDoc: 'not sent',
    query: true,
    fromText: asFlag,
    flag: { name: 'no-text-normalization' },
  }),
  /** Time stretch: above 1 is slower (sent only when given). */
  timeScaleFactor: optional(TimeScaleFactor, { doc: 'time stretch: above 1 is slower', defaultDoc: 'not sent', query: true, fromText: asNumber, flag: { name: 'time-scale-factor', value: 'X' } }),
};

/** Options that shape the connection but never travel in the query string. */
export const rimeClientFields = {
  /**
   * Rime's protocol: `ws`, the plain one of the contract page (the default), or `ws3`, the JSON one: word
   * timestamps, interruption without a reconnect, retries that replay only what Rime has not finished.
   */
  protocol: defaulted(oneOf(['ws', 'ws3'] as const), 'ws', {
    doc: "Rime's protocol: `ws`, the plain one, or `ws3`, the JSON one (word timestamps, interruption without a reconnect)",
    flag: { name: 'protocol', value: 'P' },
  }),
  /** Rime's region: `us-west-2` (`users-ws.rime.ai`, the default) or `us-east-1` (`users-east-ws.rime.ai`). */
  region: optional(oneOf(Object.keys(RIME_REGIONS) as RimeRegion[]), {
    doc: "Rime's region: its endpoint there for the protocol (not with `url`)",
    defaultDoc: '`us-west-2` (`users-ws.rime.ai`)',
    flag: { name: 'region', value: 'R' },
  }),
  /** The websocket endpoint (default Rime's in the region for the protocol: `wss://users-ws.rime.ai/ws`, or `/ws3`). */
  url: defaulted(WsUrl, DEFAULT_RIME_URL, {
    doc: 'the websocket endpoint',
    defaultDoc: "Rime's in the region, for the protocol: `wss://users-ws.rime.ai/ws`, or `/ws3` with `protocol: 'ws3'`",
    shown: withoutCredentials,
    flag: { name: 'url', value: 'URL' },
  }),
  /** Let a speaker the bundled catalog does not list yet through (the language must still be the model's). Default false. */
  allowUnlistedSpeaker: defaulted(Flag, false, {
    doc: "let a speaker the bundled catalog does not list yet through (the language must still be the model's)",
    flag: { name: 'allow-unlisted-speaker' },
  }),
  /** The API key, sent only as `Authorization: Bearer <key>`; `rimeTts()` falls back to `RIME_API_KEY`. */
  apiKey: optional(ApiKey, {
    doc: 'the API key, sent only as `Authorization: Bearer <key>`',
    defaultDoc: 'none here (`rimeTts()` falls back to `RIME_API_KEY`)',
    secret: true,
  }),
};

/** Every option of a connection to Rime: the query's and the client's. */
export const rimeFields = { ...rimeQueryFields, ...rimeClientFields };

/** Synthesis parameters, exactly those Rime reads from the query string. */
export const RimeQueryOptions = tableCodec(rimeQueryFields);
export type RimeQueryOptions = t.TypeOf<typeof RimeQueryOptions>;

/** Everything a connection to Rime needs: the synthesis parameters plus endpoint, credentials and catalog policy. */
export const RimeOptions = tableCodec(rimeFields);
export type RimeOptions = t.TypeOf<typeof RimeOptions>;

/** Connection options as a caller writes them: `speaker` required, everything else defaulted or left out. */
export interface RimeOptionsInput extends Input<typeof rimeFields> {}

export type AudioFormat = RimeQueryOptions['audioFormat'];
export type Segment = RimeQueryOptions['segment'];

/** Names people (and other SDKs) use for our options. */
const commonMisnames: Readonly<Record<string, string>> = {
  voice: 'speaker',
  voiceId: 'speaker',
  model: 'modelId',
  format: 'audioFormat',
  language: 'lang',
  sampleRate: 'samplingRate',
  sample_rate: 'samplingRate',
  speed: 'speedAlpha',
};

function unknownFieldIssue(field: string, known: readonly string[], noun: string): string {
  const misname = Object.hasOwn(commonMisnames, field) ? commonMisnames[field] : undefined;
  const guess = misname !== undefined && known.includes(misname) ? misname : nearest(field, known, 1)[0];
  return `${field} is not a Rime ${noun}${guess === undefined ? '' : `; did you mean ${guess}?`}`;
}

/** Decodes `input` with `codec`, then checks unknown keys and the voice catalog, reporting every problem at once. */
function decodeWith<C extends typeof RimeQueryOptions | typeof RimeOptions>(
  codec: C,
  known: readonly string[],
  noun: string,
  given: unknown,
  allowUnlistedSpeaker: boolean,
): E.Either<RimeError, t.TypeOf<C>> {
  if (!isRecord(given)) return E.left(RimeError.invalidOptions([`options must be an object, got ${showValue(given)}`]));
  // The sampling rate defaults to the model's own.
  const modelRate = given['samplingRate'] === undefined ? defaultSamplingRate(given['modelId'] ?? rimeQueryFields.modelId.fallback) : undefined;
  const input = modelRate === undefined ? given : { ...given, samplingRate: modelRate };
  const unknownIssues = Object.keys(input)
    .filter((key) => !known.includes(key))
    .map((key) => unknownFieldIssue(key, known, noun));
  const decoded = codec.decode(input) as E.Either<t.Errors, t.TypeOf<C>>;
  const issues = flow(
    decoded,
    E.match(
      (errors) => [...unknownIssues, ...fieldIssues(errors, rimeFields, input), ...voiceIssuesOfRaw(input, allowUnlistedSpeaker), ...modelIssuesOfRaw(input)],
      (options) => [...unknownIssues, ...voiceIssues(options, allowUnlistedSpeaker), ...modelIssues(options)],
    ),
  );
  return issues.length === 0 ? (decoded as E.Either<never, t.TypeOf<C>>) : E.left(RimeError.invalidOptions(issues));
}

/** The model's rules for input whose other fields failed: checked when the fields they read decode on their own. */
function modelIssuesOfRaw(input: Readonly<Record<string, unknown>>): string[] {
  const { modelId, samplingRate, pauseBetweenBrackets, phonemizeBetweenBrackets, inlineSpeedAlpha, noTextNormalization, timeScaleFactor } = rimeQueryFields;
  const fields = tableCodec({ modelId, samplingRate, pauseBetweenBrackets, phonemizeBetweenBrackets, inlineSpeedAlpha, noTextNormalization, timeScaleFactor });
  return flow(
    fields.decode(input),
    E.match(
      () => [],
      (decoded) => modelIssues(decoded),
    ),
  );
}

/** The catalog check for input whose other fields failed: run it when the three voice fields decode on their own. */
function voiceIssuesOfRaw(input: Readonly<Record<string, unknown>>, allowUnlistedSpeaker: boolean): string[] {
  const { speaker, modelId, lang } = rimeQueryFields;
  const voice = tableCodec({ speaker, modelId, lang });
  return flow(
    voice.decode(input),
    E.match(
      () => [],
      (decoded) => voiceIssues(decoded, allowUnlistedSpeaker),
    ),
  );
}

const rimeOptionNames = Object.keys(rimeFields);
const queryNames = Object.keys(rimeQueryFields);

/**
 * Decodes connection options supplied by code: fills defaults, normalises the language code, checks the speaker
 * against the bundled catalog, and rejects unknown keys. Every problem is reported at once, each naming the field,
 * the value received and what is allowed; the API key is never echoed.
 *
 * @example
 * decodeRimeOptions({ speaker: 'cove', samplingRate: 48000 })
 * // Left(RimeError: Invalid Rime options: samplingRate must be an integer from 4000 to 44100, got 48000)
 */
export function decodeRimeOptions(input: unknown): E.Either<RimeError, RimeOptions> {
  if (!isRecord(input)) return decodeWith(RimeOptions, rimeOptionNames, 'option', input, false);
  // The endpoint defaults to Rime's in the region, for the protocol (either, if not one, is reported as such).
  const { url, region, protocol } = input;
  const origin = typeof region === 'string' && Object.hasOwn(RIME_REGIONS, region) ? RIME_REGIONS[region as RimeRegion] : RIME_ORIGIN;
  // Both may be given when they agree (options decoded before, given again); a url elsewhere is a contradiction.
  if (url !== undefined && region !== undefined && !(typeof url === 'string' && url.startsWith(`${origin}/`))) {
    return E.left(RimeError.invalidOptions([`give url or region, not both: region ${String(region)} is ${origin}, url names another endpoint`]));
  }
  const path = protocol === 'ws3' ? jsonWire.path : plainWire.path;
  // A url on the other protocol's path is a mistake that would fail only later, and confusingly (a timeout).
  const other = protocol === 'ws3' ? plainWire.path : jsonWire.path;
  if (typeof url === 'string' && URL.canParse(url) && new URL(url).pathname === other) {
    return E.left(RimeError.invalidOptions([`url ends in ${other}, the path of the other protocol: protocol ${protocol === 'ws3' ? 'ws3' : 'ws'} is served on ${path}`]));
  }
  const withUrl = url === undefined ? { ...input, url: `${origin}${path}` } : input;
  return decodeWith(RimeOptions, rimeOptionNames, 'option', withUrl, input['allowUnlistedSpeaker'] === true);
}

/**
 * {@link decodeRimeOptions} for code that does not use fp-ts: the options, or a thrown `RimeError` of kind
 * `invalid-options` with every problem in `issues`.
 *
 * @example
 * rimeUrl(parseRimeOptions({ speaker: 'cove', audioFormat: 'pcm' })).href
 */
export function parseRimeOptions(input: unknown): RimeOptions {
  const decoded = decodeRimeOptions(input);
  if (E.isLeft(decoded)) throw decoded.left;
  return decoded.right;
}

/**
 * Decodes the query string of a websocket upgrade, as a Rime-compatible server reads it: the same codecs as
 * {@link decodeRimeOptions}, after turning `"true"`/`"false"` and numeric strings into booleans and numbers.
 * Only query parameters are accepted; a repeated parameter is an error.
 */
export function decodeRimeQuery(
  params: URLSearchParams,
  policy: { readonly allowUnlistedSpeaker?: boolean } = {},
): E.Either<RimeError, RimeQueryOptions> {
  // No prototype: a parameter named `__proto__`, `valueOf` or `hasOwnProperty` is a name like any other.
  const input: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
  const repeated = new Set<string>();
  for (const [name, value] of params) {
    if (Object.hasOwn(input, name)) repeated.add(name);
    const field: FieldTable[string] | undefined = Object.hasOwn(rimeQueryFields, name) ? (rimeQueryFields as FieldTable)[name] : undefined;
    input[name] = field?.fromText?.(value) ?? value;
  }
  const decoded = decodeWith(RimeQueryOptions, queryNames, 'query parameter', input, policy.allowUnlistedSpeaker === true);
  if (repeated.size === 0) return decoded;
  const repeatIssues = [...repeated].map((name) => `${name} is given more than once`);
  return E.left(RimeError.invalidOptions([...repeatIssues, ...(E.isLeft(decoded) ? (decoded.left.issues ?? []) : [])]));
}

/**
 * The websocket URL for `options`: the endpoint with every synthesis parameter properly encoded. The API key is
 * never part of it (it travels in the `Authorization` header).
 */
export function rimeUrl(options: RimeOptions): URL {
  const url = new URL(options.url);
  for (const name of queryNames) {
    const value = options[name as keyof RimeQueryOptions];
    if (value !== undefined) url.searchParams.set(name, String(value));
  }
  return url;
}
