/**
 * rime-rx/testing: helpers for testing your own pipelines without a network.
 * @packageDocumentation
 */
export { LlmTokensOptions, llmTokens } from './llmTokens';
