import { UnrecoverableError } from 'bullmq';
import { errorText, scrub } from '../../telemetry/redact.js';
import { DeliveryError } from '../errors.js';

/**
 * What a stage throws to the queue. A `DeliveryError` is retried with the task's attempts and
 * backoff; an `UnrecoverableError` fails the task at once. BullMQ stores the message and stack of
 * either, so both are scrubbed: nothing stored carries a secret.
 */

/** The error BullMQ stores: reason first, scrubbed, with a stack that quotes nothing else. */
export function storedError(error: DeliveryError): DeliveryError {
  const stored = new DeliveryError(`[${error.reason}] ${errorText(error)}`, {
    reason: error.reason,
    retryable: error.retryable,
    channel: error.channel,
    ...(error.status !== undefined ? { status: error.status } : {}),
    ...(error.code !== undefined ? { code: error.code } : {}),
    ...(error.retryAfterMs !== undefined ? { retryAfterMs: error.retryAfterMs } : {}),
  });
  stored.stack = scrub(stored.stack ?? stored.message);
  return stored;
}

/** A failure no attempt will change: the task fails for good, with a scrubbed text. */
export function permanent(message: string): UnrecoverableError {
  const error = new UnrecoverableError(scrub(message));
  error.stack = scrub(error.stack ?? error.message);
  return error;
}
