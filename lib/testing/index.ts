/**
 * rime-rx/testing: helpers for testing your own pipelines without a network.
 * @packageDocumentation
 */
export { LlmTokensOptions, llmTokens } from './llmTokens';
export { type DecodedTestSpeech, TEST_VOICE_MS_PER_CHARACTER, decodeTestSpeech } from '../server/voices/testVoiceCodec';
export { FakeConnection, FakeTransport, type SentFrame } from './fakeTransport';
