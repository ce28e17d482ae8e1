import { AudioChunk } from '../../lib/audio/chunk';
import fc from 'fast-check';
import { AudioChunker } from '../../lib/tts/audio';

/** Every chunk `push` emits for each piece, in order, with the piece it came from. */
function chunksOf(chunker: AudioChunker, pieces: readonly Uint8Array[]): { piece: Uint8Array; chunk: AudioChunk }[] {
  return pieces.flatMap((piece) => {
    const chunks: { piece: Uint8Array; chunk: AudioChunk }[] = [];
    chunker.push(piece, (chunk) => chunks.push({ piece, chunk }));
    return chunks;
  });
}

const bytesOf = (chunks: readonly Uint8Array[]) => chunks.flatMap((chunk) => [...chunk]);

// Pieces of every size, odd ones included, each on its own ArrayBuffer as a transport hands them over.
const frames = fc.array(fc.uint8Array({ maxLength: 9 }), { maxLength: 20 });

describe('AudioChunker', () => {
  it('pcm: every chunk holds whole samples, none is empty, and together they are the input (minus a final odd byte)', () => {
    fc.assert(
      fc.property(frames, (pieces) => {
        const chunks = chunksOf(new AudioChunker('pcm', 22050), pieces).map(({ chunk }) => chunk);
        for (const chunk of chunks) {
          expect(chunk.length % 2).toBe(0);
          expect(chunk.length).toBeGreaterThan(0);
        }
        const input = bytesOf(pieces);
        expect(bytesOf(chunks)).toEqual(input.slice(0, input.length - (input.length % 2)));
      }),
    );
  });

  it('pcm: nothing is copied but the sample that straddles two frames (every longer chunk is a view on its frame)', () => {
    fc.assert(
      fc.property(frames, (pieces) => {
        for (const { piece, chunk } of chunksOf(new AudioChunker('pcm', 22050), pieces)) {
          if (chunk.length > 2) expect(chunk.buffer === piece.buffer).toBe(true);
        }
      }),
    );
  });

  it('pcm: a frame of whole samples is passed on as it is (a view of all of it); after an odd frame, the straddling sample comes first', () => {
    const chunker = new AudioChunker('pcm', 22050);
    const whole = Uint8Array.of(1, 2);
    const [passed] = chunksOf(chunker, [whole]);
    expect([passed?.chunk.buffer, passed?.chunk.byteOffset, passed?.chunk.length]).toEqual([whole.buffer, 0, 2]);
    const odd = Uint8Array.of(3, 4, 5);
    const next = Uint8Array.of(6, 7, 8);
    expect(chunksOf(chunker, [odd, next]).map(({ chunk }) => [...chunk])).toEqual([[3, 4], [5, 6], [7, 8]]);
  });

  it('pcm: a carried byte never outlives reset()', () => {
    const chunker = new AudioChunker('pcm', 22050);
    chunksOf(chunker, [Uint8Array.of(1)]);
    chunker.reset();
    expect(chunksOf(chunker, [Uint8Array.of(2, 3)]).map(({ chunk }) => [...chunk])).toEqual([[2, 3]]);
  });

  it('pcm: a reset() from inside emit (a subscriber interrupting) drops the rest of the frame and its odd byte', () => {
    const chunker = new AudioChunker('pcm', 22050);
    chunksOf(chunker, [Uint8Array.of(1)]);
    const emitted: number[][] = [];
    chunker.push(Uint8Array.of(2, 3, 4, 5), (chunk) => {
      emitted.push([...chunk]);
      chunker.reset();
    });
    expect(emitted).toEqual([[1, 2]]);
    chunker.push(Uint8Array.of(6, 7, 8), (chunk) => {
      emitted.push([...chunk]);
      chunker.reset();
    });
    expect(chunksOf(chunker, [Uint8Array.of(9, 10)]).map(({ chunk }) => [...chunk])).toEqual([[9, 10]]);
    expect(emitted).toEqual([[1, 2], [6, 7]]);
  });

  it('mp3 and mulaw pass through as they come (views, not copies), odd sizes included; empty input emits nothing', () => {
    for (const format of ['mp3', 'mulaw'] as const) {
      const chunker = new AudioChunker(format, 8000);
      const pieces = [Uint8Array.of(1, 2, 3), new Uint8Array(0), Uint8Array.of(4)];
      const chunks = chunksOf(chunker, pieces).map(({ chunk }) => chunk);
      expect(chunks.map((chunk) => [...chunk])).toEqual([[1, 2, 3], [4]]);
      expect(chunks.map((chunk) => chunk.buffer)).toEqual([pieces[0]?.buffer, pieces[2]?.buffer]);
    }
  });

  it('every chunk says its format and rate; what is made from one is a plain Uint8Array', () => {
    const chunks = chunksOf(new AudioChunker('pcm', 24000), [Uint8Array.of(1, 2, 3), Uint8Array.of(4, 5, 6)]).map(({ chunk }) => chunk);
    for (const chunk of chunks) {
      expect(chunk).toBeInstanceOf(AudioChunk);
      expect([chunk.format, chunk.samplingRate]).toEqual(['pcm', 24000]);
    }
    expect(chunks[0]?.subarray(0, 1)).not.toBeInstanceOf(AudioChunk);
    expect(chunks[0]?.slice()).not.toBeInstanceOf(AudioChunk);
  });
});
