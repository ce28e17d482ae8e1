import * as E from 'fp-ts/Either';
import { type ObservableInput, type OperatorFunction, throwError } from 'rxjs';
import type { AudioChunk } from '../audio/chunk';
import { described, isNumberIn } from '../codecs';
import { RimeError } from '../errors';
import { type Input, decodeFields, defaulted, pickFields, tableCodec } from '../fields';
import { type RimeOptionsInput, rimeFields } from '../options';
import { ConnectionPool } from '../transport/pool';
import type { Transport } from '../transport/transport';
import { type RimeTtsConfig, decodeSettings, rimeTtsFields } from './config';
import { type SpeechEvent, rimeSpeech } from './rimeSpeech';
import { rimeTts } from './rimeTts';
import { type RimeTurnsConfig, type TurnEvent, rimeTurns } from './rimeTurns';
import { speak } from './speak';

/** The most connections a pool keeps open ahead: each counts against the account's concurrency limit. */
const MOST_WARM = 8;

const Warm = described(`an integer from 0 to ${MOST_WARM}`, isNumberIn(0, MOST_WARM, true));
const KeepAlive = described(
  'an integer number of milliseconds from 0, or Infinity (until close())',
  (u): u is number => u === Number.POSITIVE_INFINITY || isNumberIn(0, 2_147_483_647, true)(u),
);

/** A warm connection's own options (the connection's to Rime are `RimeOptions`). */
export const rimeConnectionFields = {
  /** Connections kept open ahead of use (default 1). */
  warm: defaulted(Warm, 1, { doc: 'connections kept open ahead of use (each counts against the account\'s concurrency limit)' }),
  /**
   * How long the connections stay warm after the last use ends, and after `rimeConnection()` (default 60 s;
   * `Infinity`: until `close()`). Rime closes a connection idle for about 30 s: one is then opened again ahead.
   */
  keepAliveMs: defaulted(KeepAlive, 60_000, { doc: 'how long the connections stay warm after the last use ends (`Infinity`: until `close()`)' }),
};

const RimeConnectionOptions = tableCodec(rimeConnectionFields);

/** What each use of a connection takes, and the connection does not (but the upgrade's timeout, which it needs too). */
const USE_OPTIONS = new Set([...Object.keys(rimeTtsFields).filter((name) => name !== 'handshakeTimeoutMs'), 'flush', 'clear', 'backpressure', 'events']);

export interface RimeConnectionConfig extends RimeOptionsInput, Input<typeof rimeConnectionFields> {
  /** Longest wait for the websocket upgrade of a connection opened ahead (default 10 s). */
  readonly handshakeTimeoutMs?: number;
  /** The socket seam (default: `ws`). */
  readonly transport?: Transport;
}

/** An operator's config on a warm connection: the operator's own options; the connection's are the connection's. */
export type ConnectedConfig<C> = Omit<C, keyof RimeOptionsInput | 'transport'>;

/**
 * Connections to Rime kept warm for a conversation, shared by the `rimeTts`, `rimeSpeech`, `rimeTurns` and `speak`
 * uses made from it, one after another (or at once: each use has a connection of its own). On `/ws3` a use that
 * ends cleanly (every text done, no interruption) leaves its connection open for the next, so a conversation of
 * replies runs on one socket; on `/ws` each use still ends its connection (`<EOS>`), and the next one waits open.
 * Either way no reply after the first pays a handshake, nor the first once the connection had time to open.
 */
export interface RimeConnection {
  tts(config?: ConnectedConfig<RimeTtsConfig>): OperatorFunction<string, AudioChunk>;
  speech(config?: ConnectedConfig<RimeTtsConfig>): OperatorFunction<string, SpeechEvent>;
  turns(config?: ConnectedConfig<RimeTurnsConfig>): OperatorFunction<ObservableInput<string>, TurnEvent>;
  speak(text: string | Iterable<string> | AsyncIterable<string>, config?: ConnectedConfig<Omit<RimeTtsConfig, 'backpressure'>>): AsyncGenerator<AudioChunk, void, undefined>;
  /** Connections open or opening, in use or not. */
  readonly size: number;
  /**
   * Closes the idle connections with 1000 and keeps none warm any more; one in use closes when its use ends. Uses
   * made afterwards open a connection of their own each, as without `rimeConnection()`.
   */
  close(): void;
}

/**
 * Opens a warm connection to Rime (`warm` of them, default 1) for the uses made from it: a voice agent's replies,
 * each a `rimeTts` subscription, go out with no handshake. Throws a `RimeError` (`invalid-options`) listing every
 * problem with the config, as `parseRimeOptions` does.
 *
 * ```
 * rime:    W=======================|    W = opened ahead (at rimeConnection())   | = close()
 * reply 1:    --a-a-|                    a = audio, on W: no handshake
 * reply 2:              ---a-a-a-|       on W again (/ws3), or on the one opened ahead after reply 1 took W (/ws)
 * ```
 *
 * @example
 * const rime = rimeConnection({ speaker: 'luna', modelId: 'arcana', protocol: 'ws3', audioFormat: 'pcm' });
 * llmReply$.pipe(rime.tts()).subscribe(player); // and the next reply, and the next
 * rime.close(); // at hang-up
 */
export function rimeConnection(config: RimeConnectionConfig): RimeConnection {
  const { transport, ...plain } = config ?? {};
  const own = decodeFields(rimeConnectionFields, pickFields(rimeConnectionFields, plain), RimeConnectionOptions);
  const { warm: _warm, keepAliveMs: _keepAliveMs, ...connection } = plain;
  const settings = decodeSettings({ ...connection, ...(transport === undefined ? {} : { transport }) } as RimeTtsConfig);
  // A use's own options would apply to every use, unseen there: each use is given them.
  const usesOwn = Object.keys(plain).filter((name) => USE_OPTIONS.has(name));
  const issues = [
    ...usesOwn.map((name) => `${name} is an option of each use: give it to rime.tts(), speech(), turns() or speak(), not to rimeConnection()`),
    ...(E.isLeft(own) ? (own.left.issues ?? []) : []),
    ...(E.isLeft(settings) ? (settings.left.issues ?? [settings.left.message]) : []),
  ];
  if (issues.length > 0 || E.isLeft(own) || E.isLeft(settings)) throw RimeError.invalidOptions(issues);
  const { url, apiKey, handshakeTimeoutMs, protocol } = settings.right;
  const pool = new ConnectionPool({
    request: { url, apiKey, handshakeTimeoutMs },
    transport: settings.right.transport,
    warm: own.right.warm,
    keepAliveMs: own.right.keepAliveMs,
    handsBack: protocol.contexts,
  });
  // The key and the endpoint as they were when the connection was made: RIME_API_KEY or RIME_URL changing later
  // does not take a use elsewhere than its warm connection.
  const { handshakeTimeoutMs: _handshake, ...options } = connection;
  const resolved = { ...options, apiKey, ...(connection.region === undefined ? { url: url.href } : {}) };
  /** The config an operator of the connection runs with, or the problem with what it was given. */
  const connected = <C extends object>(operatorConfig: C | undefined): E.Either<RimeError, C & RimeTtsConfig> => {
    const theirs = Object.keys(operatorConfig ?? {}).filter((name) => Object.hasOwn(rimeFields, name) || Object.hasOwn(rimeConnectionFields, name) || name === 'transport');
    if (theirs.length > 0) {
      return E.left(RimeError.invalidOptions(theirs.map((name) => `${name} is the connection's: give it to rimeConnection(), not to one of its uses`)));
    }
    return E.right({ ...resolved, handshakeTimeoutMs, ...operatorConfig, transport: pool.transport } as C & RimeTtsConfig);
  };
  const operator = <C extends object, I, O>(make: (full: C & RimeTtsConfig) => OperatorFunction<I, O>, operatorConfig: C | undefined): OperatorFunction<I, O> => {
    const full = connected(operatorConfig);
    return E.isLeft(full) ? () => throwError(() => full.left) : make(full.right);
  };
  return {
    tts: (ttsConfig) => operator(rimeTts, ttsConfig),
    speech: (speechConfig) => operator(rimeSpeech, speechConfig),
    turns: (turnsConfig) => operator<ConnectedConfig<RimeTurnsConfig>, ObservableInput<string>, TurnEvent>((full) => rimeTurns(full), turnsConfig),
    speak: (text, speakConfig) => {
      const full = connected(speakConfig);
      // As `speak` does: the problem is thrown where the audio is read.
      if (E.isLeft(full)) return (async function* refused(): AsyncGenerator<AudioChunk, void, undefined> { throw full.left; })();
      return speak(text, full.right);
    },
    get size() {
      return pool.size;
    },
    close: () => pool.close(),
  };
}
