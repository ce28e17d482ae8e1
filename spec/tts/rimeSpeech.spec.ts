import { Subject, from, lastValueFrom, toArray } from 'rxjs';
import { type RimeServer, createRimeServer } from '../../lib/server/createRimeServer';
import { decodeTestSpeech } from '../../lib/server/voices/testVoiceCodec';
import { type SpeechEvent, rimeSpeech } from '../../lib/tts/rimeSpeech';

const CHARACTER_MARKER = 0x7e57;
const RATE = 16000;

/** The character the test voice speaks at `seconds` into `audio` (pcm), if a character block starts there. */
function characterAt(audio: Buffer, seconds: number): string | undefined {
  const sample = Math.round(seconds * RATE);
  if (audio.readInt16LE(sample * 2) !== CHARACTER_MARKER) return undefined;
  const codePoint = (audio.readInt16LE(sample * 2 + 2) << 11) | audio.readInt16LE(sample * 2 + 4);
  return String.fromCodePoint(codePoint);
}

const audioOf = (events: readonly SpeechEvent[]) => Buffer.concat(events.flatMap((event) => (event.type === 'audio' ? [event.bytes] : [])));

describe('rimeSpeech()', () => {
  let server: RimeServer;
  beforeAll(async () => {
    server = await createRimeServer({ log: () => {} });
  });
  afterAll(() => server.close());
  const config = (protocol: 'ws' | 'ws3', extra = {}) => ({
    speaker: 'cove',
    audioFormat: 'pcm' as const,
    samplingRate: RATE,
    apiKey: 'test',
    url: server.urls[protocol],
    protocol,
    ...extra,
  });

  it('on /ws3: word timings on the stream clock across three turns and an interruption, each word where its audio is', async () => {
    const text$ = new Subject<string>();
    const flush$ = new Subject<void>();
    const clear$ = new Subject<void>();
    const events: SpeechEvent[] = [];
    const done = new Promise<void>((resolve, reject) =>
      text$.pipe(rimeSpeech(config('ws3', { flush: flush$, clear: clear$ }))).subscribe({ next: (event) => events.push(event), complete: resolve, error: reject }),
    );
    const turnEnds = () => events.filter((event) => event.type === 'done').length;
    const until = async (check: () => boolean) => {
      while (!check()) await new Promise((resolve) => setTimeout(resolve, 5));
    };
    text$.next('First turn here. ');
    text$.next('It has two sentences.');
    flush$.next();
    await until(() => turnEnds() === 1);
    text$.next('Second turn, short.');
    flush$.next();
    await until(() => turnEnds() === 2);
    text$.next('This third turn is interrupted. ');
    text$.next('It goes on ');
    await until(() => events.some((event) => event.type === 'audio' && event.turn === 2));
    clear$.next();
    text$.next('Fourth and last.');
    text$.complete();
    await done;
    const audio = audioOf(events);
    const words = events.flatMap((event) => (event.type === 'words' ? event.words.map((word) => ({ ...word, turn: event.turn })) : []));
    // Monotonic, and on the clock of the audio emitted: each word's first character starts exactly there.
    words.forEach((word, index) => {
      expect(word.end).toBeGreaterThan(word.start);
      if (index > 0) expect(word.start).toBeGreaterThanOrEqual(words[index - 1]?.end ?? 0);
      expect({ word: word.word, at: characterAt(audio, word.start) }).toEqual({ word: word.word, at: word.word.charAt(0) });
    });
    expect(words.filter((word) => word.turn === 0).map((word) => word.word)).toEqual(['First', 'turn', 'here.', 'It', 'has', 'two', 'sentences.']);
    expect(words.filter((word) => word.turn === 1).map((word) => word.word)).toEqual(['Second', 'turn,', 'short.']);
    expect(words.filter((word) => word.turn === 3).map((word) => word.word)).toEqual(['Fourth', 'and', 'last.']);
    // The words cover the text spoken, and nothing of an interrupted turn is told after the interruption.
    const spoken = decodeTestSpeech(audio).text;
    expect(spoken.startsWith('First turn here. It has two sentences.Second turn, short.')).toBe(true);
    expect(spoken.endsWith('Fourth and last.')).toBe(true);
    expect(events.filter((event) => event.type === 'done').map((event) => event.type === 'done' && event.turn)).toEqual([0, 1, 3]);
    expect(events.at(-1)).toEqual({ type: 'done', turn: 3 });
  });

  it('on /ws: audio and the end of each turn, no word timings (the plain protocol has none)', async () => {
    const flush$ = new Subject<void>();
    const text$ = new Subject<string>();
    const events: SpeechEvent[] = [];
    const done = lastValueFrom(text$.pipe(rimeSpeech(config('ws', { flush: flush$ })), toArray()));
    text$.next('One turn.');
    flush$.next();
    text$.next('Another.');
    text$.complete();
    events.push(...(await done));
    expect(events.some((event) => event.type === 'words')).toBe(false);
    expect(events.filter((event) => event.type === 'done')).toEqual([
      { type: 'done', turn: 0 },
      { type: 'done', turn: 1 },
    ]);
    const firstDone = events.findIndex((event) => event.type === 'done');
    expect(decodeTestSpeech(audioOf(events.slice(0, firstDone))).text).toBe('One turn.');
    expect(events.every((event) => event.type !== 'audio' || event.turn === (events.indexOf(event) < firstDone ? 0 : 1))).toBe(true);
  });

  it('every audio chunk of rimeSpeech is the one rimeTts would emit', async () => {
    const events = await lastValueFrom(from(['Same audio, ', 'either way.']).pipe(rimeSpeech(config('ws3')), toArray()));
    expect(decodeTestSpeech(audioOf(events)).text).toBe('Same audio, either way.');
    expect(events.filter((event) => event.type === 'audio').every((event) => event.type === 'audio' && event.turn === 0)).toBe(true);
  });
});
