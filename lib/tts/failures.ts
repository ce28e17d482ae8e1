import { RimeError } from '../errors';
import { kindOfStatus } from '../transport/failures';

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
