/**
 * One failure model for every call gem-watch makes outside itself: the GEM API and each
 * notification channel. A failure is classified once, at the edge that knows the protocol, into a
 * `ClassifiedError`; everything downstream (the workers, the backoff, the operator tools) reads only
 * `retryable`, `reason` and `retryAfterMs`. Retryable errors are thrown so BullMQ's attempts and
 * backoff apply; the others fail their task at once.
 *
 * It lives in domain/ because it is pure (a class and a table, no I/O) and both gem/ and notify/
 * build on it: domain/ is the one layer both may import, so neither has to import the other.
 */

/** Why a call failed, in words shared by GEM and every channel. */
export const FAILURE_REASONS = ['network', 'timeout', 'serverError', 'rateLimited', 'auth', 'notFound', 'clientError', 'badResponse'] as const;
export type FailureReason = (typeof FAILURE_REASONS)[number];

export interface ClassifiedErrorOptions<R extends FailureReason = FailureReason> {
  reason: R;
  /** True when the same call may succeed later, so it is worth another attempt. */
  retryable: boolean;
  /** Protocol status, when the service answered: the HTTP status, or an SMTP reply code. */
  status?: number;
  /** How long the service asked us to wait before the next attempt, in milliseconds (Retry-After). */
  retryAfterMs?: number;
  /** The underlying error, kept for the log; its text is scrubbed before it is shown. */
  cause?: unknown;
}

/**
 * The base of every classified failure (`GemApiError`, `DeliveryError` and their subclasses). Those
 * keep their own class names, since the names appear in logs and in the failure texts BullMQ
 * stores for tasks of a running deployment.
 */
export class ClassifiedError<R extends FailureReason = FailureReason> extends Error {
  override readonly name: string = 'ClassifiedError';
  readonly reason: R;
  readonly retryable: boolean;
  readonly status?: number;
  readonly retryAfterMs?: number;

  constructor(message: string, options: ClassifiedErrorOptions<R>) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.reason = options.reason;
    this.retryable = options.retryable;
    if (options.status !== undefined) this.status = options.status;
    if (options.retryAfterMs !== undefined) this.retryAfterMs = options.retryAfterMs;
  }
}

export function isClassifiedError(error: unknown): error is ClassifiedError {
  return error instanceof ClassifiedError;
}

/** What an HTTP status says of a call: success, or a failure with its reason and retryability. */
export type HttpStatusClass =
  | { ok: true }
  | { ok: false; reason: 'timeout' | 'rateLimited' | 'auth' | 'clientError' | 'serverError'; retryable: boolean };

/**
 * The one table from an HTTP status to its class, for GEM and every HTTP channel, the way
 * Alertmanager's retrier reads an answer: success, retry (5xx, 429, 408) or give up (other 4xx).
 *
 * | status            | reason      | retried | why                                                            |
 * | ----------------- | ----------- | ------- | -------------------------------------------------------------- |
 * | 2xx               | (success)   |         |                                                                |
 * | 408               | timeout     | yes     | the server gave up waiting for the request; a new one may pass |
 * | 429               | rateLimited | yes     | after the Retry-After the service asked for                    |
 * | 401, 403          | auth        | no      | credentials refused (GEM's client has already refreshed its    |
 * |                   |             |         | token once): only an operator can fix them                     |
 * | other 4xx         | clientError | no      | the same request gets the same answer                          |
 * | 5xx               | serverError | yes     | the service's own trouble, usually passing                     |
 * | anything else     | clientError | no      | 1xx, 3xx: redirects are never followed (a credential would go  |
 * |                   |             |         | along), so the configured URL is not the service's             |
 *
 * A client may name a class more narrowly (GEM's detail 404 is `notFound`: the job is gone), never
 * change whether it is retried.
 */
export function classifyHttpStatus(status: number): HttpStatusClass {
  if (status >= 200 && status <= 299) return { ok: true };
  if (status === 408) return { ok: false, reason: 'timeout', retryable: true };
  if (status === 429) return { ok: false, reason: 'rateLimited', retryable: true };
  if (status === 401 || status === 403) return { ok: false, reason: 'auth', retryable: false };
  if (status >= 400 && status <= 499) return { ok: false, reason: 'clientError', retryable: false };
  if (status >= 500 && status <= 599) return { ok: false, reason: 'serverError', retryable: true };
  return { ok: false, reason: 'clientError', retryable: false };
}
