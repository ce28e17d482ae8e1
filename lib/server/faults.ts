import * as t from 'io-ts';
import { Count, TimerDelay, described, isNumberIn, positiveNumber } from '../codecs';
import { isSendableCloseCode } from '../protocol/rules';

const HttpError = described('an HTTP error status from 400 to 599', isNumberIn(400, 599, true));
const CloseCode = described('a close code from 1000 to 4999 (not 1004-1006, 1015)', (u): u is number => typeof u === 'number' && isSendableCloseCode(u));
const Rate = positiveNumber('a number of bytes per second greater than 0');

/** When a connection fault strikes: after this many audio bytes were sent, or this long after the upgrade; else at once. */
const Trigger = t.partial({ afterBytes: Count, afterMs: TimerDelay });

/**
 * Faults the local server can inject, for tests of what a client does when Rime misbehaves. Programmatic only:
 * nothing a client sends can trigger one.
 */
export const Fault = t.union([
  /** Refuse the upgrade with this status and plain-text body. */
  t.type({ kind: t.literal('refuse'), status: HttpError, body: t.string }),
  /** Destroy the TCP socket without a close frame (the client sees 1006). */
  t.intersection([t.type({ kind: t.literal('drop') }), Trigger]),
  /** Close with this code and reason. */
  t.intersection([t.type({ kind: t.literal('close'), code: CloseCode, reason: t.string }), Trigger]),
  /** Stop sending anything (audio, close) but keep the socket open. */
  t.intersection([t.type({ kind: t.literal('stall') }), Trigger]),
  /** Send audio no faster than this. */
  t.type({ kind: t.literal('slow'), bytesPerSecond: Rate }),
]);
export type Fault = t.TypeOf<typeof Fault>;
export type ConnectionFault = Exclude<Fault, { kind: 'refuse' }>;

/** Faults waiting for the next connections, each for a number of them, first in first out. */
export class FaultQueue {
  private readonly pending: { fault: Fault; remaining: number }[] = [];

  add(fault: Fault, connections: number): void {
    if (connections > 0) this.pending.push({ fault, remaining: connections });
  }

  /** The refusal meant for the next upgrade, if the next fault is one; consumes one use of it. */
  takeRefusal(): Extract<Fault, { kind: 'refuse' }> | undefined {
    const head = this.pending[0]?.fault;
    return head?.kind === 'refuse' ? (this.take() as typeof head) : undefined;
  }

  /**
   * The fault for a connection that is being accepted, if the next fault is one; consumes one use of it. Taken only
   * once an upgrade passed every check, so a refused stranger never uses up a fault meant for a test's connection.
   */
  takeConnectionFault(): ConnectionFault | undefined {
    const head = this.pending[0]?.fault;
    return head !== undefined && head.kind !== 'refuse' ? (this.take() as ConnectionFault) : undefined;
  }

  private take(): Fault | undefined {
    const head = this.pending[0];
    if (head === undefined) return undefined;
    head.remaining--;
    if (head.remaining === 0) this.pending.shift();
    return head.fault;
  }
}
