import { upgradeRefused } from '../../lib/transport/failures';

describe('a refused upgrade, as a RimeError', () => {
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
});
