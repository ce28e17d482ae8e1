/**
 * rime-rx: streaming text to streaming speech through Rime's websocket TTS API, as RxJS operators.
 * @packageDocumentation
 */
export { RimeError, RimeErrorKind, type RimeErrorDetails } from './errors';
export {
  DEFAULT_RIME_URL,
  RimeOptions,
  RimeQueryOptions,
  type AudioFormat,
  type Segment,
  decodeRimeOptions,
  parseRimeOptions,
  decodeRimeQuery,
  rimeUrl,
} from './options';
export {
  VoiceCatalog,
  type Voice,
  type VoiceFilter,
  type VoiceListing,
  voiceCatalog,
  knownModelIds,
  knownLanguages,
  catalogLanguage,
  listVoices,
  voiceIssues,
} from './catalog';
export { DEFAULT_BOUNDARIES, DEFAULT_MAX_LENGTH, SentencesOptions, type SentencesConfig, sentences } from './text/sentences';
export { type SafeTextOptions, neutralize, safeText } from './text/safety';
export { PLAIN_COMMANDS, type PlainCommand } from './protocol/plain';
export type { TextControls } from './text/textStage';
export { AudioChunk } from './audio/chunk';
export { type RimeOptionsInput, type RimeTtsConfig, type RimeEvent, type RimeEventObserver, type RetryConfig, type RetryDelay, rimeTts, type SpeechEvent, rimeSpeech, speak, type Interruption, type RimeTurnsConfig, type TurnEvent, type TurnMetrics, rimeTurns, type ConnectedConfig, type RimeConnection, type RimeConnectionConfig, rimeConnection } from './tts';
export type { WordTiming } from './protocol/messages';
export type { ProtocolName } from './options';
export type { ConnectRequest, Transport, TransportEvent } from './transport/transport';
export type { Frame } from './protocol/wire';
export { wsTransport } from './transport/wsTransport';
