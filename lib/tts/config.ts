import * as t from 'io-ts';
import * as E from 'fp-ts/Either';
import type { ObservableInput } from 'rxjs';
import { Timeout, TimerDelay, described, isNumberIn, isRecord, numberFromText } from '../codecs';
import { RimeError } from '../errors';
import { type Decoded, type Input, decodeFields, defaulted, optional, pickFields, tableCodec } from '../fields';
import { RIME_URLS, type RimeOptions, type RimeOptionsInput, decodeRimeOptions, rimeUrl } from '../options';
import { RIME_TEXT_LIMIT } from '../protocol/rules';
import { DEFAULT_RELEASE_AFTER_MS } from '../text/textStage';
import type { Transport } from '../transport/transport';
import { wsTransport } from '../transport/wsTransport';
import type { RimeEventObserver } from './events';
import { RetryConfig, type RetryPolicy, retryPolicy } from './retry';
import { type SpeechProtocol, speechProtocols } from './speechProtocol';

/** The most text one connection carries by default, and so the most a retry says again: about two minutes of speech. */
const DEFAULT_MAX_REPLAY_CHARACTERS = 2000;
/** At least one whole segment (Rime's text limit) must fit. */
const ReplayCharacters = described(
  `an integer number of characters from ${RIME_TEXT_LIMIT}`,
  isNumberIn(RIME_TEXT_LIMIT, Number.MAX_SAFE_INTEGER, true),
);

/** The operator's own options (the connection's are `RimeOptions`). */
export const rimeTtsFields = {
  /** Retries inside the operator (the text source cannot be replayed): a count or `{ count, delay, resetOnSuccess }` (default 3). */
  retry: optional(RetryConfig, {
    doc: 'retries inside the operator, which replay the failed connection\'s text: a count or `{ count, delay, resetOnSuccess }`',
    defaultDoc: '3 retries, backoff from 250 ms, reset on progress',
    fromText: numberFromText,
    flag: { name: 'retries', value: 'N', help: 'retries after a failed connection, each replaying its text' },
  }),
  /** Longest wait for the websocket upgrade (default 10 s). */
  handshakeTimeoutMs: defaulted(Timeout, 10_000, { doc: 'longest wait for the websocket upgrade' }),
  /** Longest wait, after `<EOS>` or the latest audio after it, for the server to close (default 15 s). */
  eosTimeoutMs: defaulted(Timeout, 15_000, { doc: 'longest wait, after `<EOS>` or the latest audio after it, for the server to close' }),
  /**
   * Longest wait for audio after text was sent, while none has come since (default 5 s: Rime's own first audio is
   * under 100 ms at the median). A connection that takes text and sends nothing back fails with a `timeout`, retried.
   */
  audioTimeoutMs: defaulted(Timeout, 5_000, { doc: 'longest wait for audio after text was sent, while none has come since' }),
  /**
   * Open the connection the next turn goes on ahead of time, so it pays no handshake (default true): at a flush
   * that ends a turn or past `maxReplayCharacters`, and with `clear` configured, while a turn is spoken (an
   * interruption continues on it). Never more than two connections at a time; one when none of these applies.
   */
  prewarm: defaulted(t.boolean, true, { doc: 'open the connection the next turn goes on ahead of time, so it pays no handshake' }),
  /**
   * The most text one connection is given, and so the most a retry says again (default 2000, at least 1000): past
   * it, the connection is ended with `<EOS>` and the speech goes on on the next one. On `/ws3`, the most text sent
   * and not done yet: more waits for Rime's `done`s.
   */
  maxReplayCharacters: defaulted(ReplayCharacters, DEFAULT_MAX_REPLAY_CHARACTERS, {
    doc: 'the most text one connection is given, and so the most a retry says again (on `/ws3`: the most sent and not done yet)',
  }),
  /** Milliseconds without a token after which a finished sentence is sent anyway (default 150; see `sentences()`). */
  releaseAfterMs: defaulted(TimerDelay, DEFAULT_RELEASE_AFTER_MS, { doc: 'milliseconds without a token after which a finished sentence is sent anyway' }),
};

/** The operator's own options, decoded: built once, not per operator. */
const RimeTtsOptions = tableCodec(rimeTtsFields);

export interface RimeTtsConfig extends RimeOptionsInput, Input<typeof rimeTtsFields> {
  /**
   * Each emission ends a turn: what the client holds is sent, then `<EOS>`, and the next turn goes at once on the
   * next connection (opened ahead); its audio is emitted after this one's.
   */
  readonly flush?: ObservableInput<unknown>;
  /** Each emission interrupts: unsent text is dropped and no audio of earlier text is emitted afterwards. */
  readonly clear?: ObservableInput<unknown>;
  /**
   * `true` while downstream cannot take more audio, `false` when it can again: the socket is not read meanwhile, so
   * the audio waits in the network instead of in memory. The library's sinks (`writeAudio`, `writeAudioFile`,
   * `toNodeReadable`, `toReadableStream`) report it when given the same `Subject<boolean>` as `backpressure`.
   */
  readonly backpressure?: ObservableInput<boolean>;
  /**
   * Receives `open`, `first-audio`, `retry` and `close` events, each after what it reports was emitted. A `next`
   * that throws errors the stream, as a throwing `tap` would.
   */
  readonly events?: RimeEventObserver;
  /** The socket seam (default: `ws`); `rime-rx/testing` has a fake one for marble tests. */
  readonly transport?: Transport;
}

export interface TtsSettings extends Omit<Decoded<typeof rimeTtsFields>, 'retry'> {
  readonly options: RimeOptions;
  readonly protocol: SpeechProtocol;
  /** The websocket URL, built once. */
  readonly url: URL;
  readonly apiKey: string;
  readonly retry: RetryPolicy;
  /** Whether a spare connection is kept for interruptions: `prewarm` with `clear` configured. */
  readonly spare: boolean;
  /** The caller chose no `segment` mode: the server is asked to synthesize exactly each segment sent. */
  readonly flushEachSegment: boolean;
  readonly transport: Transport;
  readonly events: RimeEventObserver | undefined;
}

export type { RimeOptionsInput };

/**
 * RIME_URL names a service (Rime's, a region, a local server), whatever the protocol: its path follows `protocol`
 * where it is a protocol's path or none (`ws://localhost:8787/ws` is `/ws3` for `protocol: 'ws3'`).
 */
function forProtocol(url: string, protocol: unknown): string {
  if (!URL.canParse(url)) return url; // reported by the url codec
  const parsed = new URL(url);
  const paths = Object.values(RIME_URLS).map((each) => new URL(each).pathname);
  if (parsed.pathname !== '/' && !paths.includes(parsed.pathname)) return url;
  parsed.pathname = new URL(RIME_URLS[protocol === 'ws3' ? 'ws3' : 'ws']).pathname;
  return parsed.href;
}

const MISSING_KEY =
  'no API key: pass rimeTts({ apiKey }) or set RIME_API_KEY (to work offline, run `npx rime-rx serve` and pass its url, or set RIME_URL to it, with any key)';

/** Decodes the config; every problem at once, never echoing the key. */
export function decodeSettings(config: RimeTtsConfig): E.Either<RimeError, TtsSettings> {
  if (!isRecord(config)) return E.left(RimeError.invalidOptions(['rimeTts needs a config object, like rimeTts({ speaker: "cove" })']));
  const { flush: _flush, clear, backpressure: _backpressure, events, transport, ...plain } = config;
  const environmentKey = process.env['RIME_API_KEY']?.trim();
  const apiKey = plain.apiKey ?? (environmentKey === '' ? undefined : environmentKey);
  // RIME_URL points code that names no endpoint elsewhere: a local server, another region.
  const environmentUrl = process.env['RIME_URL']?.trim();
  // A region asked for in code picks Rime's endpoint there: RIME_URL does not override it.
  const fromEnvironment = environmentUrl === '' || environmentUrl === undefined || plain.region !== undefined ? undefined : environmentUrl;
  const url = plain.url ?? (fromEnvironment === undefined ? undefined : forProtocol(fromEnvironment, plain.protocol));
  const decoded = decodePlainSettings({ ...plain, ...(url === undefined ? {} : { url }) }, apiKey);
  const issues = [
    ...(E.isLeft(decoded) ? (decoded.left.issues ?? [decoded.left.message]) : []),
    ...(transport !== undefined && typeof transport !== 'function' ? ['transport must be a function (request) => Observable'] : []),
    ...(events !== undefined && !isEventObserver(events) ? ['events must be an observer: an object whose next, if any, is a function'] : []),
  ];
  if (issues.length > 0 || E.isLeft(decoded) || apiKey === undefined) return E.left(RimeError.invalidOptions(issues));
  const settings = decoded.right;
  return E.right({ ...settings, apiKey, spare: settings.prewarm && clear !== undefined && !settings.protocol.contexts, transport: transport ?? wsTransport, events });
}

/** The config's plain data (connection and operator options), as written. */
type PlainConfig = Omit<RimeTtsConfig, 'flush' | 'clear' | 'backpressure' | 'events' | 'transport'>;

/** What the plain data decodes to, the key aside. */
type PlainSettings = Omit<TtsSettings, 'apiKey' | 'spare' | 'transport' | 'events'>;

function decodePlainSettings(plain: PlainConfig, apiKey: string | undefined): E.Either<RimeError, PlainSettings> {
  // Rime advises `segment=never` with explicit flushes for agents: the server then synthesizes exactly the segments
  // cut here, whatever its own sentence heuristics (which would split `Dr. Jones`, or wait for the next whitespace).
  const flushEachSegment = plain.segment === undefined;
  // Everything but the operator's own options is the connection's (an unknown name is reported there).
  const connection = Object.fromEntries(Object.entries(plain).filter(([name]) => !Object.hasOwn(rimeTtsFields, name)));
  const options = decodeRimeOptions({ ...connection, segment: plain.segment ?? 'never', ...(apiKey === undefined ? {} : { apiKey }) });
  const tts = decodeFields(rimeTtsFields, pickFields(rimeTtsFields, plain), RimeTtsOptions);
  const issues = [
    ...(E.isLeft(options) ? (options.left.issues ?? [options.left.message]) : []),
    ...(E.isLeft(tts) ? (tts.left.issues ?? []) : []),
    ...(apiKey === undefined ? [MISSING_KEY] : []),
  ];
  if (issues.length > 0 || E.isLeft(options) || E.isLeft(tts)) return E.left(RimeError.invalidOptions(issues));
  const { apiKey: _apiKey, ...withoutKey } = options.right;
  return E.right({ ...tts.right, options: withoutKey, protocol: speechProtocols[withoutKey.protocol], url: rimeUrl(withoutKey), retry: retryPolicy(tts.right.retry), flushEachSegment });
}

function isEventObserver(u: unknown): u is RimeEventObserver {
  return isRecord(u) && (u['next'] === undefined || typeof u['next'] === 'function');
}

