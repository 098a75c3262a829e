import { ClassifiedError, type ClassifiedErrorOptions } from '../domain/failure.js';

/**
 * The error hierarchy of delivery, on the shared failure model (domain/failure.ts). Every channel
 * classifies each failure exactly once, at the edge where it knows the protocol (HTTP status by the
 * shared table, SMTP reply by SMTP's own rule), into a `DeliveryError`; everything downstream (the
 * delivery stages, the backoff strategy, the operator tools) reads only `retryable`, `reason` and
 * `retryAfterMs`, never a channel's raw error.
 */

/**
 * Why a delivery failed: the failure reasons a channel uses. Stored failure texts start with one
 * (`[serverError] …`), and `storedFailureReason` reads back only these.
 */
export const DELIVERY_FAILURE_REASONS = ['clientError', 'serverError', 'timeout', 'rateLimited', 'auth', 'badResponse'] as const;
export type DeliveryFailureReason = (typeof DELIVERY_FAILURE_REASONS)[number];

export interface DeliveryErrorOptions extends ClassifiedErrorOptions<DeliveryFailureReason> {
  /** Channel that failed (`slack`, `email`). */
  channel: string;
  /** Error word the service answered with, e.g. Slack's `channel_not_found`. Never a secret. */
  code?: string;
}

/**
 * A delivery that did not happen. The message must never quote a secret (webhook URL, SMTP
 * password): channels build it from the status and the service's error word, not from library
 * messages, and `errorText` scrubs it again before it is stored.
 */
export class DeliveryError extends ClassifiedError<DeliveryFailureReason> {
  override readonly name: string = 'DeliveryError';
  readonly channel: string;
  readonly code?: string;

  constructor(message: string, options: DeliveryErrorOptions) {
    super(message, options);
    this.channel = options.channel;
    if (options.code !== undefined) this.code = options.code;
  }
}

/**
 * A delivery that names something the configuration does not hold (a webhook name, a route, a
 * channel): permanent, since retrying cannot make it appear. Usually the config changed between
 * enqueueing and sending.
 */
export class UnknownDestinationError extends DeliveryError {
  override readonly name: string = 'UnknownDestinationError';
  constructor(message: string, channel: string) {
    super(message, { reason: 'clientError', retryable: false, channel });
  }
}

export function isDeliveryError(error: unknown): error is DeliveryError {
  return error instanceof DeliveryError;
}

/** True when the service asked us to slow down and said for how long. */
export function isRateLimited(error: unknown): error is DeliveryError & { retryAfterMs: number } {
  return isDeliveryError(error) && error.reason === 'rateLimited' && typeof error.retryAfterMs === 'number';
}

/**
 * What the stored failure of a task says when its message went out but its delivered marker could
 * not be written: it failed for good so that it is not sent twice, and a bulk retry leaves it alone.
 */
export const DELIVERED_UNMARKED = 'delivered, but the delivery marker could not be written';

/** True for a stored failure text that says the message was in fact delivered. */
export function wasDeliveredUnmarked(failedReason: string | undefined): boolean {
  return (failedReason ?? '').includes(DELIVERED_UNMARKED);
}

/**
 * The reason a stored failure text starts with (`[serverError] …`, as the delivery stores
 * it in BullMQ's failedReason), or `unknown`.
 */
export function storedFailureReason(failedReason: string | undefined): DeliveryFailureReason | 'unknown' {
  const word = /^\[(\w+)\]/.exec(failedReason ?? '')?.[1];
  return word !== undefined && (DELIVERY_FAILURE_REASONS as readonly string[]).includes(word) ? (word as DeliveryFailureReason) : 'unknown';
}
