import { WAV_HEADER_BYTES, WAV_UNKNOWN_LENGTH, wavHeader } from '../../lib/audio/wav';

describe('wavHeader()', () => {
  it('is the canonical 44-byte RIFF header of 16-bit mono pcm, its lengths those of the data', () => {
    const header = Buffer.from(wavHeader(24000, 4800));
    expect(header.length).toBe(WAV_HEADER_BYTES);
    expect([header.toString('ascii', 0, 4), header.toString('ascii', 8, 16), header.toString('ascii', 36, 40)]).toEqual(['RIFF', 'WAVEfmt ', 'data']);
    expect(header.readUInt32LE(4)).toBe(4800 + 36);
    expect([header.readUInt16LE(20), header.readUInt16LE(22), header.readUInt32LE(24), header.readUInt32LE(28)]).toEqual([1, 1, 24000, 48000]);
    expect([header.readUInt16LE(32), header.readUInt16LE(34), header.readUInt32LE(40)]).toEqual([2, 16, 4800]);
  });

  it('an unknown length (a pipe) says so in both lengths; a length past 4 GiB is capped, not wrapped', () => {
    const streaming = Buffer.from(wavHeader(8000, WAV_UNKNOWN_LENGTH));
    expect([streaming.readUInt32LE(4), streaming.readUInt32LE(40)]).toEqual([WAV_UNKNOWN_LENGTH, WAV_UNKNOWN_LENGTH]);
    const huge = Buffer.from(wavHeader(8000, 2 ** 33));
    expect([huge.readUInt32LE(4), huge.readUInt32LE(40)]).toEqual([WAV_UNKNOWN_LENGTH, WAV_UNKNOWN_LENGTH]);
  });
});
