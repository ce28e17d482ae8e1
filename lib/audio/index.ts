/**
 * rime-rx/audio: where the audio goes (files, Node and web streams, WAV) and where the text comes from.
 * @packageDocumentation
 */
export { type AudioFileOptions, type Backpressure, type SinkOptions, streamingWavHeader, textFromReadable, toNodeReadable, toReadableStream, writeAudio, writeAudioFile } from './sinks';
export { AudioChunk } from './chunk';
export { audioFrames } from './frames';
export { WAV_HEADER_BYTES, WAV_UNKNOWN_LENGTH, wavHeader } from './wav';
export { Mp3Duration, type FrameHeader, frameHeaderAt, framesOf } from './mp3Frames';
