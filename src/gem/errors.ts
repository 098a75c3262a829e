/**
 * Every failure of a GEM call is classified once, here, so the rest of gem-watch only asks
 * `retryable` and `reason`: retryable errors are thrown for BullMQ's attempts and backoff, the rest
 * fail the task at once.
 */
export type GemErrorReason =
  | 'network'
  | 'timeout'
  | 'serverError'
  | 'rateLimited'
  | 'auth'
  | 'notFound'
  | 'clientError'
  | 'badResponse';

export interface GemApiErrorOptions {
  reason: GemErrorReason;
  retryable: boolean;
  /** HTTP status, when an answer came. */
  status?: number;
  /** From Retry-After, in milliseconds. */
  retryAfterMs?: number;
  /** `list` or `detail`. */
  endpoint: string;
  cause?: unknown;
}

export class GemApiError extends Error {
  override name = 'GemApiError';
  readonly reason: GemErrorReason;
  readonly retryable: boolean;
  readonly status?: number;
  readonly retryAfterMs?: number;
  readonly endpoint: string;

  constructor(message: string, options: GemApiErrorOptions) {
    super(message, { cause: options.cause });
    this.reason = options.reason;
    this.retryable = options.retryable;
    this.status = options.status;
    this.retryAfterMs = options.retryAfterMs;
    this.endpoint = options.endpoint;
  }
}

/** 401 after one token refresh, or 403: the credentials are not accepted. */
export class GemAuthError extends GemApiError {
  override name = 'GemAuthError';
}

/** 404 on the detail call: the job is gone (or the detail path template is wrong). */
export class GemNotFoundError extends GemApiError {
  override name = 'GemNotFoundError';
}

/** An answer that is not JSON, or JSON that does not fit the documented shape. */
export class GemResponseError extends GemApiError {
  override name = 'GemResponseError';
}

export function isGemApiError(error: unknown): error is GemApiError {
  return error instanceof GemApiError;
}

export function isGemAuthError(error: unknown): error is GemAuthError {
  return error instanceof GemAuthError;
}

export function isGemNotFoundError(error: unknown): error is GemNotFoundError {
  return error instanceof GemNotFoundError;
}

export function isGemResponseError(error: unknown): error is GemResponseError {
  return error instanceof GemResponseError;
}
