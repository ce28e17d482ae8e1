import { Subject } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { Deadline } from '../lib/deadline';

const scheduler = () => new TestScheduler((actual, expected) => expect(actual).toEqual(expected));

describe('Deadline', () => {
  it('expires once the wait has lasted its milliseconds, counted from when it began', () => {
    scheduler().run(({ expectObservable }) => {
      const expired = new Subject<string>();
      const deadline = new Deadline(5, () => 2, () => expired.next('x'));
      deadline.watch(); // at 0, for a wait that began at 2
      expectObservable(expired).toBe('-------x');
    });
  });

  it('a wait that begins again is waited out from its new start, with one timer', () => {
    scheduler().run(({ cold, expectObservable }) => {
      let since: number | undefined = 0;
      const expired = new Subject<string>();
      const deadline = new Deadline(5, () => since, () => expired.next('x'));
      deadline.watch();
      // The wait starts again at 3 (a token, an audio frame): the timer that fires at 5 waits out the rest.
      cold('---r').subscribe(() => {
        since = 3;
        deadline.watch();
      });
      expectObservable(expired).toBe('--------x');
    });
  });

  it('nothing waited for (since undefined) never expires; cancel stops a running timer', () => {
    scheduler().run(({ cold, expectObservable }) => {
      let since: number | undefined = 0;
      const expired = new Subject<string>();
      const deadline = new Deadline(5, () => since, () => expired.next('x'));
      deadline.watch();
      cold('--a').subscribe(() => (since = undefined)); // nothing waited for any more when the timer fires
      cold('------------b').subscribe(() => {
        since = 12;
        deadline.watch();
      });
      cold('--------------c').subscribe(() => deadline.cancel());
      expectObservable(expired).toBe('');
    });
  });
});
