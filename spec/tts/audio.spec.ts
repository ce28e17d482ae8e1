import fc from 'fast-check';
import { AudioChunker } from '../../lib/tts/audio';

describe('AudioChunker', () => {
  it('pcm: every chunk holds whole samples, and together they are the input (minus a final odd byte)', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 9 }), { maxLength: 20 }), (pieces) => {
        const chunker = new AudioChunker('pcm');
        const out: number[] = [];
        for (const piece of pieces) {
          const chunk = chunker.next(piece);
          if (chunk !== undefined) {
            expect(chunk.length % 2).toBe(0);
            expect(chunk.length).toBeGreaterThan(0);
            out.push(...chunk);
          }
        }
        const input = pieces.flatMap((piece) => [...piece]);
        expect(out).toEqual(input.slice(0, input.length - (input.length % 2)));
      }),
    );
  });

  it('pcm: a carried byte never outlives reset()', () => {
    const chunker = new AudioChunker('pcm');
    expect(chunker.next(Uint8Array.of(1))).toBeUndefined();
    chunker.reset();
    expect([...(chunker.next(Uint8Array.of(2, 3)) ?? [])]).toEqual([2, 3]);
  });

  it('pcm: a chunk made with a carried byte is new memory, a whole chunk is passed on as is', () => {
    const chunker = new AudioChunker('pcm');
    const whole = Uint8Array.of(1, 2);
    expect(chunker.next(whole)).toBe(whole);
    chunker.next(Uint8Array.of(3));
    const joined = Uint8Array.of(4, 5);
    const chunk = chunker.next(joined);
    expect([...(chunk ?? [])]).toEqual([3, 4]);
    expect(chunk?.buffer).not.toBe(joined.buffer);
  });

  it('mp3 and mulaw pass through as they come; empty input emits nothing', () => {
    for (const format of ['mp3', 'mulaw'] as const) {
      const chunker = new AudioChunker(format);
      expect([...(chunker.next(Uint8Array.of(1, 2, 3)) ?? [])]).toEqual([1, 2, 3]);
      expect(chunker.next(new Uint8Array(0))).toBeUndefined();
    }
  });
});
