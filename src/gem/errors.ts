import { ClassifiedError, type ClassifiedErrorOptions, type FailureReason } from '../domain/failure.js';

/**
 * Every failure of a GEM call is classified once, here and in the client (HTTP statuses by the
 * shared table, domain/failure.ts), so the rest of gem-watch only asks `retryable` and `reason`:
 * retryable errors are thrown for BullMQ's attempts and backoff, the rest fail the task at once.
 */
export type GemErrorReason = FailureReason;

export interface GemApiErrorOptions extends ClassifiedErrorOptions<GemErrorReason> {
  /** `list` or `detail`. */
  endpoint: string;
}

export class GemApiError extends ClassifiedError<GemErrorReason> {
  override readonly name: string = 'GemApiError';
  readonly endpoint: string;

  constructor(message: string, options: GemApiErrorOptions) {
    super(message, options);
    this.endpoint = options.endpoint;
  }
}

/** 401 after one token refresh, or 403: the credentials are not accepted. */
export class GemAuthError extends GemApiError {
  override readonly name: string = 'GemAuthError';
}

/** 404 on the detail call: the job is gone (or the detail path template is wrong). */
export class GemNotFoundError extends GemApiError {
  override readonly name: string = 'GemNotFoundError';
}

/** An answer that is not JSON, or JSON that does not fit the documented shape. */
export class GemResponseError extends GemApiError {
  override readonly name: string = 'GemResponseError';
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
