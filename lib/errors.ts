import * as t from 'io-ts';

/** What went wrong, in the categories a caller acts on differently. */
export const RimeErrorKind = t.keyof({
  'invalid-options': null,
  unauthorized: null,
  forbidden: null,
  'rate-limited': null,
  server: null,
  connection: null,
  timeout: null,
  protocol: null,
});
export type RimeErrorKind = t.TypeOf<typeof RimeErrorKind>;

/** Whether a failure of this kind is worth another attempt, unless the failure itself says otherwise. */
const retryableByDefault: Readonly<Record<RimeErrorKind, boolean>> = {
  'invalid-options': false,
  unauthorized: false,
  forbidden: false,
  'rate-limited': true,
  server: true,
  connection: true,
  timeout: true,
  protocol: false,
};

export interface RimeErrorDetails {
  /** Overrides the default for the kind (e.g. a 1011 close whose reason starts with a 4xx status). */
  readonly retryable?: boolean;
  /** HTTP status of a refused upgrade, as Rime sent it. */
  readonly status?: number;
  /** WebSocket close code, as Rime sent it. */
  readonly closeCode?: number;
  /** Rime's plain-text body or close reason. */
  readonly reason?: string;
  /** Every problem found, one sentence each (for `invalid-options`). */
  readonly issues?: readonly string[];
}

/**
 * The one error type rime-rx raises. It carries only what is safe to log: never the API key, never the raw input
 * that was decoded, never the upgrade request, so `util.inspect(error)` can go to any log.
 */
export class RimeError extends Error {
  override readonly name = 'RimeError';
  readonly kind: RimeErrorKind;
  readonly retryable: boolean;
  declare readonly status?: number;
  declare readonly closeCode?: number;
  declare readonly reason?: string;
  declare readonly issues?: readonly string[];

  constructor(kind: RimeErrorKind, message: string, details: RimeErrorDetails = {}) {
    super(message);
    this.kind = kind;
    this.retryable = details.retryable ?? retryableByDefault[kind];
    if (details.status !== undefined) this.status = details.status;
    if (details.closeCode !== undefined) this.closeCode = details.closeCode;
    if (details.reason !== undefined) this.reason = details.reason;
    if (details.issues !== undefined) this.issues = details.issues;
  }

  /** An `invalid-options` error listing every issue, one per line. */
  static invalidOptions(issues: readonly string[]): RimeError {
    const message =
      issues.length === 1 ? `Invalid Rime options: ${issues[0]}` : `Invalid Rime options:\n  - ${issues.join('\n  - ')}`;
    return new RimeError('invalid-options', message, { issues });
  }
}

/** The shortest piece of a key that is redacted where a text was cut (a close reason's 123-byte limit). */
const MIN_KEY_PIECE = 8;

/**
 * `text` with every copy of `key` replaced, and every piece of its start of 8 characters or more too (an echo cut
 * short: a close reason's 123-byte limit, a quote cut at 40 characters): for what a server (or a proxy in front of
 * it) sends back, which could echo the request's headers. Keys shorter than 8 characters are placeholders (real keys
 * are long); redacting them would mangle every word.
 */
export function redactKey(text: string, key: string): string {
  if (key.length < MIN_KEY_PIECE) return text;
  const start = key.slice(0, MIN_KEY_PIECE);
  let result = '';
  let from = 0;
  for (let at = text.indexOf(start); at !== -1; at = text.indexOf(start, from)) {
    let length = MIN_KEY_PIECE;
    while (length < key.length && text[at + length] === key[length]) length++;
    result += `${text.slice(from, at)}<redacted>`;
    from = at + length;
  }
  return result + text.slice(from);
}
