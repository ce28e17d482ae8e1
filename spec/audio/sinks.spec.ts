import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable, Writable } from 'node:stream';
import { Observable, Subject, concat, lastValueFrom, of, throwError, toArray } from 'rxjs';
import { textFromReadable, toNodeReadable, toReadableStream, writeAudio, writeAudioFile } from '../../lib/audio/sinks';
import { AudioChunk } from '../../lib/audio/chunk';
import { WAV_HEADER_BYTES } from '../../lib/audio/wav';

const chunk = (size: number, value = 1) => new Uint8Array(size).fill(value);

describe('writeAudioFile()', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'rime-rx-sinks-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('writes a WAV file whose header holds the real length', async () => {
    const path = join(dir, 'a.wav');
    await expect(writeAudioFile(of(chunk(1000), chunk(24)), path, { wav: { samplingRate: 16000 } })).resolves.toBe(1024);
    const file = readFileSync(path);
    expect(file.length).toBe(WAV_HEADER_BYTES + 1024);
    expect(file.readUInt32LE(24)).toBe(16000);
    expect(file.readUInt32LE(40)).toBe(1024);
  });

  it('on a source error writes everything that arrived, patches the header, then passes the error on', async () => {
    const path = join(dir, 'b.wav');
    const failure = new Error('connection dropped');
    const burst = concat(of(...Array.from({ length: 10 }, () => chunk(1000))), throwError(() => failure));
    await expect(writeAudioFile(burst, path, { wav: { samplingRate: 8000 } })).rejects.toBe(failure);
    const file = readFileSync(path);
    expect(file.length).toBe(WAV_HEADER_BYTES + 10_000);
    expect(file.readUInt32LE(40)).toBe(10_000);
  });

  it('without wav writes the bytes as they are', async () => {
    const path = join(dir, 'c.pcm');
    await writeAudioFile(of(chunk(3, 7)), path);
    expect([...readFileSync(path)]).toEqual([7, 7, 7]);
  });
});

describe('writeAudio()', () => {
  it('writes in order, waits for drain, ends the writable', async () => {
    const received: number[] = [];
    const slow = new Writable({
      highWaterMark: 2,
      write(data: Buffer, _encoding, done) {
        received.push(...data);
        setTimeout(done, 1);
      },
    });
    await expect(writeAudio(of(Uint8Array.of(1, 2), Uint8Array.of(3), Uint8Array.of(4, 5)), slow)).resolves.toBe(5);
    expect(received).toEqual([1, 2, 3, 4, 5]);
    expect(slow.writableFinished).toBe(true);
  });

  it('rejects and unsubscribes when the destination goes away before the audio ends', async () => {
    const audio = new Subject<Uint8Array>();
    let unsubscribed = false;
    const source = new Observable<Uint8Array>((subscriber) => {
      const inner = audio.subscribe(subscriber);
      return () => {
        unsubscribed = true;
        inner.unsubscribe();
      };
    });
    const destination = new PassThrough();
    const writing = writeAudio(source, destination);
    audio.next(chunk(10));
    destination.destroy();
    await expect(writing).rejects.toThrow('the destination closed before the audio ended');
    expect(unsubscribed).toBe(true);
  });

  it('refuses a destination that is already closed', async () => {
    const gone = new PassThrough();
    gone.destroy();
    await expect(writeAudio(of(chunk(1)), gone)).rejects.toThrow('the destination is already closed');
  });
});

describe('streams', () => {
  it('toNodeReadable and toReadableStream carry every chunk, and stop the source when cancelled', async () => {
    const collected: number[] = [];
    for await (const data of toNodeReadable(of(Uint8Array.of(1), Uint8Array.of(2)))) collected.push(...(data as Buffer));
    expect(collected).toEqual([1, 2]);
    const reader = toReadableStream(of(Uint8Array.of(3), Uint8Array.of(4))).getReader();
    expect([(await reader.read()).value?.[0], (await reader.read()).value?.[0], (await reader.read()).done]).toEqual([3, 4, true]);
    let stopped = false;
    const endless = new Observable<Uint8Array>(() => () => (stopped = true));
    await toReadableStream(endless).cancel();
    expect(stopped).toBe(true);
  });

  it('textFromReadable decodes UTF-8 split across chunks and completes at the end', async () => {
    const bytes = Buffer.from('héllo wörld 😀', 'utf8');
    // Cuts inside 'é' (bytes 1-2) and inside the emoji (bytes 14-17).
    const readable = Readable.from([bytes.subarray(0, 2), bytes.subarray(2, 15), bytes.subarray(15, 16), bytes.subarray(16)], { objectMode: false });
    const pieces = await lastValueFrom(textFromReadable(readable).pipe(toArray()));
    expect(pieces.join('')).toBe('héllo wörld 😀');
    expect(pieces.every((piece) => !piece.includes('\uFFFD'))).toBe(true);
  });

  it('textFromReadable settles for a stream that already ended, errored or was destroyed', async () => {
    const ended = new PassThrough();
    ended.end();
    ended.resume();
    await new Promise((resolve) => ended.once('end', resolve));
    await expect(lastValueFrom(textFromReadable(ended).pipe(toArray()))).resolves.toEqual([]);
    const failed = new PassThrough();
    failed.on('error', () => {});
    failed.destroy(new Error('disk gone'));
    await new Promise((resolve) => setImmediate(resolve));
    await expect(lastValueFrom(textFromReadable(failed))).rejects.toThrow('disk gone');
    const destroyedLater = new PassThrough();
    const reading = lastValueFrom(textFromReadable(destroyedLater));
    destroyedLater.destroy();
    await expect(reading).rejects.toThrow('the text stream closed before it ended');
  });
});

describe('backpressure from the sinks', () => {
  it('writeAudio: full past highWaterMark bytes waiting, not full once half is left; every byte written in order', async () => {
    const signals: boolean[] = [];
    const received: number[] = [];
    const slow = new Writable({
      highWaterMark: 4,
      write(data: Buffer, _encoding, done) {
        received.push(...data);
        setTimeout(done, 1);
      },
    });
    const chunks = Array.from({ length: 20 }, (_, index) => Uint8Array.of(index, index));
    await writeAudio(of(...chunks), slow, { backpressure: { next: (full) => signals.push(full) } });
    expect(received).toEqual(chunks.flatMap((chunk) => [...chunk]));
    expect(signals[0]).toBe(true);
    expect(signals.at(-1)).toBe(false);
    expect(signals.every((full, index) => index === 0 || full !== signals[index - 1])).toBe(true); // changes only
  });

  it('writeAudioFile: the same, against the disk', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rime-rx-sinks-'));
    try {
      const signals: boolean[] = [];
      const chunks = Array.from({ length: 10 }, () => chunk(1000));
      await writeAudioFile(of(...chunks), join(dir, 'p.pcm'), { highWaterMark: 2500, backpressure: { next: (full) => signals.push(full) } });
      expect(signals).toEqual([true, false]);
      expect(readFileSync(join(dir, 'p.pcm')).length).toBe(10_000);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('toNodeReadable: full when the readable buffer passes its highWaterMark, not full when it is read', async () => {
    const signals: boolean[] = [];
    const audio = new Subject<Uint8Array>();
    const readable = toNodeReadable(audio, { highWaterMark: 4, backpressure: { next: (full) => signals.push(full) } });
    readable.read(0); // the first read subscribes
    audio.next(chunk(3));
    audio.next(chunk(3));
    expect(signals).toEqual([true]);
    readable.read();
    await new Promise((resolve) => setImmediate(resolve));
    expect(signals).toEqual([true, false]);
    readable.destroy();
  });

  it('toReadableStream: full when the queue passes highWaterMark bytes, not full when the reader pulls', async () => {
    const signals: boolean[] = [];
    const audio = new Subject<Uint8Array>();
    const stream = toReadableStream(audio, { highWaterMark: 4, backpressure: { next: (full) => signals.push(full) } });
    audio.next(chunk(3));
    audio.next(chunk(3));
    expect(signals).toEqual([true]);
    const reader = stream.getReader();
    await reader.read();
    await reader.read();
    expect(signals).toEqual([true, false]);
    await reader.cancel();
  });
});

describe('sinks refuse audio that is not what they would write (chunks say their format and rate)', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'rime-rx-sinks-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("mp3 under a WAV header (rimeTts's default format into wav): an invalid-options error, no audio written", async () => {
    const path = join(dir, 'noise.wav');
    const mp3 = new AudioChunk(Uint8Array.of(0xff, 0xfb, 0x90, 0x64), 'mp3', 22050);
    await expect(writeAudioFile(of(mp3), path, { wav: { samplingRate: 22050 } })).rejects.toMatchObject({
      kind: 'invalid-options',
      issues: ["the audio is mp3, and a WAV file holds pcm: ask rimeTts for audioFormat 'pcm', or write a .mp3 file without wav"],
    });
    expect(readFileSync(path).length).toBe(WAV_HEADER_BYTES); // a valid, empty WAV
  });

  it('pcm of another rate than the header says: an error naming both', async () => {
    const pcm = new AudioChunk(chunk(4), 'pcm', 24000);
    await expect(writeAudioFile(of(pcm), join(dir, 'fast.wav'), { wav: { samplingRate: 22050 } })).rejects.toMatchObject({
      issues: ['the audio is 24000 Hz pcm, and the WAV header would say 22050 Hz: give wav: { samplingRate: 24000 }'],
    });
  });

  it('pcm at the header rate is written; so are plain bytes, which say nothing', async () => {
    await expect(writeAudioFile(of(new AudioChunk(chunk(4), 'pcm', 16000), chunk(2)), join(dir, 'ok.wav'), { wav: { samplingRate: 16000 } })).resolves.toBe(6);
  });
});
