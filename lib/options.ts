import * as t from 'io-ts';
import * as E from 'fp-ts/Either';
import { pipe as flow } from 'fp-ts/function';
import { catalogLanguage, knownLanguages, knownModelIds, languageAliases, voiceIssues } from './catalog';
import { type FieldSet, described, fieldIssues, isNumberIn, isRecord, numberFromText, showValue, withDefault } from './codecs';
import { RimeError } from './errors';
import { nearest } from './nearest';
import { plainWire } from './protocol/plain';
import { RIME_ORIGIN } from './protocol/rules';

/** Rime's plain websocket endpoint. */
export const DEFAULT_RIME_URL = `${RIME_ORIGIN}${plainWire.path}`;

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

const SamplingRate = described('an integer from 4000 to 44100', isNumberIn(4000, 44100, true));
const SpeedAlpha = described('a finite number greater than 0', (u): u is number => isNumberIn(0, Infinity, false)(u) && u > 0);
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

/** How a query-string value becomes the value its codec expects. */
type FromQuery = (value: string) => unknown;
const asString: FromQuery = (value) => value;
const asNumber: FromQuery = numberFromText;
const asFlag: FromQuery = (value) => {
  const lower = value.toLowerCase();
  return lower === 'true' ? true : lower === 'false' ? false : value;
};

/** The query parameters of Rime's websocket API, with defaults, in the order the URL carries them. */
const queryParameters = {
  speaker: Speaker,
  modelId: withDefault(ModelId, 'mistv3'),
  audioFormat: withDefault(oneOf(['mp3', 'mulaw', 'pcm'] as const), 'mp3'),
  lang: withDefault(Lang, 'eng'),
  pauseBetweenBrackets: withDefault(Flag, false),
  phonemizeBetweenBrackets: withDefault(Flag, false),
  samplingRate: withDefault(SamplingRate, 22050),
  speedAlpha: withDefault(SpeedAlpha, 1.0),
  segment: withDefault(oneOf(['immediate', 'never', 'bySentence'] as const), 'bySentence'),
};

/** Documented extras, sent only when given. */
const optionalQueryParameters = {
  inlineSpeedAlpha: InlineSpeedAlpha,
  noTextNormalization: Flag,
  timeScaleFactor: TimeScaleFactor,
};

type QueryName = keyof typeof queryParameters | keyof typeof optionalQueryParameters;
const queryConversions: Readonly<Record<QueryName, FromQuery>> = {
  speaker: asString,
  modelId: asString,
  audioFormat: asString,
  lang: asString,
  pauseBetweenBrackets: asFlag,
  phonemizeBetweenBrackets: asFlag,
  samplingRate: asNumber,
  speedAlpha: asNumber,
  segment: asString,
  inlineSpeedAlpha: asString,
  noTextNormalization: asFlag,
  timeScaleFactor: asNumber,
};
const queryNames = Object.keys(queryConversions) as QueryName[];

/** Options that shape the connection but never travel in the query string. */
const clientOptions = {
  url: withDefault(WsUrl, DEFAULT_RIME_URL),
  allowUnlistedSpeaker: withDefault(Flag, false),
};
const optionalClientOptions = {
  apiKey: ApiKey,
};

/** Synthesis parameters, exactly those Rime reads from the query string. */
export const RimeQueryOptions = t.exact(t.intersection([t.type(queryParameters), t.partial(optionalQueryParameters)]));
export type RimeQueryOptions = t.TypeOf<typeof RimeQueryOptions>;

/** Everything a connection to Rime needs: the synthesis parameters plus endpoint, credentials and catalog policy. */
export const RimeOptions = t.exact(
  t.intersection([
    t.type({ ...queryParameters, ...clientOptions }),
    t.partial({ ...optionalQueryParameters, ...optionalClientOptions }),
  ]),
);
export type RimeOptions = t.TypeOf<typeof RimeOptions>;

export type AudioFormat = RimeQueryOptions['audioFormat'];
export type Segment = RimeQueryOptions['segment'];

const rimeFields: FieldSet = {
  codecs: { ...queryParameters, ...optionalQueryParameters, ...clientOptions, ...optionalClientOptions },
  secret: new Set(['apiKey']),
  required: new Set(['speaker']),
  shown: { url: withoutCredentials },
};

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
  input: unknown,
  allowUnlistedSpeaker: boolean,
): E.Either<RimeError, t.TypeOf<C>> {
  if (!isRecord(input)) return E.left(RimeError.invalidOptions([`options must be an object, got ${showValue(input)}`]));
  const unknownIssues = Object.keys(input)
    .filter((key) => !known.includes(key))
    .map((key) => unknownFieldIssue(key, known, noun));
  const decoded = codec.decode(input) as E.Either<t.Errors, t.TypeOf<C>>;
  const issues = flow(
    decoded,
    E.match(
      (errors) => [...unknownIssues, ...fieldIssues(errors, rimeFields, input), ...voiceIssuesOfRaw(input, allowUnlistedSpeaker)],
      (options) => [...unknownIssues, ...voiceIssues(options, allowUnlistedSpeaker)],
    ),
  );
  return issues.length === 0 ? (decoded as E.Either<never, t.TypeOf<C>>) : E.left(RimeError.invalidOptions(issues));
}

/** The catalog check for input whose other fields failed: run it when the three voice fields decode on their own. */
function voiceIssuesOfRaw(input: Readonly<Record<string, unknown>>, allowUnlistedSpeaker: boolean): string[] {
  const voice = t.type({ speaker: queryParameters.speaker, modelId: queryParameters.modelId, lang: queryParameters.lang });
  return flow(
    voice.decode(input),
    E.match(
      () => [],
      (decoded) => voiceIssues(decoded, allowUnlistedSpeaker),
    ),
  );
}

const rimeOptionNames = Object.keys(rimeFields.codecs);

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
  return decodeWith(RimeOptions, rimeOptionNames, 'option', input, isRecord(input) && input['allowUnlistedSpeaker'] === true);
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
    const convert = Object.hasOwn(queryConversions, name) ? queryConversions[name as QueryName] : undefined;
    input[name] = convert === undefined ? value : convert(value);
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
    const value = options[name];
    if (value !== undefined) url.searchParams.set(name, String(value));
  }
  return url;
}
