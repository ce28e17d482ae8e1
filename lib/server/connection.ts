import { setImmediate as setImmediatePromise, setTimeout as sleep } from 'node:timers/promises';
import type { RawData, WebSocket } from 'ws';
import type { RimeQueryOptions } from '../options';
import { RIME_BUFFER_BOUNDARIES, commandOf } from '../protocol/plain';
import { createEncoder } from './encode';
import type { ServerEvent } from './events';
import type { ConnectionFault } from './faults';
import type { Voice } from './voices/voice';

/** Server-wide settings a connection obeys. */
export interface ConnectionSettings {
  /** Delay before the first audio of each utterance, emulating the service's time to first audio. */
  readonly firstAudioMs: number;
  /** Seconds spent producing each second of audio (0: as fast as possible). */
  readonly realTimeFactor: number;
  readonly idleTimeoutMs: number;
  /** Longest text one synthesis may hold (Rime: 1000). */
  readonly maxTextLength: number;
  /** Largest binary frame sent; an odd size, so pcm arrives cut at odd byte boundaries as Rime cuts it. */
  readonly frameBytes: number;
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

export interface ConnectionContext {
  readonly id: number;
  readonly socket: WebSocket;
  readonly options: RimeQueryOptions;
  readonly voice: Voice;
  readonly settings: ConnectionSettings;
  readonly fault: ConnectionFault | undefined;
  readonly emit: (event: ServerEvent) => void;
}

function concatenate(first: Uint8Array, second: Uint8Array): Uint8Array {
  const joined = new Uint8Array(first.length + second.length);
  joined.set(first);
  joined.set(second, first.length);
  return joined;
}

/** Samples encoded at once: about 0.2 s of audio at 44.1 kHz, a few milliseconds of mp3 encoding. */
const ENCODE_SLICE_SAMPLES = 8192;

/** Send-buffer size above which the server waits for the socket to drain: memory stays flat for slow clients. */
const HIGH_WATER_BYTES = 256 * 1024;

/** Close codes the server uses. */
export const CLOSE = {
  normal: 1000,
  unsupportedData: 1003,
  policyViolation: 1008,
  internalError: 1011,
  goingAway: 1001,
} as const;

/** The end of the text Rime's bySentence mode may synthesize now: after the last `. , ? !` that ends a clause. */
function bySentenceEnd(buffer: string, buffering: ConnectionSettings['sentenceBuffering']): number {
  for (let index = buffer.length - 1; index >= 0; index--) {
    if (!RIME_BUFFER_BOUNDARIES.includes(buffer.charAt(index))) continue;
    const next = buffer.charAt(index + 1);
    if ((next === '' && buffering === 'punctuation') || /\s/.test(next)) return index + 1;
  }
  return 0;
}

/**
 * One client connection of the plain `/ws` protocol: buffers text by the connection's segment mode, runs the
 * commands, synthesizes utterances one at a time in arrival order, and streams each as it is produced.
 */
export class PlainConnection {
  private buffer = '';
  private readonly utterances: string[] = [];
  /** Characters received and not yet synthesized (buffer and queue). */
  private waitingCharacters = 0;
  private speaking = false;
  private endOfStream = false;
  private closed = false;
  private stalled = false;
  private bytesSent = 0;
  /** Encoded audio short of a whole frame, waiting for more, and the pacing time that is its share. */
  private unsent = new Uint8Array(0);
  private unsentPacingMs = 0;
  /** While the server waits for a slow client to take audio: the timer that checks it is still taking some. */
  private drainCheck: { readonly timer: NodeJS.Timeout; readonly settle: (reading: boolean) => void } | undefined;
  private idleTimer: NodeJS.Timeout | undefined;
  private readonly faultTimer: NodeJS.Timeout | undefined;
  /** Aborted when the connection ends: cancels every pending delay. */
  private readonly lifetime = new AbortController();
  /** Settles when the connection ends: what a stalled sender waits for. */
  private readonly end = new Promise<void>((resolve) => this.lifetime.signal.addEventListener('abort', () => resolve()));

  constructor(private readonly context: ConnectionContext) {
    const { socket, fault } = context;
    socket.on('message', (data, isBinary) => this.receive(data, isBinary));
    socket.on('close', (code, reason) => this.ended(code, reason.toString()));
    socket.on('error', () => {}); // a broken client socket is followed by 'close'; one client never disturbs the rest
    this.restartIdleTimer();
    const triggered = fault?.kind === 'slow' ? undefined : fault;
    this.faultTimer = triggered?.afterMs === undefined ? undefined : setTimeout(() => this.strike(), triggered.afterMs);
    if (triggered !== undefined && triggered.afterMs === undefined && triggered.afterBytes === undefined) {
      queueMicrotask(() => this.strike());
    }
  }

  private receive(data: RawData, isBinary: boolean): void {
    if (this.closed) return;
    if (isBinary) return this.close(CLOSE.unsupportedData, 'binary frames are not supported: send text');
    const frame = data.toString();
    // Whitespace says nothing: a client must not hold a connection (a slot of everyone's limit) with `' '` frames.
    if (frame.trim() !== '') this.restartIdleTimer();
    if (this.endOfStream) return; // after <EOS> the connection only finishes what it has
    const command = commandOf(frame);
    if (command !== undefined) {
      this.context.emit({ type: 'command', connection: this.context.id, command });
      if (command === 'clear') {
        this.buffer = '';
        this.utterances.length = 0;
        this.waitingCharacters = 0;
        return;
      }
      this.enqueue(this.buffer.length);
      if (command === 'eos') this.endOfStream = true;
      return void this.speakAll();
    }
    this.context.emit({ type: 'text', connection: this.context.id, text: frame });
    this.buffer += frame;
    this.waitingCharacters += frame.length;
    if (this.waitingCharacters > this.context.settings.maxWaitingCharacters) return this.close(CLOSE.policyViolation, 'too much text waiting for synthesis');
    if (this.buffer.length > this.context.settings.maxTextLength && this.context.options.segment !== 'immediate') {
      return this.close(CLOSE.internalError, '400: text is too long');
    }
    const segment = this.context.options.segment;
    this.enqueue(segment === 'immediate' ? this.buffer.length : segment === 'bySentence' ? bySentenceEnd(this.buffer, this.context.settings.sentenceBuffering) : 0);
    void this.speakAll();
  }

  /** Moves the first `end` characters of the buffer into the synthesis queue. */
  private enqueue(end: number): void {
    const text = this.buffer.slice(0, end);
    this.buffer = this.buffer.slice(end);
    if (text.trim() === '') {
      this.waitingCharacters -= text.length;
      return;
    }
    if (text.length > this.context.settings.maxTextLength) return this.close(CLOSE.internalError, '400: text is too long');
    this.utterances.push(text);
  }

  /** Synthesizes queued utterances one at a time; closes after `<EOS>` once everything is sent. */
  private async speakAll(): Promise<void> {
    if (this.speaking) return;
    this.speaking = true;
    try {
      for (let text = this.utterances.shift(); text !== undefined && !this.closed; text = this.utterances.shift()) {
        await this.speak(text);
      }
    } catch {
      return this.close(CLOSE.internalError, 'synthesis failed');
    } finally {
      this.speaking = false;
    }
    if (this.endOfStream && !this.closed) {
      if (this.stalled) await this.end;
      this.close(CLOSE.normal, '');
    }
  }

  private async speak(text: string): Promise<void> {
    const { options, voice, settings, id } = this.context;
    this.waitingCharacters -= text.length;
    this.context.emit({ type: 'synthesis', connection: id, text });
    const encoder = await createEncoder(options.audioFormat, options.samplingRate);
    let first = true;
    for await (const samples of voice.synthesize({ ...options, text })) {
      if (this.closed) break;
      if (first) await this.delay(settings.firstAudioMs);
      first = false;
      // Encoded a slice at a time, giving the event loop back in between: a long chunk (a slow voice, a pause)
      // must not keep every other connection waiting while it is encoded (mp3 in JS is slow).
      for (let start = 0; start < samples.length && !this.closed; start += ENCODE_SLICE_SAMPLES) {
        const slice = samples.subarray(start, start + ENCODE_SLICE_SAMPLES);
        const milliseconds = (slice.length / options.samplingRate) * 1000;
        await this.send(encoder.encode(slice), milliseconds * settings.realTimeFactor);
        if (start + ENCODE_SLICE_SAMPLES < samples.length) await setImmediatePromise();
      }
    }
    if (!this.closed) await this.send(encoder.end(), 0, true);
  }

  /**
   * Sends audio in frames of exactly `frameBytes`, whatever the size of the pieces the encoder made (the rest waits
   * for the next piece; `last` sends it, the utterance's last frame), paced by `pacingMs` spread over them,
   * honouring faults.
   */
  private async send(encoded: Uint8Array, pacingMs: number, last = false): Promise<void> {
    const { socket, settings, fault, emit, id } = this.context;
    const bytes = this.unsent.length === 0 ? encoded : concatenate(this.unsent, encoded);
    const whole = last ? bytes.length : bytes.length - (bytes.length % settings.frameBytes);
    const pacing = this.unsentPacingMs + pacingMs;
    this.unsent = bytes.slice(whole);
    this.unsentPacingMs = bytes.length === 0 ? 0 : (pacing * this.unsent.length) / bytes.length;
    for (let start = 0; start < whole && !this.closed; start += settings.frameBytes) {
      let frame = bytes.subarray(start, Math.min(whole, start + settings.frameBytes));
      await this.delay((pacing * frame.length) / bytes.length);
      if (fault?.kind === 'slow') await this.delay((frame.length / fault.bytesPerSecond) * 1000);
      if (this.stalled) await this.end;
      if (this.closed) return;
      const limit = fault !== undefined && 'afterBytes' in fault ? fault.afterBytes : undefined;
      const striking = limit !== undefined && this.bytesSent + frame.length >= limit;
      if (striking) frame = frame.subarray(0, limit - this.bytesSent);
      if (frame.length > 0) {
        const handedOver = new Promise<void>((resolve) => socket.send(frame, { binary: true }, () => resolve()));
        this.bytesSent += frame.length;
        emit({ type: 'audio', connection: id, bytes: frame.length });
        if (socket.bufferedAmount > HIGH_WATER_BYTES) await this.drained(handedOver);
      }
      if (striking) this.strike();
    }
  }

  /**
   * Waits for the socket to take the audio. A client that takes none of it for `idleTimeoutMs` is cut off (a close
   * frame could not reach it), so it cannot hold its slot and its queue for ever; one that reads slowly is waited for.
   */
  private async drained(handedOver: Promise<void>): Promise<void> {
    const { socket, settings } = this.context;
    for (let waiting = socket.bufferedAmount; !this.closed; ) {
      const taken = await new Promise<boolean>((settle) => {
        const timer = setTimeout(() => settle(false), settings.idleTimeoutMs);
        this.drainCheck = { timer, settle };
        void handedOver.then(() => settle(true));
      });
      clearTimeout(this.drainCheck?.timer);
      this.drainCheck = undefined;
      if (taken || this.closed) return;
      if (socket.bufferedAmount >= waiting) break; // nothing taken in a whole idle period
      waiting = socket.bufferedAmount;
    }
    if (this.closed) return;
    this.closed = true;
    this.release();
    socket.terminate();
  }

  /** Applies the connection's fault (once). */
  private strike(): void {
    const { fault, socket, emit, id } = this.context;
    if (fault === undefined || this.closed || this.stalled) return;
    emit({ type: 'fault', connection: id, fault });
    switch (fault.kind) {
      case 'drop':
        this.closed = true;
        socket.terminate();
        return;
      case 'close':
        return this.close(fault.code, fault.reason);
      case 'stall':
        this.stalled = true;
        return;
      case 'slow':
        return;
    }
  }

  private restartIdleTimer(): void {
    clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => {
      if (this.speaking) this.restartIdleTimer();
      else this.close(CLOSE.normal, 'idle timeout');
    }, this.context.settings.idleTimeoutMs);
  }

  /** Resolves after `milliseconds`, or at once when the connection ends. */
  private delay(milliseconds: number): Promise<void> {
    if (milliseconds <= 0 || this.closed) return Promise.resolve();
    return sleep(milliseconds, undefined, { signal: this.lifetime.signal }).catch(() => {});
  }

  /** Ends the connection from the server side with `code` and `reason`. */
  close(code: number, reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.release();
    this.context.socket.close(code, reason);
  }

  private ended(code: number, reason: string): void {
    const by = this.closed ? 'server' : 'client';
    this.closed = true;
    this.release();
    this.context.emit({ type: 'close', connection: this.context.id, code, reason, by });
  }

  private release(): void {
    clearTimeout(this.idleTimer);
    if (this.drainCheck !== undefined) {
      clearTimeout(this.drainCheck.timer);
      this.drainCheck.settle(false);
    }
    clearTimeout(this.faultTimer);
    this.lifetime.abort();
    this.utterances.length = 0;
    this.buffer = '';
  }
}
