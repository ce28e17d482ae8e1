import { inspect } from 'node:util';
import { RimeError } from '../lib/errors';

describe('RimeError', () => {
  it('is an Error with a name, kind and retryable flag', () => {
    const error = new RimeError('connection', 'connection refused');
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe('RimeError');
    expect(error.kind).toBe('connection');
    expect(error.retryable).toBe(true);
    expect(inspect(error)).toContain("kind: 'connection'");
  });

  it.each([
    ['invalid-options', false],
    ['unauthorized', false],
    ['forbidden', false],
    ['rate-limited', true],
    ['server', true],
    ['connection', true],
    ['timeout', true],
    ['protocol', false],
  ] as const)('%s is retryable by default: %s', (kind, retryable) => {
    expect(new RimeError(kind, 'x').retryable).toBe(retryable);
  });

  it('keeps Rime\'s status, close code and reason, and lets the failure override retryability', () => {
    const error = new RimeError('server', 'closed', { closeCode: 1011, reason: '400: text is too long', retryable: false });
    expect(error).toMatchObject({ closeCode: 1011, reason: '400: text is too long', retryable: false });
    expect(error.status).toBeUndefined();
    expect(Object.keys(error)).not.toContain('status');
  });

  it('lists every issue of invalid options, one per line', () => {
    expect(RimeError.invalidOptions(['a is wrong']).message).toBe('Invalid Rime options: a is wrong');
    expect(RimeError.invalidOptions(['a is wrong', 'b is wrong']).message).toBe(
      'Invalid Rime options:\n  - a is wrong\n  - b is wrong',
    );
  });
});
