import { RimeError, type RimeErrorKind } from '../errors';

const NOT_IMPLEMENTED = 501;

/** The kind of failure an HTTP status stands for, as Rime uses them on the upgrade and in close reasons. */
function kindOfStatus(status: number): RimeErrorKind {
  if (status === 400) return 'invalid-options';
  if (status === 401) return 'unauthorized';
  if (status === 403) return 'forbidden';
  if (status === 429) return 'rate-limited';
  return status >= 500 ? 'server' : 'protocol';
}

/**
 * A refused upgrade. Retried: 429 (with a longer backoff) and 5xx but 501. Never retried: 400, 401, 403, other 4xx,
 * and 501 Not Implemented (the local server without an optional piece: asking again cannot help).
 * `body` is Rime's plain-text reason (`invalid api key`, `Currently at websocket limit`).
 */
export function upgradeRefused(status: number, body: string): RimeError {
  const kind = kindOfStatus(status);
  const reason = body.trim().slice(0, 200);
  return new RimeError(kind, `Rime refused the connection: ${status}${reason === '' ? '' : ` ${reason}`}`, {
    status,
    reason,
    retryable: kind === 'rate-limited' || (kind === 'server' && status !== NOT_IMPLEMENTED),
  });
}

/** The socket could not be opened or broke before the upgrade completed (refused, reset, unreachable). */
export function connectionFailed(url: URL, code: string | undefined): RimeError {
  return new RimeError('connection', `could not connect to ${url.origin}${url.pathname}${code === undefined ? '' : `: ${code}`}`);
}

export function handshakeTimedOut(url: URL, milliseconds: number): RimeError {
  return new RimeError('timeout', `no answer to the websocket upgrade from ${url.origin}${url.pathname} within ${milliseconds} ms`);
}

/**
 * A connection that closed while text or audio was still owed. Retried: abnormal closure (1006), going away (1001)
 * and 1011/1012/1013 unless the reason starts with a 4xx status (`400: text is too long`); everything else is not.
 */
export function closedEarly(code: number, reason: string): RimeError {
  const status = /^([1-5]\d\d)\b/.exec(reason)?.[1];
  const details = { closeCode: code, reason };
  const message = `Rime closed the connection: ${code}${reason === '' ? '' : ` ${reason}`}`;
  if (status !== undefined && Number(status) < 500 && [1011, 1012, 1013].includes(code)) {
    const kind = kindOfStatus(Number(status));
    return new RimeError(kind, message, { ...details, status: Number(status), retryable: kind === 'rate-limited' });
  }
  if (code === 1006) return new RimeError('connection', message, details);
  if ([1001, 1011, 1012, 1013].includes(code)) return new RimeError('server', message, details);
  if (code === 1000) return new RimeError('server', `${message} (before the end of the text)`, details);
  return new RimeError('protocol', message, details);
}
