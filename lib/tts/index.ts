export { type RimeOptionsInput, type RimeTtsConfig, rimeTts } from './rimeTts';
export type { RimeEvent } from './events';
export type { RetryConfig, RetryDelay } from './retry';
