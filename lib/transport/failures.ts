import { RimeError } from '../errors';
import { kindOfStatus } from '../protocol/rules';

const NOT_IMPLEMENTED = 501;

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
