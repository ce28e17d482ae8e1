import { setImmediate as setImmediatePromise } from 'node:timers/promises';
import type { RimeQueryOptions } from '../options';
import type { ClientMessage, ContextId, ServerMessage, WordTiming } from '../protocol/messages';
import { CLOSE, TEXT_TOO_LONG, isBufferBoundary } from '../protocol/rules';
import { createEncoder } from './encode';
import type { ServerEvent } from './events';
import type { Voice } from './voices/voice';

/** Server-wide settings a synthesis session obeys. */
export interface SessionSettings {
  /** Delay before the first audio of each utterance, emulating the service's time to first audio. */
  readonly firstAudioMs: number;
  /** Seconds spent producing each second of audio (0: as fast as possible). */
  readonly realTimeFactor: number;
  /** Longest text one synthesis may hold (Rime: 1000). */
  readonly maxTextLength: number;
  /**
   * Text a connection may have waiting for synthesis (buffer and queue). A client that sends faster than it reads
   * would otherwise grow the queue without end while backpressure holds synthesis back.
   */
  readonly maxWaitingCharacters: number;
  /**
   * When `bySentence` may synthesize: at a `. , ? !` that ends the buffer or is followed by whitespace
   * (`punctuation`), or only once whitespace follows it (`whitespace`). Rime's page says it buffers up to those
   * characters and no more; both readings are served so clients can be tested against each.
   */
  readonly sentenceBuffering: 'punctuation' | 'whitespace';
}

/** What a session needs of its connection. */
export interface SessionHost {
  readonly id: number;
  readonly options: RimeQueryOptions;
  readonly voice: Voice;
  readonly settings: SessionSettings;
  readonly emit: (event: ServerEvent) => void;
  readonly closed: () => boolean;
  /** Sends encoded audio of the synthesis asked for in `contextId` (see `AudioSender.send`). */
  readonly send: (encoded: Uint8Array, pacingMs: number, contextId: ContextId, last?: boolean) => Promise<void>;
  /** Sends a message after the audio sent so far (word timings, the end of a synthesis). */
  readonly tell: (message: ServerMessage) => Promise<void>;
  readonly delay: (milliseconds: number) => Promise<void>;
  /** Ends the connection from the server's side. */
  readonly close: (code: number, reason: string) => void;
  /** Everything was said after `eos`: the connection ends. */
  readonly finished: () => Promise<void>;
}

/** Text waiting for synthesis, with the context it was asked for in. */
interface Utterance {
  readonly text: string;
  readonly contextId: ContextId;
}

/** Rime gives word timestamps for English and Spanish only (and when `lang` is omitted, which decodes to English). */
const TIMED_LANGUAGES: readonly string[] = ['eng', 'spa'];

/** Samples encoded at once: about 0.2 s of audio at 44.1 kHz, a few milliseconds of mp3 encoding. */
const ENCODE_SLICE_SAMPLES = 8192;

/**
 * The end of the text Rime's bySentence mode may synthesize now: after the last `. , ? !` that ends a clause. This
 * is the server's model of Rime, written from its docs, not from the client's segmenter.
 */
function bySentenceEnd(buffer: string, buffering: SessionSettings['sentenceBuffering']): number {
  for (let index = buffer.length - 1; index >= 0; index--) {
    if (!isBufferBoundary(buffer.charAt(index))) continue;
    const next = buffer.charAt(index + 1);
    if ((next === '' && buffering === 'punctuation') || /\s/.test(next)) return index + 1;
  }
  return 0;
}

/**
 * Rime's synthesis, whatever the protocol: buffers text by the connection's segment mode, runs flush, clear and
 * eos, synthesizes utterances one at a time in arrival order, and hands each one's audio to the connection as it
 * is produced.
 */
export class SynthesisSession {
  private buffer = '';
  private readonly utterances: Utterance[] = [];
  /** The context of the latest text: it persists across text that names none. */
  private context: ContextId = null;
  /** Characters received and not yet synthesized (buffer and queue). */
  private waitingCharacters = 0;
  private speaking = false;
  private endOfStream = false;

  constructor(private readonly host: SessionHost) {}

  /** Whether an utterance is being synthesized or sent (the connection is not idle then). */
  get busy(): boolean {
    return this.speaking;
  }

  take(message: ClientMessage): void {
    const { emit, id, settings, options } = this.host;
    if (this.endOfStream) return; // after eos the connection only finishes what it has
    if (message.type !== 'text') {
      emit({ type: 'command', connection: id, command: message.type });
      if (message.type === 'clear') return this.clearBuffer();
      this.enqueue(this.buffer.length);
      if (message.type === 'eos') this.endOfStream = true;
      return void this.speakAll();
    }
    const { text } = message;
    if (message.contextId !== undefined) this.context = message.contextId;
    emit({ type: 'text', connection: id, text });
    this.buffer += text;
    this.waitingCharacters += text.length;
    if (this.waitingCharacters > settings.maxWaitingCharacters) return this.host.close(CLOSE.policyViolation, 'too much text waiting for synthesis');
    if (this.buffer.length > settings.maxTextLength && options.segment !== 'immediate') return this.host.close(CLOSE.internalError, TEXT_TOO_LONG);
    const { segment } = options;
    this.enqueue(segment === 'immediate' ? this.buffer.length : segment === 'bySentence' ? bySentenceEnd(this.buffer, settings.sentenceBuffering) : 0);
    void this.speakAll();
  }

  /**
   * A client's clear: Rime empties its text buffer only. What a flush already asked to synthesize is synthesized
   * all the same (Rime's docs for `/ws3`; the plain page says "clears the current buffer" too), so a client must drop
   * the stale audio itself, or close the connection for a hard stop.
   */
  private clearBuffer(): void {
    this.waitingCharacters -= this.buffer.length;
    this.buffer = '';
  }

  /** The connection ended: everything waiting is dropped. */
  clear(): void {
    this.buffer = '';
    this.utterances.length = 0;
    this.waitingCharacters = 0;
  }

  /** Moves the first `end` characters of the buffer into the synthesis queue. */
  private enqueue(end: number): void {
    const text = this.buffer.slice(0, end);
    this.buffer = this.buffer.slice(end);
    if (text.trim() === '') {
      this.waitingCharacters -= text.length;
      return;
    }
    if (text.length > this.host.settings.maxTextLength) return this.host.close(CLOSE.internalError, TEXT_TOO_LONG);
    this.utterances.push({ text, contextId: this.context });
  }

  /** Synthesizes queued utterances one at a time; after eos, once everything is sent, the connection finishes. */
  private async speakAll(): Promise<void> {
    if (this.speaking) return;
    this.speaking = true;
    try {
      for (let utterance = this.utterances.shift(); utterance !== undefined && !this.host.closed(); utterance = this.utterances.shift()) {
        await this.speak(utterance);
      }
    } catch {
      return this.host.close(CLOSE.internalError, 'synthesis failed');
    } finally {
      this.speaking = false;
    }
    if (!this.endOfStream || this.host.closed()) return;
    // `eos` always ends with a `done` of its own, whatever was synthesized before it.
    await this.host.tell({ type: 'done', contextId: this.context });
    await this.host.finished();
  }

  /**
   * Synthesizes one utterance and sends its word timings (where Rime gives them) as soon as the voice knows them,
   * ahead of the audio they describe, its audio, then its end, all tagged with its context.
   */
  private async speak({ text, contextId }: Utterance): Promise<void> {
    const { options, voice, settings, id, closed, delay } = this.host;
    const send = (encoded: Uint8Array, pacingMs: number, last?: boolean) => this.host.send(encoded, pacingMs, contextId, last);
    this.waitingCharacters -= text.length;
    this.host.emit({ type: 'synthesis', connection: id, text });
    const encoder = await createEncoder(options.audioFormat, options.samplingRate);
    let words: WordTiming[] = [];
    const tellWords = async () => {
      if (words.length === 0) return;
      const told = words;
      words = [];
      await this.host.tell({ type: 'words', words: told, contextId });
    };
    const timed = TIMED_LANGUAGES.includes(options.lang);
    let first = true;
    for await (const samples of voice.synthesize({ ...options, text, ...(timed ? { words: (timings) => words.push(...timings) } : {}) })) {
      if (closed()) break;
      if (first) await delay(settings.firstAudioMs);
      first = false;
      await tellWords();
      // Encoded a slice at a time, giving the event loop back in between: a long chunk (a slow voice, a pause)
      // must not keep every other connection waiting while it is encoded (mp3 in JS is slow).
      for (let start = 0; start < samples.length && !closed(); start += ENCODE_SLICE_SAMPLES) {
        const slice = samples.subarray(start, start + ENCODE_SLICE_SAMPLES);
        const milliseconds = (slice.length / options.samplingRate) * 1000;
        await send(encoder.encode(slice), milliseconds * settings.realTimeFactor);
        if (start + ENCODE_SLICE_SAMPLES < samples.length) await setImmediatePromise();
      }
    }
    if (closed()) return;
    await send(encoder.end(), 0, true);
    await tellWords(); // a voice that learns its timings as it goes (espeak) gives the last ones at the end
    await this.host.tell({ type: 'done', contextId });
  }
}
