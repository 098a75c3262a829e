import { classifyHttpStatus } from '../../../domain/failure.js';
import type { PostAnswer } from '../../../http-client/json-post.js';
import { parseRetryAfter } from '../../../http-client/retry-after.js';
import { scrub } from '../../../telemetry/redact.js';
import { DeliveryError } from '../../errors.js';

/**
 * Classifies every answer of a signed webhook receiver once, by the shared status table
 * (domain/failure.ts), as the Standard Webhooks specification asks of senders: any 2xx is a
 * delivery; 410 Gone means the receiver is gone for good and is never retried; 429 (after its
 * Retry-After), 408, 5xx, timeouts and network errors are retried; other 4xx and redirects are
 * permanent. The receiver is named by its configured name, never its URL.
 */
export function classifyWebhookAnswer(answer: PostAnswer, endpoint: string, now: number = Date.now()): DeliveryError | undefined {
  const channel = 'webhook';
  const { status } = answer;
  const verdict = classifyHttpStatus(status);
  if (verdict.ok) return undefined;
  const said = `webhook "${endpoint}" answered ${status}`;
  const { reason, retryable } = verdict;
  if (reason === 'rateLimited') {
    const retryAfterMs = parseRetryAfter(answer.header('retry-after'), now);
    return new DeliveryError(`${said}; retry after ${retryAfterMs === undefined ? 'the backoff' : `${retryAfterMs} ms`}`, { reason, retryable, channel, status, retryAfterMs });
  }
  if (retryable) return new DeliveryError(said, { reason, retryable, channel, status });
  const why =
    status === 410
      ? 'the receiver is gone (410): it asked not to be sent events any more; remove it from the configuration or fix its URL'
      : reason === 'auth'
        ? 'the receiver refused the request: check that it holds the same secret'
        : status >= 300 && status < 400
          ? 'a redirect, which is never followed: set the final URL'
          : 'the receiver refused the event';
  return new DeliveryError(`${said} (not retried: ${why})`, { reason, retryable, channel, status });
}

/** A POST that got no answer: a timeout, the delivery's abort, or a refused or reset connection. */
export function classifyWebhookError(error: unknown, endpoint: string): DeliveryError {
  const channel = 'webhook';
  const failure = error instanceof Error ? error : new Error(String(error));
  if (failure.name === 'TimeoutError' || failure.name === 'AbortError') {
    return new DeliveryError(`webhook "${endpoint}" did not answer in time`, { reason: 'timeout', retryable: true, channel, cause: error });
  }
  const code = (failure.cause as { code?: string } | undefined)?.code ?? (failure as Error & { code?: string }).code;
  return new DeliveryError(`webhook "${endpoint}" unreachable: ${scrub(code ? `${failure.message} (${code})` : failure.message)}`, {
    reason: 'serverError',
    retryable: true,
    channel,
    cause: error,
  });
}
