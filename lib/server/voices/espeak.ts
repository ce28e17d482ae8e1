import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { resample } from '../encode/resample';
import type { WordTiming } from '../../protocol/messages';
import { type MarkupPiece, type SynthesisRequest, type Voice, parseMarkup, silence } from './voice';

/** Rime's language codes to espeak voices; anything else is spoken as English rather than refused. */
const ESPEAK_VOICES: Readonly<Record<string, string>> = { eng: 'en-us', spa: 'es', fra: 'fr', ger: 'de' };
const FALLBACK_VOICE = 'en-us';
/** Each Rime speaker gets one of these espeak variants (by a hash of its name), so speakers sound different. */
const SPEAKER_VARIANTS = ['', '+m3', '+f2', '+f4'] as const;
/** espeak's default rate, in words per minute; `speedAlpha` scales it. */
const DEFAULT_WORDS_PER_MINUTE = 175;
/** espeak's accepted range; this build has no sonic speed-up, so rates past 450 would be no faster anyway. */
const MIN_WORDS_PER_MINUTE = 80;
const MAX_WORDS_PER_MINUTE = 450;
const MISSING_PACKAGE =
  'the espeak voice needs the optional package @echogarden/espeak-ng-emscripten: npm install @echogarden/espeak-ng-emscripten';

/** The protocol of espeak-worker.mjs (documented there). */
type StartupMessage = { type: 'ready'; samplingRate: number } | { type: 'failed'; missing: boolean; message: string };
/** A word espeak spoke: where it is in the job's input (1-based), and where its audio starts (ms from the job's). */
interface WordEvent {
  readonly position: number;
  readonly length: number;
  readonly ms: number;
}
type JobMessage =
  | { type: 'chunk'; id: number; samples: Int16Array; words?: readonly WordEvent[] }
  | { type: 'done'; id: number }
  | { type: 'error'; id: number; message: string };
interface JobRequest {
  readonly voice: string;
  readonly rate: number;
  readonly input: string;
}
interface JobListener {
  onChunk(samples: Int16Array, words: readonly WordEvent[]): void;
  onEnd(error?: Error): void;
}
/** What an utterance becomes: espeak input strings, split at pauses so pauses are exact silence. */
type Segment = { readonly kind: 'speech'; readonly input: string } | Extract<MarkupPiece, { kind: 'pause' }>;

const IGNORED_JOB: JobListener = { onChunk: () => {}, onEnd: () => {} };
const SSML_ENTITIES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;' };

/**
 * The `espeak` voice: real (robotic) speech from espeak-ng compiled to WebAssembly, run in one worker thread so that
 * synthesis never blocks the event loop. The worker serves jobs in order, a job being the text between two pauses, so
 * concurrent utterances take turns. Rejects, saying what to install, when the optional GPL package is missing.
 */
export async function createEspeakVoice(): Promise<Voice> {
  const worker = new Worker(path.join(__dirname, 'espeak-worker.mjs'));
  let nativeRate: number;
  try {
    nativeRate = await workerReady(worker);
  } catch (error) {
    await worker.terminate();
    throw error;
  }
  // Referenced only while a job is pending, so an idle voice never keeps the process alive.
  worker.unref();

  const jobs = new Map<number, JobListener>();
  let nextJobId = 0;
  let stopped: Error | undefined;

  const stop = (reason: Error): void => {
    if (stopped) return;
    stopped = reason;
    for (const job of jobs.values()) job.onEnd(reason);
    jobs.clear();
  };
  const endJob = (id: number, error?: Error): void => {
    const job = jobs.get(id);
    if (!job) return;
    jobs.delete(id);
    if (jobs.size === 0) worker.unref();
    job.onEnd(error);
  };
  worker.on('message', (message: JobMessage) => {
    if (message.type === 'chunk') jobs.get(message.id)?.onChunk(message.samples, message.words ?? []);
    else endJob(message.id, message.type === 'error' ? new Error(`espeak failed: ${message.message}`) : undefined);
  });
  worker.on('error', (error) => stop(new Error(`the espeak worker crashed: ${error.message}`, { cause: error })));
  worker.on('exit', (code) => stop(new Error(`the espeak worker exited unexpectedly (exit code ${code})`)));

  /** One espeak input's audio, clause by clause. Abandoning it early lets the worker finish the job unheard. */
  async function* speak(request: JobRequest, onWords: (words: readonly WordEvent[]) => void): AsyncGenerator<Int16Array> {
    if (stopped) throw stopped;
    const chunks: Int16Array[] = [];
    const state: { ended: boolean; failure?: Error; wake: () => void } = { ended: false, wake: () => {} };
    const id = nextJobId++;
    jobs.set(id, {
      onChunk: (samples, words) => {
        chunks.push(samples);
        if (words.length > 0) onWords(words);
        state.wake();
      },
      onEnd: (error) => {
        state.ended = true;
        state.failure = error;
        state.wake();
      },
    });
    if (jobs.size === 1) worker.ref();
    worker.postMessage({ id, ...request });
    try {
      for (;;) {
        const chunk = chunks.shift();
        if (chunk) yield chunk;
        else if (state.failure) throw state.failure;
        else if (state.ended) return;
        else await new Promise<void>((resolve) => (state.wake = resolve));
      }
    } finally {
      if (jobs.has(id)) jobs.set(id, IGNORED_JOB);
    }
  }

  async function* synthesize(request: SynthesisRequest): AsyncGenerator<Int16Array> {
    if (stopped) throw stopped;
    const voice = espeakVoice(request);
    const wordsPerMinute = Math.round(DEFAULT_WORDS_PER_MINUTE * request.speedAlpha);
    const rate = Math.min(MAX_WORDS_PER_MINUTE, Math.max(MIN_WORDS_PER_MINUTE, wordsPerMinute));
    /** Seconds of the utterance's audio before the current segment: where its words' times count from. */
    let offset = 0;
    for (const segment of segmentsOf(request)) {
      if (segment.kind === 'pause') {
        const pause = silence(segment.milliseconds, request.samplingRate);
        offset += pause.length / request.samplingRate;
        yield pause;
        continue;
      }
      const events: WordEvent[] = [];
      let samples = 0;
      for await (const chunk of speak({ voice, rate, input: segment.input }, (words) => events.push(...words))) {
        const resampled = resample(chunk, nativeRate, request.samplingRate);
        samples += resampled.length;
        yield resampled;
      }
      const seconds = samples / request.samplingRate;
      request.words?.(wordTimings(segment.input, events, offset, offset + seconds));
      offset += seconds;
    }
  }

  return {
    name: 'espeak',
    synthesize,
    close: async () => {
      stop(new Error('the espeak voice is closed'));
      await worker.terminate();
    },
  };
}

/**
 * Word timings from espeak's word events: each word (the run of non-whitespace espeak's position falls in, as the
 * text has it) starts where espeak says its audio does, and ends where the next one starts (espeak gives no word
 * ends), the last where the segment's audio does.
 */
function wordTimings(input: string, events: readonly WordEvent[], offset: number, end: number): WordTiming[] {
  return events.map((event, index) => ({
    word: fromPlainText(wordAround(input, event.position - 1)),
    start: offset + event.ms / 1000,
    end: Math.max(offset + event.ms / 1000, (events[index + 1] === undefined ? end : offset + (events[index + 1]?.ms ?? 0) / 1000)),
  }));
}

/** The run of non-whitespace that `index` falls in (espeak points inside an entity, at its end). */
function wordAround(input: string, index: number): string {
  let from = Math.min(Math.max(0, index), input.length);
  let to = from;
  while (from > 0 && !/\s/.test(input.charAt(from - 1))) from--;
  while (to < input.length && !/\s/.test(input.charAt(to))) to++;
  return input.slice(from, to);
}

/** Text as written, from the input espeak read (entities back to their characters). */
function fromPlainText(input: string): string {
  return input.replace(/&(amp|lt|gt);/g, (_entity, name: string) => ({ amp: '&', lt: '<', gt: '>' })[name as 'amp' | 'lt' | 'gt']);
}

/** Waits for the worker's first message: espeak's native sampling rate, or why it could not start. */
function workerReady(worker: Worker): Promise<number> {
  return new Promise((resolve, reject) => {
    const settle = (): void => {
      worker.off('message', onMessage).off('error', onError).off('exit', onExit);
    };
    const onMessage = (message: StartupMessage): void => {
      settle();
      if (message.type === 'ready') resolve(message.samplingRate);
      else reject(new Error(message.missing ? MISSING_PACKAGE : `espeak failed to start: ${message.message}`));
    };
    const onError = (error: Error): void => {
      settle();
      reject(new Error(`the espeak worker failed to start: ${error.message}`, { cause: error }));
    };
    const onExit = (code: number): void => {
      settle();
      reject(new Error(`the espeak worker exited during start-up (exit code ${code})`));
    };
    worker.on('message', onMessage).on('error', onError).on('exit', onExit);
  });
}

function espeakVoice({ lang, speaker }: SynthesisRequest): string {
  let hash = 0;
  for (let index = 0; index < speaker.length; index++) hash = (hash * 31 + speaker.charCodeAt(index)) >>> 0;
  return (ESPEAK_VOICES[lang] ?? FALLBACK_VOICE) + (SPEAKER_VARIANTS[hash % SPEAKER_VARIANTS.length] ?? '');
}

/**
 * Text and phoneme pieces between two pauses become one espeak input (phonemes in espeak's `[[...]]` syntax), so
 * espeak keeps the phrase's prosody across them.
 */
function segmentsOf(request: SynthesisRequest): Segment[] {
  const segments: Segment[] = [];
  let input = '';
  const endSpeech = (): void => {
    if (input.trim() !== '') segments.push({ kind: 'speech', input });
    input = '';
  };
  for (const piece of parseMarkup(request.text, request)) {
    if (piece.kind === 'pause') {
      endSpeech();
      segments.push(piece);
    } else if (piece.kind === 'text') input += asPlainText(piece.text);
    else input += ` [[${asPlainText(piece.phonemes.replace(/[[\]]/g, ''))}]] `;
  }
  endSpeech();
  return segments;
}

/** espeak reads SSML and `[[phonemes]]`: plain text must open neither. */
function asPlainText(text: string): string {
  return text.replace(/[&<>]/g, (character) => SSML_ENTITIES[character] ?? character).replace(/\[(?=\[)/g, '[ ');
}
