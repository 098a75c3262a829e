import type { Destination } from '../../domain/routing.js';
import { errorText, scrub } from '../../telemetry/redact.js';
import { DeliveryError, isDeliveryError } from '../errors.js';
import type { Delivery, Notifier } from '../notifier.js';

/**
 * The send stage: the rendered message to the channel, under the task's id as idempotency key.
 * A channel classifies its own failures (notify/errors.ts); anything else it throws is taken for a
 * retryable server error.
 */

/** Sends `message`; returns the channel's receipt, scrubbed (it is stored and logged). */
export async function sendMessage<Message>(
  notifier: Notifier<Message>,
  message: Message,
  destination: Destination,
  taskId: string,
  signal?: AbortSignal,
  extra: { recipients?: readonly string[]; state?: Delivery['state'] } = {},
): Promise<string | undefined> {
  const receipt = await notifier.send(message, {
    route: destination.route,
    target: destination.target,
    idempotencyKey: taskId,
    ...(signal ? { signal } : {}),
    ...(extra.recipients ? { recipients: [...extra.recipients] } : {}),
    ...(extra.state ? { state: extra.state } : {}),
  });
  return receipt.detail === undefined ? undefined : scrub(receipt.detail);
}

/** A failed render or send as a DeliveryError: the channel's own, or an unexpected one, retryable. */
export function classifySendFailure(error: unknown, channel: string): DeliveryError {
  return isDeliveryError(error) ? error : new DeliveryError(`${channel} failed unexpectedly: ${errorText(error)}`, { reason: 'serverError', retryable: true, channel, cause: error });
}
