import { setTimeout as sleep } from 'node:timers/promises';
import type { WebSocket } from 'ws';
import type { ContextId, ServerMessage } from '../protocol/messages';
import type { Frame, Wire } from '../protocol/wire';
import type { ServerEvent } from './events';
import type { ConnectionFault } from './faults';

/** Send-buffer size above which the server waits for the socket to drain: memory stays flat for slow clients. */
const HIGH_WATER_BYTES = 256 * 1024;

/** What a connection's sending shares with the rest of it: its end, its faults, its events. */
export interface SendingContext {
  readonly id: number;
  readonly socket: WebSocket;
  readonly wire: Wire;
  readonly fault: ConnectionFault | undefined;
  /** Largest audio chunk sent; an odd size, so pcm arrives cut at odd byte boundaries as Rime cuts it. */
  readonly frameBytes: number;
  /** How long a client may take none of the audio before it is cut off. */
  readonly idleTimeoutMs: number;
  readonly emit: (event: ServerEvent) => void;
  /** Whether the connection has ended (a fault, a close, the client). */
  readonly closed: () => boolean;
  /** Whether a `stall` fault struck: nothing more is sent. */
  readonly stalled: () => boolean;
  /** Settles when the connection ends: what a stalled sender waits for. */
  readonly end: Promise<void>;
  /** Resolves after `milliseconds`, or at once when the connection ends. */
  readonly delay: (milliseconds: number) => Promise<void>;
  /** The fault strikes now (an `afterBytes` trigger was reached). */
  readonly strike: () => void;
  /** The client took no audio for a whole idle period: it is cut off. */
  readonly cutOff: () => void;
}

function concatenate(first: Uint8Array, second: Uint8Array): Uint8Array {
  const joined = new Uint8Array(first.length + second.length);
  joined.set(first);
  joined.set(second, first.length);
  return joined;
}

/**
 * Sends a connection's audio, whatever the protocol: cuts it into chunks of exactly `frameBytes` across encoder
 * pieces, paces them, frames each with the protocol's wire, and applies the connection's faults to what goes out
 * (slow, stall, drop or close after a number of bytes) and waits for a client that reads slowly.
 */
export class AudioSender {
  private bytesSent = 0;
  /** Encoded audio short of a whole chunk, waiting for more, and the pacing time that is its share. */
  private unsent = new Uint8Array(0);
  private unsentPacingMs = 0;
  /** While the server waits for a slow client to take audio: the timer that checks it is still taking some. */
  private drainCheck: { readonly timer: NodeJS.Timeout; readonly settle: (reading: boolean) => void } | undefined;

  constructor(private readonly context: SendingContext) {}

  /**
   * Sends `encoded` in chunks of exactly `frameBytes` (the rest waits for the next piece; `last` sends it, the
   * utterance's last chunk), paced by `pacingMs` spread over them.
   */
  async send(encoded: Uint8Array, pacingMs: number, contextId: ContextId, last = false): Promise<void> {
    const { frameBytes, fault, closed, stalled, end, delay } = this.context;
    const bytes = this.unsent.length === 0 ? encoded : concatenate(this.unsent, encoded);
    const whole = last ? bytes.length : bytes.length - (bytes.length % frameBytes);
    const pacing = this.unsentPacingMs + pacingMs;
    this.unsent = bytes.slice(whole);
    this.unsentPacingMs = bytes.length === 0 ? 0 : (pacing * this.unsent.length) / bytes.length;
    for (let start = 0; start < whole && !closed(); start += frameBytes) {
      const chunk = bytes.subarray(start, Math.min(whole, start + frameBytes));
      await delay((pacing * chunk.length) / bytes.length);
      if (fault?.kind === 'slow') await delay((chunk.length / fault.bytesPerSecond) * 1000);
      if (stalled()) await end;
      if (closed()) return;
      await this.transmit({ type: 'audio', bytes: chunk, contextId }, chunk.length);
    }
  }

  /** Sends a message other than audio (word timings, the end of a synthesis), if the protocol has it. */
  async tell(message: ServerMessage): Promise<void> {
    const { stalled, end, closed } = this.context;
    if (stalled()) await end;
    if (!closed()) await this.transmit(message, 0);
  }

  /**
   * Puts a frame on the socket; a fault with `afterBytes` strikes once that many audio bytes went out (a binary
   * frame is cut there, so the client sees them; a text frame cannot be cut and goes whole or not at all).
   */
  private async transmit(message: ServerMessage, audioBytes: number): Promise<void> {
    const { socket, fault, emit, id, wire } = this.context;
    const whole: Frame | undefined = wire.encodeServer(message);
    if (whole === undefined) return;
    const limit = fault !== undefined && 'afterBytes' in fault ? fault.afterBytes : undefined;
    const striking = limit !== undefined && this.bytesSent + audioBytes >= limit;
    const allowed = striking ? limit - this.bytesSent : audioBytes;
    const frame = typeof whole === 'string' ? (allowed < audioBytes ? '' : whole) : whole.subarray(0, allowed);
    if (frame.length > 0) {
      const handedOver = new Promise<void>((resolve) => socket.send(frame, { binary: typeof frame !== 'string' }, () => resolve()));
      const sent = typeof frame === 'string' ? audioBytes : frame.length;
      this.bytesSent += sent;
      if (message.type === 'audio') emit({ type: 'audio', connection: id, bytes: sent });
      if (socket.bufferedAmount > HIGH_WATER_BYTES) await this.drained(handedOver);
    }
    if (striking) this.context.strike();
  }

  /**
   * Waits for the socket to take the audio. A client that takes none of it for `idleTimeoutMs` is cut off (a close
   * frame could not reach it), so it cannot hold its slot and its queue for ever; one that reads slowly is waited for.
   */
  private async drained(handedOver: Promise<void>): Promise<void> {
    const { socket, idleTimeoutMs, closed } = this.context;
    for (let waiting = socket.bufferedAmount; !closed(); ) {
      const taken = await new Promise<boolean>((settle) => {
        const timer = setTimeout(() => settle(false), idleTimeoutMs);
        this.drainCheck = { timer, settle };
        void handedOver.then(() => settle(true));
      });
      clearTimeout(this.drainCheck?.timer);
      this.drainCheck = undefined;
      if (taken || closed()) return;
      if (socket.bufferedAmount >= waiting) break; // nothing taken in a whole idle period
      waiting = socket.bufferedAmount;
    }
    if (!closed()) this.context.cutOff();
  }

  /** The connection ended: a wait for a slow client ends too. */
  release(): void {
    if (this.drainCheck === undefined) return;
    clearTimeout(this.drainCheck.timer);
    this.drainCheck.settle(false);
  }
}

/** Resolves after `milliseconds`, or at once when `signal` aborts. */
export function abortableDelay(milliseconds: number, signal: AbortSignal): Promise<void> {
  if (milliseconds <= 0 || signal.aborted) return Promise.resolve();
  return sleep(milliseconds, undefined, { signal }).catch(() => {});
}
