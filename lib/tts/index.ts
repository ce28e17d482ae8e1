export { type RimeOptionsInput, type RimeTtsConfig, rimeTts } from './rimeTts';
export { type SpeechEvent, rimeSpeech } from './rimeSpeech';
export { speak } from './speak';
export { type Interruption, type RimeTurnsConfig, type TurnEvent, type TurnMetrics, rimeTurns } from './rimeTurns';
export type { RimeEvent, RimeEventObserver } from './events';
export type { RetryConfig, RetryDelay } from './retry';
export { type ConnectedConfig, type RimeConnection, type RimeConnectionConfig, rimeConnection } from './rimeConnection';
