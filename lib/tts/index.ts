export { type RimeOptionsInput, type RimeTtsConfig, rimeTts } from './rimeTts';
export type { RimeEvent, RimeEventObserver } from './events';
export type { RetryConfig, RetryDelay } from './retry';
