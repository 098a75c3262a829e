import type { JsonPost } from '../../../http-client/json-post.js';

/**
 * The Slack app channel's transport: Slack's Web API wire format (an HTTPS POST of JSON to
 * `<apiUrl><method>` with `Authorization: Bearer <bot token>`, answered by JSON `{ok, error, …}`),
 * over the JSON POST the other HTTP channels use (http-client/json-post.ts: undici on the
 * notifier's keep-alive pool, or an injected fetch in tests; the same deadline, abort signal and
 * refused redirects). Not @slack/web-api: it brings its own retry (p-retry) and rate-limit queue
 * (p-queue) that would have to be switched off for the delivery's queue, backoff and rate gate to
 * stay the one place that retries and waits; and the three methods used here (auth.test,
 * chat.postMessage, chat.update) are one JSON POST each.
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

/** Slack's answers are small, but chat.postMessage echoes the message: at most a few dozen kB. */
export const WEB_API_ANSWER_BYTES = 256 * 1024;

function parse(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** Web API calls to `apiUrl` over `post` (made with WEB_API_ANSWER_BYTES, so an echo parses whole). */
export function webApiCall(apiUrl: string, post: JsonPost): WebApiCall {
  return async (method, args, token, timeoutMs, signal) => {
    const headers = { 'content-type': 'application/json; charset=utf-8', authorization: `Bearer ${token}` };
    const answer = await post(new URL(method, apiUrl).toString(), JSON.stringify(args), headers, timeoutMs, signal);
    return { status: answer.status, retryAfter: answer.header('retry-after'), body: parse(answer.text) };
  };
}
