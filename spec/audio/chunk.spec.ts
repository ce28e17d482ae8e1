import { AudioChunk } from '../../lib/audio/chunk';

describe('AudioChunk', () => {
  it('is a view on the bytes it is given (no copy) that says its format and rate', () => {
    const bytes = Uint8Array.of(1, 2, 3, 4, 5, 6).subarray(2, 6);
    const chunk = new AudioChunk(bytes, 'pcm', 16000);
    expect(chunk).toBeInstanceOf(Uint8Array);
    expect([chunk.buffer, chunk.byteOffset, chunk.length, [...chunk]]).toEqual([bytes.buffer, 2, 4, [3, 4, 5, 6]]);
    expect([chunk.format, chunk.samplingRate]).toEqual(['pcm', 16000]);
  });

  it('what is made from one (subarray, slice, map) is a plain Uint8Array: a piece of it no longer says what it is', () => {
    const chunk = new AudioChunk(Uint8Array.of(1, 2, 3, 4), 'mp3', 22050);
    for (const made of [chunk.subarray(1), chunk.slice(0, 2), chunk.map((byte) => byte)]) {
      expect(made).toBeInstanceOf(Uint8Array);
      expect(made).not.toBeInstanceOf(AudioChunk);
    }
  });
});
