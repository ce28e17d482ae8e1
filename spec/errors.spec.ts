import { inspect } from 'node:util';
import { RimeError, redactKey } from '../lib/errors';

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

describe('redactKey()', () => {
  const key = 'sk-live-0123456789abcdef';
  it('replaces every copy of the key, and any piece of its start of 8 characters or more, wherever it is cut', () => {
    expect(redactKey(`a ${key} b ${key}`, key)).toBe('a <redacted> b <redacted>');
    expect(redactKey(`echo: "${key.slice(0, 16)}…"`, key)).toBe('echo: "<redacted>…"');
    expect(redactKey(`ends in ${key.slice(0, 9)}`, key)).toBe('ends in <redacted>');
    expect(redactKey(`only ${key.slice(0, 7)} of it`, key)).toBe(`only ${key.slice(0, 7)} of it`);
  });

  it('leaves text alone for a placeholder key shorter than 8 characters', () => {
    expect(redactKey('local key local', 'local')).toBe('local key local');
  });
});
