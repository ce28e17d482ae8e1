import { from, lastValueFrom, map, toArray } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { AudioChunk } from '../../lib/audio/chunk';
import { audioFrames } from '../../lib/audio/frames';

const scheduler = () => new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
const mulaw = (length: number, first = 0) => new AudioChunk(Uint8Array.from({ length }, (_, index) => (first + index) % 250), 'mulaw', 8000);
const pcm = (length: number, first = 0) => new AudioChunk(Uint8Array.from({ length }, (_, index) => (first + index) % 250), 'pcm', 16000);

describe('audioFrames()', () => {
  it('cuts mu-law into frames of exactly ms (as its marble diagram says), padding the last with silence', () => {
    scheduler().run(({ cold, expectObservable }) => {
      const audio = cold('-a----b--|', { a: mulaw(250), b: mulaw(150, 250) });
      expectObservable(audio.pipe(audioFrames({ ms: 20 }), map((frame) => [frame.length, frame[0], frame[frame.length - 1]]))).toBe('-x----y--(w|)', {
        x: [160, 0, 159],
        y: [160, 160, (319) % 250],
        w: [160, 320 % 250, 0xff],
      });
    });
  });

  it('every byte once, in order, whatever the chunk sizes; frames within a chunk are views on it, not copies', async () => {
    const sizes = [1, 999, 640, 2, 318, 1600, 7];
    const chunks = sizes.reduce<{ chunks: AudioChunk[]; at: number }>(
      (state, size) => ({ chunks: [...state.chunks, pcm(size, state.at)], at: state.at + size }),
      { chunks: [], at: 0 },
    ).chunks;
    const total = sizes.reduce((sum, size) => sum + size, 0) - 1; // whole samples: pcm chunks from rimeTts are
    const frames = await lastValueFrom(from([pcm(total)]).pipe(audioFrames({ ms: 10, pad: false }), toArray()));
    expect(frames.slice(0, -1).every((frame) => frame.length === 320 && frame.buffer === frames[0]?.buffer)).toBe(true);
    expect(frames.reduce((sum, frame) => sum + frame.length, 0)).toBe(total);
    const cut = await lastValueFrom(from(chunks.slice(1)).pipe(audioFrames({ ms: 10 }), toArray()));
    const joined = Buffer.concat(cut);
    const original = Buffer.concat(chunks.slice(1));
    expect(joined.subarray(0, original.length)).toEqual(original);
    expect(joined.length % 320).toBe(0);
    expect(cut.every((frame) => frame instanceof AudioChunk && frame.format === 'pcm' && frame.samplingRate === 16000)).toBe(true);
  });

  it('pad: false emits the last frame short; nothing at all for no audio', async () => {
    expect((await lastValueFrom(from([mulaw(200)]).pipe(audioFrames({ ms: 20, pad: false }), toArray()))).map((frame) => frame.length)).toEqual([160, 40]);
    expect(await lastValueFrom(from([]).pipe(audioFrames({ ms: 20 }), toArray()))).toEqual([]);
  });

  it('refuses mp3, bytes that say no format, a change of rate, a duration that is not whole samples, and bad options', async () => {
    const failing = (chunks: Uint8Array[], ms = 20) => lastValueFrom(from(chunks).pipe(audioFrames({ ms }))).catch((error: unknown) => error);
    await expect(failing([new AudioChunk(new Uint8Array(4), 'mp3', 24000)])).resolves.toMatchObject({ kind: 'invalid-options', message: expect.stringContaining('mp3') });
    await expect(failing([new Uint8Array(4)])).resolves.toMatchObject({ kind: 'invalid-options' });
    await expect(failing([mulaw(10), pcm(10)])).resolves.toMatchObject({ message: expect.stringContaining('changed from mulaw at 8000 Hz to pcm at 16000 Hz') });
    await expect(failing([new AudioChunk(new Uint8Array(4), 'pcm', 22050)], 1)).resolves.toMatchObject({ message: expect.stringContaining('1 ms is not a whole number of samples at 22050 Hz') });
    expect(() => audioFrames({ ms: 0 })).toThrow('ms must be an integer number of milliseconds from 1 to 1000, got 0');
  });
});
