/**
 * rime-rx/server: a local server that speaks Rime's plain websocket protocol, for tests, benchmarks and offline use,
 * and the pieces a Rime-compatible server needs (it validates an upgrade's query string with the very codecs the
 * client uses, so both agree on what is valid).
 * @packageDocumentation
 */
export { type RimeServer, type RimeServerConfig, RimeServerOptions, createRimeServer } from './createRimeServer';
export type { ServerEvent } from './events';
export { Fault } from './faults';
export type { SynthesisRequest, Voice } from './voices/voice';
export { decodeRimeQuery, RimeQueryOptions } from '../options';
export { voiceCatalog, voiceIssues, catalogLanguage } from '../catalog';
export { PLAIN_COMMANDS, commandOf, plainWire } from '../protocol/plain';
export type { ClientCommand, ClientMessage, ServerMessage } from '../protocol/messages';
export type { Frame, Wire } from '../protocol/wire';
