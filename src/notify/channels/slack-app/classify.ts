import { classifyHttpStatus } from '../../../domain/failure.js';
import { parseRetryAfter } from '../../../http-client/retry-after.js';
import { scrub } from '../../../telemetry/redact.js';
import { DeliveryError } from '../../errors.js';
import type { WebApiAnswer } from './web-api-client.js';

/**
 * Classifies every Slack Web API answer once. Slack answers most errors with HTTP 200 and
 * `{"ok": false, "error": "<word>"}`, so the word decides, then the HTTP status by the shared table
 * (domain/failure.ts):
 *
 * | answer                                                  | class                     |
 * | ------------------------------------------------------- | ------------------------- |
 * | HTTP 429, or `ratelimited`                              | rateLimited, after Retry-After |
 * | 5xx, `internal_error`, `fatal_error`, `service_unavailable`, `request_timeout` | retried |
 * | `invalid_auth`, `not_authed`, `account_inactive`, `token_revoked`, `token_expired`, `missing_scope`, `no_permission`, `ekm_access_denied` | auth, permanent |
 * | `channel_not_found`, `not_in_channel`, `is_archived`, `restricted_action`, … | clientError, permanent |
 * | `message_not_found` (chat.update)                       | returned to the notifier: post a fresh message |
 * | anything else `ok: false`, or a body that is not JSON   | clientError / badResponse |
 *
 * Messages name the channel as configured (an id or `#name`), never the token, and say what to fix.
 */

const CHANNEL = 'slack-app';

/** What to do about each permanent error word: the log line tells the operator this. */
const FIXES: Readonly<Record<string, string>> = {
  invalid_auth: 'the bot token is not valid: set SLACK_BOT_TOKEN to the app\'s current Bot User OAuth Token (xoxb-…)',
  not_authed: 'no bot token reached Slack: set SLACK_BOT_TOKEN (or SLACK_BOT_TOKEN_FILE)',
  account_inactive: 'the bot\'s user or workspace is deactivated: reinstall the Slack app and set SLACK_BOT_TOKEN to its new token',
  token_revoked: 'the bot token was revoked: reinstall the Slack app and set SLACK_BOT_TOKEN to its new token',
  token_expired: 'the bot token expired: set SLACK_BOT_TOKEN to a current token (or turn off token rotation for the app)',
  missing_scope: 'the Slack app lacks the chat:write scope: add it under OAuth & Permissions and reinstall the app',
  no_permission: 'the Slack app may not post here: check its scopes (chat:write) and the workspace\'s app permissions',
  ekm_access_denied: 'the workspace\'s key management refused access: ask the Slack administrators',
  channel_not_found: 'no such channel for this bot: check SLACK_CHANNEL (or the route\'s slackApp.channel); a private channel needs the app invited (/invite @app)',
  not_in_channel: 'the bot is not a member of the channel: invite the app there (/invite @app), or add the chat:write.public scope',
  is_archived: 'the channel is archived: unarchive it or point SLACK_CHANNEL (or the route\'s slackApp.channel) at another channel',
  restricted_action: 'the workspace does not let this app post in the channel: ask the Slack administrators',
  restricted_action_read_only_channel: 'the channel is read-only for apps: pick another channel',
  restricted_action_thread_only_channel: 'the channel allows only thread replies: pick another channel',
  restricted_action_non_threadable_channel: 'the channel does not allow threads: pick another channel',
  cant_update_message: 'Slack refuses to update this message (it was not posted by this bot)',
  edit_window_closed: 'the workspace no longer allows editing this message',
  msg_too_long: 'the message was longer than Slack allows (a bug: the renderers keep within the limits)',
  invalid_blocks: 'Slack refused the message\'s blocks (a bug: the renderers keep within Block Kit)',
  invalid_arguments: 'Slack refused the call\'s arguments (a bug)',
  too_many_attachments: 'too many attachments (a bug)',
};

const AUTH_WORDS = new Set(['invalid_auth', 'not_authed', 'account_inactive', 'token_revoked', 'token_expired', 'missing_scope', 'no_permission', 'ekm_access_denied', 'not_allowed_token_type']);
const RETRY_WORDS = new Set(['internal_error', 'fatal_error', 'service_unavailable', 'request_timeout', 'team_added_to_org']);

/** Slack's error words are short snake_case; anything else in a body is not quoted. */
function word(value: unknown): string | undefined {
  return typeof value === 'string' && /^[a-z0-9_.-]{1,80}$/i.test(value) ? value : undefined;
}

/** The failure an answer means, or undefined when it is `ok: true`. `where` names the channel for people. */
export function classifyWebApiAnswer(method: string, answer: WebApiAnswer, where: string, now: number = Date.now()): DeliveryError | undefined {
  const { status, body } = answer;
  const code = word(body?.error);
  const said = `Slack ${method} for ${where} answered ${status}${code ? ` ${code}` : ''}`;
  if (status === 429 || code === 'ratelimited') {
    const retryAfterMs = parseRetryAfter(answer.retryAfter, now);
    return new DeliveryError(`${said}; retry after ${retryAfterMs === undefined ? 'the backoff' : `${retryAfterMs} ms`}`, {
      reason: 'rateLimited',
      retryable: true,
      channel: CHANNEL,
      status,
      ...(code ? { code } : {}),
      ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
    });
  }
  const verdict = classifyHttpStatus(status);
  if (!verdict.ok) {
    const fix = code ? FIXES[code] : undefined;
    return new DeliveryError(`${said}${verdict.retryable ? '' : ` (not retried${fix ? `: ${fix}` : ''})`}`, {
      reason: code && AUTH_WORDS.has(code) ? 'auth' : verdict.reason,
      retryable: verdict.retryable,
      channel: CHANNEL,
      status,
      ...(code ? { code } : {}),
    });
  }
  if (body === undefined || typeof body.ok !== 'boolean') {
    return new DeliveryError(`${said}, not a Web API answer (is SLACK_API_URL right?)`, { reason: 'badResponse', retryable: true, channel: CHANNEL, status });
  }
  if (body.ok) return undefined;
  if (code && RETRY_WORDS.has(code)) return new DeliveryError(`${said}; retried`, { reason: 'serverError', retryable: true, channel: CHANNEL, status, code });
  const fix = code ? FIXES[code] : undefined;
  return new DeliveryError(`${said} (not retried${fix ? `: ${fix}` : ''})`, {
    reason: code && AUTH_WORDS.has(code) ? 'auth' : 'clientError',
    retryable: false,
    channel: CHANNEL,
    status,
    ...(code ? { code } : {}),
  });
}

function networkDetail(error: Error): string {
  const cause = error.cause as (Error & { code?: string }) | undefined;
  const code = cause?.code ?? (error as Error & { code?: string }).code;
  return scrub(code ? `${error.message} (${code})` : error.message);
}

/** A call that got no answer: a timeout, an abort or a network failure, all retried. */
export function classifyWebApiError(method: string, error: unknown, where: string): DeliveryError {
  const failure = error instanceof Error ? error : new Error(String(error));
  const timedOut = failure.name === 'TimeoutError' || failure.name === 'AbortError';
  return new DeliveryError(timedOut ? `Slack ${method} for ${where} did not answer in time` : `Slack ${method} for ${where} unreachable: ${networkDetail(failure)}`, {
    reason: timedOut ? 'timeout' : 'serverError',
    retryable: true,
    channel: CHANNEL,
    cause: failure,
  });
}
