export { type RimeOptionsInput, type RimeTtsConfig, rimeTts } from './rimeTts';
export { type SpeechEvent, rimeSpeech } from './rimeSpeech';
export { speak } from './speak';
export type { RimeEvent, RimeEventObserver } from './events';
export type { RetryConfig, RetryDelay } from './retry';
