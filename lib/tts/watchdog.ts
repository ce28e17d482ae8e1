import { Deadline } from '../deadline';
import { RimeError } from '../errors';

/** What the current connection is waited for on: see `Link`. */
export interface Awaited {
  /** Since when audio is owed for text sent. */
  readonly owedSince: number | undefined;
  /** Since `<EOS>` went out, or the latest audio after it: the server's close must follow in time. */
  readonly quietSince: number | undefined;
}

/**
 * The two deadlines on the current connection: audio for the text sent (`audioTimeoutMs`), and the close after
 * `<EOS>` (`eosTimeoutMs`). `waitedSince` turns when a wait began into when it counts from (undefined while nothing
 * is awaited: a retry's backoff, a socket not read, whose audio waits for us), and `expire` hears a timeout.
 */
export class Watchdog {
  private readonly audio: Deadline;
  private readonly close: Deadline;

  constructor(
    timeouts: { readonly audioTimeoutMs: number; readonly eosTimeoutMs: number },
    current: () => Awaited,
    waitedSince: (since: number | undefined) => number | undefined,
    expire: (error: RimeError) => void,
  ) {
    const { audioTimeoutMs, eosTimeoutMs } = timeouts;
    this.audio = new Deadline(
      audioTimeoutMs,
      () => waitedSince(current().owedSince),
      () => expire(new RimeError('timeout', `no audio from Rime within ${audioTimeoutMs} ms of the text sent`)),
    );
    this.close = new Deadline(
      eosTimeoutMs,
      () => waitedSince(current().quietSince),
      () => expire(new RimeError('timeout', `Rime did not close the connection within ${eosTimeoutMs} ms after <EOS>`)),
    );
  }

  /** Makes sure a timer runs for whatever is awaited now; cheap to call after every change. */
  watch(): void {
    this.audio.watch();
    this.close.watch();
  }

  /** The connection closed: its close is no longer awaited. */
  closed(): void {
    this.close.cancel();
  }

  cancel(): void {
    this.audio.cancel();
    this.close.cancel();
  }
}
