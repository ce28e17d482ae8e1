/** A 440 Hz tone of `seconds` at `samplingRate`: audio an encoder has something to do with. */
export function tone(seconds: number, samplingRate: number): Int16Array {
  return Int16Array.from({ length: Math.round(seconds * samplingRate) }, (_, index) =>
    Math.round(8000 * Math.sin((2 * Math.PI * 440 * index) / samplingRate)),
  );
}

/** The parts, one after the other, in new bytes. */
export function concatenated(parts: readonly Uint8Array[]): Uint8Array {
  const bytes = new Uint8Array(parts.reduce((total, part) => total + part.length, 0));
  parts.reduce((offset, part) => (bytes.set(part, offset), offset + part.length), 0);
  return bytes;
}
