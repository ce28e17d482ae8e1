/** Size of the canonical RIFF/WAVE header for 16-bit pcm. */
export const WAV_HEADER_BYTES = 44;

/** Stands for "unknown length" in a header written before the end of a stream (players read to the end). */
export const WAV_UNKNOWN_LENGTH = 0xffffffff;

/**
 * The 44-byte header of a 16-bit signed little-endian mono WAV file holding `dataBytes` of samples at
 * `samplingRate`. Pass {@link WAV_UNKNOWN_LENGTH} when streaming to a destination that cannot be rewritten.
 */
export function wavHeader(samplingRate: number, dataBytes: number): Uint8Array {
  const header = new Uint8Array(WAV_HEADER_BYTES);
  const view = new DataView(header.buffer);
  const ascii = (offset: number, text: string) => [...text].forEach((char, index) => view.setUint8(offset + index, char.charCodeAt(0)));
  const riffSize = dataBytes === WAV_UNKNOWN_LENGTH ? WAV_UNKNOWN_LENGTH : Math.min(WAV_UNKNOWN_LENGTH, dataBytes + 36);
  ascii(0, 'RIFF');
  view.setUint32(4, riffSize, true);
  ascii(8, 'WAVE');
  ascii(12, 'fmt ');
  view.setUint32(16, 16, true); // fmt chunk size
  view.setUint16(20, 1, true); // PCM
  view.setUint16(22, 1, true); // mono
  view.setUint32(24, samplingRate, true);
  view.setUint32(28, samplingRate * 2, true); // byte rate
  view.setUint16(32, 2, true); // block align
  view.setUint16(34, 16, true); // bits per sample
  ascii(36, 'data');
  view.setUint32(40, Math.min(WAV_UNKNOWN_LENGTH, dataBytes), true);
  return header;
}
