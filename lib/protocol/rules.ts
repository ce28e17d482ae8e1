import { RimeError, type RimeErrorKind } from '../errors';

/**
 * Rime's rules, as its docs state them, that both roles obey: the client to predict the server, the local server
 * to play it. (How the server buffers text is modelled on its own side, from the docs, so that a misreading shared
 * by both cannot hide.)
 */

/** Rime's service in each of its regions; each serves every path (`/ws`, `/ws3`). */
export const RIME_REGIONS = { 'us-west-2': 'wss://users-ws.rime.ai', 'us-east-1': 'wss://users-east-ws.rime.ai' } as const;
export type RimeRegion = keyof typeof RIME_REGIONS;

/** Rime's default region's service. */
export const RIME_ORIGIN = RIME_REGIONS['us-west-2'];

/** The most text one synthesis takes; more is refused (`400: text is too long`). */
export const RIME_TEXT_LIMIT = 1000;
export const TEXT_TOO_LONG = '400: text is too long';

/** The characters Rime's server buffers up to (the plain protocol's page: `. , ? !`). */
export const RIME_BUFFER_BOUNDARIES = '.,?!';

export const isBufferBoundary = (character: string): boolean => character !== '' && RIME_BUFFER_BOUNDARIES.includes(character);

/** The websocket close codes Rime's protocols use (RFC 6455 section 7.4.1). */
export const CLOSE = {
  normal: 1000,
  goingAway: 1001,
  unsupportedData: 1003,
  /** Never sent: what a side reports when the socket ended without a close frame. */
  abnormal: 1006,
  policyViolation: 1008,
  internalError: 1011,
  serviceRestart: 1012,
  tryAgainLater: 1013,
} as const;

/** Codes a close frame may carry: 1000–4999 but those reserved for reporting (1004–1006, 1015). */
export const isSendableCloseCode = (code: number): boolean =>
  Number.isInteger(code) && code >= 1000 && code <= 4999 && ![1004, 1005, 1006, 1015].includes(code);

/** The kind of failure an HTTP status stands for, as Rime uses them on the upgrade and in close reasons. */
export function kindOfStatus(status: number): RimeErrorKind {
  if (status === 400) return 'invalid-options';
  if (status === 401) return 'unauthorized';
  if (status === 403) return 'forbidden';
  if (status === 429) return 'rate-limited';
  return status >= 500 ? 'server' : 'protocol';
}

/** Closes by which a server says it failed (rather than the client). */
const SERVER_FAILURES: readonly number[] = [CLOSE.internalError, CLOSE.serviceRestart, CLOSE.tryAgainLater];

/**
 * A connection that closed while text or audio was still owed. Retried: abnormal closure (1006), going away (1001)
 * and 1011/1012/1013 unless the reason starts with a 4xx status (`400: text is too long`); everything else is not.
 */
export function closedEarly(code: number, reason: string): RimeError {
  const status = /^([1-5]\d\d)\b/.exec(reason)?.[1];
  const details = { closeCode: code, reason };
  const message = `Rime closed the connection: ${code}${reason === '' ? '' : ` ${reason}`}`;
  if (status !== undefined && Number(status) < 500 && SERVER_FAILURES.includes(code)) {
    const kind = kindOfStatus(Number(status));
    return new RimeError(kind, message, { ...details, status: Number(status), retryable: kind === 'rate-limited' });
  }
  if (code === CLOSE.abnormal) return new RimeError('connection', message, details);
  if (code === CLOSE.goingAway || SERVER_FAILURES.includes(code)) return new RimeError('server', message, details);
  if (code === CLOSE.normal) return new RimeError('server', `${message} (before the end of the text)`, details);
  return new RimeError('protocol', message, details);
}
