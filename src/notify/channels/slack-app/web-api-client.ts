import { request, type Dispatcher } from 'undici';
import { headerValue, readBody } from '../../../http-client/answer-body.js';
import { RequestDeadline } from '../../../http-client/request-deadline.js';

/**
 * The Slack app channel's transport: Slack's Web API wire format (an HTTPS POST of JSON to
 * `<apiUrl><method>` with `Authorization: Bearer <bot token>`, answered by JSON `{ok, error, …}`),
 * over undici's request() on the notifier's keep-alive pool, or over an injected fetch (tests).
 * Not @slack/web-api: it brings its own retry (p-retry) and rate-limit queue (p-queue) that would
 * have to be switched off for the delivery's queue, backoff and rate gate to stay the one place
 * that retries and waits; and the three methods used here (auth.test, chat.postMessage,
 * chat.update) are one JSON POST each. The transport, the deadline and the abort signal are then
 * the same as the incoming webhooks' (webhook-client.ts).
 */

/** What one Web API call answered. */
export interface WebApiAnswer {
  /** HTTP status (200 for every `ok: false` but a 429). */
  status: number;
  /** The Retry-After header, as sent. */
  retryAfter: string | null;
  /** The JSON body, or undefined when the body was not a JSON object. */
  body: Record<string, unknown> | undefined;
}

/** One Web API call: `method` (`chat.postMessage`), its JSON arguments, the bot token. */
export type WebApiCall = (method: string, args: Record<string, unknown>, token: string, timeoutMs: number, signal: AbortSignal | undefined) => Promise<WebApiAnswer>;

/** Slack's answers are small; a message's echo is at most a few dozen kB. */
const MAX_ANSWER_BYTES = 256 * 1024;

function parse(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

function requestBody(token: string, args: Record<string, unknown>): { headers: Record<string, string>; body: string } {
  return {
    headers: { 'content-type': 'application/json; charset=utf-8', authorization: `Bearer ${token}` },
    body: JSON.stringify(args),
  };
}

/** The default call: undici's request() through `dispatcher`, within `timeoutMs` to the end of the answer. */
export function undiciWebApi(apiUrl: string, dispatcher: Dispatcher): WebApiCall {
  return async (method, args, token, timeoutMs, signal) => {
    const abort = new RequestDeadline(timeoutMs, signal);
    try {
      const answer = await request(new URL(method, apiUrl), { dispatcher, method: 'POST', ...requestBody(token, args), signal: abort });
      const text = (await readBody(answer.body, MAX_ANSWER_BYTES, 'truncate')).toString('utf8');
      return { status: answer.statusCode, retryAfter: headerValue(answer.headers, 'retry-after'), body: parse(text) };
    } catch (error) {
      throw abort.aborted ? abort.reason : error;
    } finally {
      abort.clear();
    }
  };
}

/** An injected fetch, given the deadline and the delivery's signal the usual way. */
export function fetchWebApi(apiUrl: string, fetchImpl: typeof globalThis.fetch): WebApiCall {
  return async (method, args, token, timeoutMs, signal) => {
    const timeout = AbortSignal.timeout(timeoutMs);
    const response = await fetchImpl(new URL(method, apiUrl), {
      method: 'POST',
      ...requestBody(token, args),
      redirect: 'error',
      signal: signal ? AbortSignal.any([timeout, signal]) : timeout,
    });
    return { status: response.status, retryAfter: response.headers.get('retry-after'), body: parse(await response.text()) };
  };
}
