import { closedEarly } from '../../lib/protocol/rules';

describe('a close while text or audio was owed, as a RimeError', () => {
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

