import * as t from 'io-ts';
import { PositiveInteger, Timeout, TimerDelay, described, isNumberIn, numberFromText } from '../codecs';
import { type Input, defaulted, optional } from '../fields';
import { ApiKey } from '../options';
import { RIME_TEXT_LIMIT } from '../protocol/rules';
import { Fault } from './faults';

const Port = described('an integer from 0 to 65535 (0: any free port)', isNumberIn(0, 65535, true));
const RealTimeFactor = described('a number from 0 to 1000', isNumberIn(0, 1000, false));
const ApiKeys = described(
  `a non-empty list of API keys, each ${ApiKey.name}`,
  (u): u is readonly string[] => Array.isArray(u) && u.length > 0 && u.every((key) => ApiKey.is(key)),
);
const VoiceName = described('one of test, espeak', (u): u is 'test' | 'espeak' => u === 'test' || u === 'espeak');
const SentenceBuffering = described(
  'one of punctuation, whitespace',
  (u): u is 'punctuation' | 'whitespace' => u === 'punctuation' || u === 'whitespace',
);
const Faults = described('a list of faults', (u): u is readonly Fault[] => Array.isArray(u) && u.every((fault) => Fault.is(fault)));

/** The local server's settings; every one has a default. */
export const rimeServerFields = {
  /** Address to listen on (default `127.0.0.1`). */
  host: defaulted(t.string, '127.0.0.1', { doc: 'the address to listen on', flag: { name: 'host', value: 'H' } }),
  /** Port to listen on; 0 picks a free one (default 0). */
  port: defaulted(Port, 0, { doc: 'where to listen; 0 picks a free port', fromText: numberFromText, flag: { name: 'port', value: 'N' } }),
  /** `test`: deterministic and decodable (`decodeTestSpeech`); `espeak`: real speech (default `test`). */
  voice: defaulted(VoiceName, 'test', {
    doc: '`test` (deterministic, decodable with `decodeTestSpeech`) or `espeak` (real speech)',
    defaultDoc: '`test` (`espeak` for `rime-rx serve`)', flag: { name: 'voice', value: 'test|espeak', help: 'test: deterministic, decodable; espeak: real speech' } }),
  /** Delay before the websocket upgrade is answered, emulating TLS and the network (peers measured 0.3-0.6 s); default 0. */
  handshakeDelayMs: defaulted(TimerDelay, 0, {
    doc: 'delay before the websocket upgrade is answered, emulating TLS and the network',
    fromText: numberFromText,
    flag: { name: 'handshake-delay-ms', value: 'N' },
  }),
  /** Delay before each utterance's first audio, emulating the service's time to first audio (default 0). */
  firstAudioMs: defaulted(TimerDelay, 0, { doc: 'delay before the first audio of every utterance (time to first audio)', fromText: numberFromText, flag: { name: 'first-audio-ms', value: 'N' } }),
  /** Seconds spent producing each second of audio; 0 is as fast as possible (default 0). */
  realTimeFactor: defaulted(RealTimeFactor, 0, {
    doc: 'seconds spent producing each second of audio; audio is paced accordingly (0: as fast as possible)',
    fromText: numberFromText,
    flag: { name: 'real-time-factor', value: 'F' },
  }),
  /** Connections at once before an upgrade is refused with 429 (default 1000). */
  maxConnections: defaulted(PositiveInteger, 1000, { doc: 'connections at once before the upgrade is refused with 429', fromText: numberFromText, flag: { name: 'max-connections', value: 'N' } }),
  /** Connections that say nothing this long are closed, as Rime closes them (default 30 s). */
  idleTimeoutMs: defaulted(Timeout, 30_000, {
    doc: 'a connection with no frame from the client (whitespace-only frames aside) and nothing to synthesize for this long is closed; a client that takes no audio for this long is dropped',
    fromText: numberFromText, flag: { name: 'idle-timeout-ms', value: 'N' } }),
  /** Longest text one synthesis takes (default Rime's 1000). */
  maxTextLength: defaulted(PositiveInteger, RIME_TEXT_LIMIT, { doc: 'the most text one synthesis may hold' }),
  /** Largest frame a client may send (default 64 KiB). */
  maxFrameBytes: defaulted(PositiveInteger, 64 * 1024, { doc: 'the largest frame a client may send' }),
  /** Size of every audio chunk sent; odd by default (4095), as Rime cuts pcm anywhere. */
  frameBytes: defaulted(PositiveInteger, 4095, {
    doc: "the size of every audio frame sent (an utterance's last one may be shorter); odd, as Rime cuts pcm anywhere",
    fromText: numberFromText, flag: { name: 'frame-bytes', value: 'N' } }),
  /** Text a connection may have waiting for synthesis before it is closed (default 1,000,000 characters). */
  maxWaitingCharacters: defaulted(PositiveInteger, 1_000_000, { doc: 'text a connection may have waiting for synthesis before it is closed (1008)' }),
  /** Longest wait for an upgrade request's headers (default 10 s). */
  headersTimeoutMs: defaulted(Timeout, 10_000, { doc: 'an upgrade whose request headers have not all arrived by then is dropped (checked every second)' }),
  /**
   * When `segment=bySentence` synthesizes: at a `. , ? !` at once (`punctuation`, the default), or only once whitespace
   * follows it (`whitespace`). Rime's page allows both readings; clients can be tested against each.
   */
  sentenceBuffering: defaulted(SentenceBuffering, 'punctuation', {
    doc: 'when `segment=bySentence` synthesizes: `punctuation` (a `. , ? !` ending the buffer or followed by whitespace) or `whitespace` (only once whitespace follows)',
    flag: { name: 'sentence-buffering', value: 'B' },
  }),
  /** Faults for the first connections, one each, in order (more with `inject`); default none. */
  faults: defaulted(Faults, [], { doc: 'faults for the first connections, one each, in order (see below)' }),
  /** Accept only these API keys; without, any non-empty key is accepted. */
  apiKeys: optional(ApiKeys, {
    doc: 'the keys accepted; without it any non-empty key is accepted, and the server logs that once',
    defaultDoc: 'any non-empty key',
    secret: true,
    flag: { name: 'key', value: 'K', multiple: true, help: 'accept this API key (repeatable); without --key any non-empty key is accepted' },
  }),
};

export interface RimeServerConfig extends Input<typeof rimeServerFields> {
  /** Where the server's few log lines go (default: stderr). Never given an API key. */
  readonly log?: (line: string) => void;
}
