import { RimeError } from '../../lib/errors';
import { backoff, retryPolicy } from '../../lib/tts/retry';

describe('backoff', () => {
  const error = new RimeError('server', 'x');
  it('grows exponentially from 250 ms, capped at 5 s, with 50–100 % jitter', () => {
    expect([1, 2, 3, 4, 5, 6, 7].map((n) => backoff(error, n, () => 1))).toEqual([250, 500, 1000, 2000, 4000, 5000, 5000]);
    expect(backoff(error, 1, () => 0)).toBe(125);
  });

  it('waits four times longer after a rate limit', () => {
    expect(backoff(new RimeError('rate-limited', 'x'), 2, () => 1)).toBe(2000);
  });

  it('a number is a count; defaults are 3, backoff, reset on success', () => {
    expect(retryPolicy(5)).toMatchObject({ count: 5, resetOnSuccess: true });
    expect(retryPolicy(undefined)).toMatchObject({ count: 3, resetOnSuccess: true });
    expect(retryPolicy({ resetOnSuccess: false })).toMatchObject({ count: 3, resetOnSuccess: false });
  });
});
