import { upgradeRefused } from '../../lib/transport/failures';
import { closedEarly } from '../../lib/tts/failures';
import { RimeError } from '../../lib/errors';
import { backoff, retryPolicy } from '../../lib/tts/retry';

describe('error mapping', () => {
  it.each([
    [400, 'speaker is required', 'invalid-options', false],
    [401, 'invalid api key', 'unauthorized', false],
    [403, 'access forbidden', 'forbidden', false],
    [404, 'Not Found', 'protocol', false],
    [429, 'Currently at websocket limit', 'rate-limited', true],
    [500, 'Internal Server Error', 'server', true],
    [501, 'mp3 needs the optional package @breezystack/lamejs', 'server', false],
    [502, 'Bad Gateway', 'server', true],
    [503, 'Service Unavailable', 'server', true],
  ] as const)('upgrade %i %j -> %s, retryable %s', (status, body, kind, retryable) => {
    expect(upgradeRefused(status, body)).toMatchObject({ kind, retryable, status, reason: body, message: `Rime refused the connection: ${status} ${body}` });
  });

  it.each([
    [1006, '', 'connection', true, undefined],
    [1001, 'going away', 'server', true, undefined],
    [1011, 'internal error', 'server', true, undefined],
    [1012, '', 'server', true, undefined],
    [1013, 'try again later', 'server', true, undefined],
    [1011, '400: text is too long', 'invalid-options', false, 400],
    [1011, '401: invalid api key', 'unauthorized', false, 401],
    [1013, '429: slow down', 'rate-limited', true, 429],
    [1011, '500: internal', 'server', true, undefined],
    [1000, '', 'server', true, undefined],
    [1002, 'protocol error', 'protocol', false, undefined],
    [1008, 'policy', 'protocol', false, undefined],
  ] as const)('close %i %j -> %s, retryable %s', (code, reason, kind, retryable, status) => {
    const error = closedEarly(code, reason);
    expect(error).toMatchObject({ kind, retryable, closeCode: code, reason });
    expect(error.status).toBe(status);
  });
});

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
