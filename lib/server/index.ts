/**
 * rime-rx/server: what a Rime-compatible websocket server needs. The local server itself builds on these: it
 * validates an upgrade's query string with the very codecs the client uses, so both agree on what is valid.
 * @packageDocumentation
 */
export { decodeRimeQuery, RimeQueryOptions } from '../options';
export { voiceCatalog, voiceIssues, catalogLanguage } from '../catalog';
export { RIME_COMMANDS } from '../text/safety';
