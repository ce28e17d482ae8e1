import { type Subscription, asyncScheduler, timer } from 'rxjs';

/**
 * A deadline on a wait that may start again many times a second (a token, an audio frame), with one timer instead
 * of one per restart: `since()` says when the current wait began (undefined: nothing is waited for). When the timer
 * fires it asks again, and waits out the rest if the wait began later; `expire` runs once `milliseconds` have passed
 * since then. On RxJS's `timer`, so marble tests drive it in virtual time.
 */
export class Deadline {
  private timer: Subscription | undefined;

  constructor(
    private readonly milliseconds: number,
    private readonly since: () => number | undefined,
    private readonly expire: () => void,
  ) {}

  /** Makes sure the timer runs if something is waited for; cheap to call after every change. */
  watch(): void {
    if (this.timer !== undefined) return;
    const since = this.since();
    if (since !== undefined) this.wait(this.milliseconds - (asyncScheduler.now() - since));
  }

  cancel(): void {
    this.timer?.unsubscribe();
    this.timer = undefined;
  }

  private wait(delay: number): void {
    this.timer = timer(Math.max(0, delay)).subscribe(() => {
      this.timer = undefined;
      const since = this.since();
      if (since === undefined) return;
      const waited = asyncScheduler.now() - since;
      if (waited < this.milliseconds) this.wait(this.milliseconds - waited);
      else this.expire();
    });
  }
}
