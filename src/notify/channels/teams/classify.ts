import { classifyHttpStatus } from '../../../domain/failure.js';
import type { PostAnswer } from '../../../http-client/json-post.js';
import { parseRetryAfter } from '../../../http-client/retry-after.js';
import { scrub } from '../../../telemetry/redact.js';
import { DeliveryError } from '../../errors.js';

/**
 * Classifies every answer of a Teams Workflows webhook once, by the shared status table
 * (domain/failure.ts). Workflows answers 202 Accepted when it takes a message (any 2xx is taken
 * as delivered). 429 (with Retry-After) and 5xx are retried; 400 (the card or body refused), 401
 * and 403 (the URL's signature no longer valid, or the flow's trigger restricted), 404 (the flow
 * deleted or turned off) are permanent, with a log line that says what to fix. Messages name the
 * webhook by its configured name, never its URL (the URL's query is its credential).
 */

const FIXES: Record<number, string> = {
  400: 'Teams refused the card; the body is logged at debug level',
  401: 'the Workflows URL was refused: copy the URL of the flow again (its sig parameter may have changed)',
  403: 'the Workflows URL was refused: check who may trigger the flow, or copy its URL again',
  404: 'no flow answers at this URL: the Workflows flow was deleted or turned off; create one ("Post to a channel when a webhook request is received") and set its URL',
};

/** Workflows answers errors as JSON `{"error":{"code":"…","message":"…"}}`; only the code word is kept. */
function errorCode(text: string): string | undefined {
  try {
    const parsed = JSON.parse(text) as { error?: { code?: unknown } };
    const code = parsed.error?.code;
    return typeof code === 'string' && /^[A-Za-z0-9_.-]{1,80}$/.test(code) ? code : undefined;
  } catch {
    return undefined;
  }
}

/** An answer that is not a success, as a DeliveryError; undefined for a success. */
export function classifyTeamsAnswer(answer: PostAnswer, webhook: string, now: number = Date.now()): DeliveryError | undefined {
  const channel = 'teams';
  const { status } = answer;
  const verdict = classifyHttpStatus(status);
  if (verdict.ok) return undefined;
  const code = errorCode(answer.text);
  const said = `Teams webhook "${webhook}" answered ${status}${code ? ` ${code}` : ''}`;
  const { reason, retryable } = verdict;
  if (reason === 'rateLimited') {
    const retryAfterMs = parseRetryAfter(answer.header('retry-after'), now);
    return new DeliveryError(`${said}; retry after ${retryAfterMs === undefined ? 'the backoff' : `${retryAfterMs} ms`}`, { reason, retryable, channel, status, code, retryAfterMs });
  }
  if (retryable) return new DeliveryError(said, { reason, retryable, channel, status, code });
  const fix = FIXES[status] ?? (status >= 300 && status < 400 ? 'a redirect: the URL is not a Workflows webhook' : 'Teams refused the message');
  return new DeliveryError(`${said} (not retried: ${fix})`, { reason, retryable, channel, status, code });
}

/** A post that got no answer: a timeout, the delivery's abort, or a refused or reset connection. */
export function classifyTeamsError(error: unknown, webhook: string): DeliveryError {
  const channel = 'teams';
  const failure = error instanceof Error ? error : new Error(String(error));
  if (failure.name === 'TimeoutError' || failure.name === 'AbortError') {
    return new DeliveryError(`Teams webhook "${webhook}" did not answer in time`, { reason: 'timeout', retryable: true, channel, cause: error });
  }
  const code = (failure.cause as { code?: string } | undefined)?.code ?? (failure as Error & { code?: string }).code;
  return new DeliveryError(`Teams webhook "${webhook}" unreachable: ${scrub(code ? `${failure.message} (${code})` : failure.message)}`, {
    reason: 'serverError',
    retryable: true,
    channel,
    cause: error,
  });
}
