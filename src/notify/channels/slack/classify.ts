import { IncomingWebhookHTTPError, IncomingWebhookRequestError } from '@slack/webhook';
import { scrub } from '../../../telemetry/redact.js';
import { classifyHttpStatus } from '../../../domain/failure.js';
import { parseRetryAfter } from '../../../http-client/retry-after.js';
import { DeliveryError } from '../../errors.js';

/**
 * Classifies every answer of a Slack incoming webhook once, by the shared status table
 * (domain/failure.ts): retry (5xx, 429, 408, no answer) or give up (any other 4xx: 400
 * invalid_payload, 403 action_prohibited / invalid_token, 404 channel_not_found / no_service, 410
 * channel_is_archived). Messages name the webhook by its configured *name*, never its URL.
 */

/** What the injected fetch saw of the last response; @slack/webhook v8 hides the headers. */
export interface CapturedResponse {
  status?: number;
  retryAfter?: string | null;
}

/** Slack's error words are short snake_case; anything else in a body is not quoted. */
function errorWord(body: string | undefined): string | undefined {
  const word = body?.trim();
  return word && /^[a-z0-9_.-]{1,80}$/i.test(word) ? word : undefined;
}

function networkDetail(error: Error): string {
  const cause = error.cause as (Error & { code?: string }) | undefined;
  const code = cause?.code ?? (error as Error & { code?: string }).code;
  return scrub(code ? `${error.message} (${code})` : error.message);
}

/** Turns whatever `IncomingWebhook.send` threw into a DeliveryError. */
export function classifySlackFailure(error: unknown, webhook: string, captured: CapturedResponse, now: number = Date.now()): DeliveryError {
  const channel = 'slack';
  if (error instanceof IncomingWebhookHTTPError) {
    const status = error.statusCode;
    const code = errorWord(error.body);
    const answer = `Slack webhook "${webhook}" answered ${status}${code ? ` ${code}` : ''}`;
    const verdict = classifyHttpStatus(status);
    if (verdict.ok) {
      // @slack/webhook throws only for an answer that is not ok, so this is not expected.
      return new DeliveryError(`${answer} (unexpected)`, { reason: 'badResponse', retryable: true, channel, status, code, cause: error });
    }
    const { reason, retryable } = verdict;
    if (reason === 'rateLimited') {
      const retryAfterMs = parseRetryAfter(captured.retryAfter, now);
      return new DeliveryError(`${answer}; retry after ${retryAfterMs === undefined ? 'the backoff' : `${retryAfterMs} ms`}`, {
        reason,
        retryable,
        channel,
        status,
        code,
        retryAfterMs,
        cause: error,
      });
    }
    const note = retryable ? '' : reason === 'auth' ? ' (not retried: the webhook is refused)' : ' (not retried)';
    return new DeliveryError(`${answer}${note}`, { reason, retryable, channel, status, code, cause: error });
  }
  if (error instanceof IncomingWebhookRequestError) {
    const original = error.original;
    const timedOut = original.name === 'TimeoutError' || original.name === 'AbortError';
    return new DeliveryError(
      timedOut ? `Slack webhook "${webhook}" did not answer in time` : `Slack webhook "${webhook}" unreachable: ${networkDetail(original)}`,
      { reason: timedOut ? 'timeout' : 'serverError', retryable: true, channel, cause: error },
    );
  }
  const text = error instanceof Error ? error.message : String(error);
  return new DeliveryError(`Slack webhook "${webhook}" failed: ${scrub(text)}`, { reason: 'serverError', retryable: true, channel, cause: error });
}
