import { Subject } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import type { RimeError } from '../../lib/errors';
import { type Awaited, Watchdog } from '../../lib/tts/watchdog';

const scheduler = () => new TestScheduler((actual, expected) => expect(actual).toEqual(expected));

/** What a test reads of an expiry: the error's kind, message and retryability. */
const shown = (error: RimeError) => ({ name: error.name, kind: error.kind, message: error.message, retryable: error.retryable });

const audioTimeout = (ms: number) => ({ name: 'RimeError', kind: 'timeout', message: `no audio from Rime within ${ms} ms of the text sent`, retryable: true });
const closeTimeout = (ms: number) => ({
  name: 'RimeError',
  kind: 'timeout',
  message: `Rime did not close the connection within ${ms} ms after <EOS>`,
  retryable: true,
});

/** A watchdog over a mutable `Awaited`, reporting each expiry on `expired`. */
function watchdog(
  timeouts: { audioTimeoutMs: number; eosTimeoutMs: number },
  waitedSince: (since: number | undefined) => number | undefined = (since) => since,
) {
  const awaited: { owedSince: number | undefined; quietSince: number | undefined } = { owedSince: undefined, quietSince: undefined };
  const expired = new Subject<ReturnType<typeof shown>>();
  const current = (): Awaited => awaited;
  const dog = new Watchdog(timeouts, current, waitedSince, (error) => expired.next(shown(error)));
  return { awaited, expired, dog };
}

describe('Watchdog', () => {
  it('audio owed since the text was sent expires audioTimeoutMs later with a retryable timeout', () => {
    scheduler().run(({ cold, expectObservable }) => {
      const { awaited, expired, dog } = watchdog({ audioTimeoutMs: 5, eosTimeoutMs: 50 });
      cold('--s').subscribe(() => {
        awaited.owedSince = 2;
        dog.watch();
      });
      expectObservable(expired).toBe('-------a', { a: audioTimeout(5) });
    });
  });

  it('audio that answers (owedSince undefined) before the deadline means no timeout; owed again, timed from then', () => {
    scheduler().run(({ cold, expectObservable }) => {
      const { awaited, expired, dog } = watchdog({ audioTimeoutMs: 5, eosTimeoutMs: 50 });
      awaited.owedSince = 0;
      dog.watch();
      cold('---a').subscribe(() => (awaited.owedSince = undefined)); // audio at 3
      cold('-------t').subscribe(() => {
        awaited.owedSince = 7; // more text owed from 7
        dog.watch();
      });
      expectObservable(expired).toBe('------------a', { a: audioTimeout(5) });
    });
  });

  it('nothing awaited: watch() starts no timer', () => {
    scheduler().run(({ expectObservable }) => {
      const { expired, dog } = watchdog({ audioTimeoutMs: 5, eosTimeoutMs: 5 });
      dog.watch();
      expectObservable(expired).toBe('');
    });
  });

  it('after <EOS> the close must follow within eosTimeoutMs of quietSince, which later audio moves', () => {
    scheduler().run(({ cold, expectObservable }) => {
      const { awaited, expired, dog } = watchdog({ audioTimeoutMs: 100, eosTimeoutMs: 6 });
      awaited.quietSince = 1;
      dog.watch();
      cold('----a').subscribe(() => (awaited.quietSince = 4)); // audio after <EOS> at 4: the close is timed from it
      expectObservable(expired).toBe('----------e', { e: closeTimeout(6) });
    });
  });

  it('both deadlines run at once, each with its own timeout and message', () => {
    scheduler().run(({ expectObservable }) => {
      const { awaited, expired, dog } = watchdog({ audioTimeoutMs: 3, eosTimeoutMs: 8 });
      awaited.owedSince = 0;
      awaited.quietSince = 0;
      dog.watch();
      expectObservable(expired).toBe('---a----e', { a: audioTimeout(3), e: closeTimeout(8) });
    });
  });

  it('waitedSince turns a start into when it counts from: later starts push the deadline back', () => {
    scheduler().run(({ expectObservable }) => {
      const { awaited, expired, dog } = watchdog({ audioTimeoutMs: 5, eosTimeoutMs: 50 }, (since) => (since === undefined ? undefined : Math.max(since, 4)));
      awaited.owedSince = 0; // owed from 0, but counted from 4 (reading resumed, or the connection became current, at 4)
      dog.watch();
      expectObservable(expired).toBe('---------a', { a: audioTimeout(5) });
    });
  });

  it('waitedSince returning undefined pauses a deadline (no expiry while paused); watch() after it resumes from the new start', () => {
    scheduler().run(({ cold, expectObservable }) => {
      let paused = false;
      let resumedAt = 0;
      const { awaited, expired, dog } = watchdog({ audioTimeoutMs: 5, eosTimeoutMs: 50 }, (since) =>
        since === undefined || paused ? undefined : Math.max(since, resumedAt),
      );
      awaited.owedSince = 0;
      dog.watch();
      cold('--p').subscribe(() => (paused = true)); // the timer fires at 5 while paused: it stops
      cold('----------r').subscribe(() => {
        paused = false;
        resumedAt = 10;
        dog.watch();
      });
      expectObservable(expired).toBe('---------------a', { a: audioTimeout(5) });
    });
  });

  it('a paused deadline stays silent for good if watch() is not called again', () => {
    scheduler().run(({ cold, expectObservable }) => {
      let paused = false;
      const { awaited, expired, dog } = watchdog({ audioTimeoutMs: 5, eosTimeoutMs: 5 }, (since) => (paused ? undefined : since));
      awaited.owedSince = 0;
      awaited.quietSince = 0;
      dog.watch();
      cold('-p').subscribe(() => (paused = true));
      cold('-------u').subscribe(() => (paused = false)); // unpaused, but nobody watches: no timer runs
      expectObservable(expired).toBe('');
    });
  });

  it('closed() cancels the close deadline only: owed audio still times out', () => {
    scheduler().run(({ cold, expectObservable }) => {
      const { awaited, expired, dog } = watchdog({ audioTimeoutMs: 6, eosTimeoutMs: 4 });
      awaited.owedSince = 0;
      awaited.quietSince = 0;
      dog.watch();
      cold('--c').subscribe(() => dog.closed());
      expectObservable(expired).toBe('------a', { a: audioTimeout(6) });
    });
  });

  it('cancel() stops both deadlines; watch() afterwards starts them again', () => {
    scheduler().run(({ cold, expectObservable }) => {
      const { awaited, expired, dog } = watchdog({ audioTimeoutMs: 3, eosTimeoutMs: 4 });
      awaited.owedSince = 0;
      awaited.quietSince = 0;
      dog.watch();
      cold('--c').subscribe(() => dog.cancel());
      cold('------w').subscribe(() => {
        awaited.owedSince = 6;
        awaited.quietSince = 6;
        dog.watch();
      });
      expectObservable(expired).toBe('---------ae', { a: audioTimeout(3), e: closeTimeout(4) });
    });
  });

  it('a deadline already past when watched expires at once; calling watch() again does not add a second timer', () => {
    scheduler().run(({ cold, expectObservable }) => {
      const { awaited, expired, dog } = watchdog({ audioTimeoutMs: 2, eosTimeoutMs: 50 });
      cold('-----w').subscribe(() => {
        awaited.owedSince = 0; // owed since 0, first watched at 5
        dog.watch();
        dog.watch();
      });
      expectObservable(expired).toBe('-----a', { a: audioTimeout(2) });
    });
  });
});
