import type { FetchFunction } from '@slack/webhook';
import { request, type Dispatcher } from 'undici';
import { headerValue, readBody } from '../../../http-client/answer-body.js';
import { RequestDeadline } from '../../../http-client/request-deadline.js';

/**
 * The Slack channel's transport: the post @slack/webhook's IncomingWebhook makes through its
 * `fetch` option, either over undici's request() (the default) or over an injected fetch (tests).
 */

export type FetchInit = NonNullable<Parameters<FetchFunction>[1]>;
export type FetchAnswer = Awaited<ReturnType<FetchFunction>>;

/**
 * Posts one message as @slack/webhook asks its fetch to, within `timeoutMs` (a total deadline, to
 * the end of the answer) and until `signal` (the delivery's) aborts. It rejects with an error named
 * TimeoutError or AbortError for those two, which classify.ts calls a timeout.
 */
export type Post = (url: string | URL, init: FetchInit, timeoutMs: number, signal: AbortSignal | undefined) => Promise<FetchAnswer>;

/** Slack answers a word or two; more than this is not kept (the rest closes the socket). */
const MAX_ANSWER_BYTES = 64 * 1024;

/**
 * The default post: undici's request() through `dispatcher`, answering with just what
 * @slack/webhook 8 and this notifier read (ok, status, statusText, text(), headers.get). It skips
 * fetch's WHATWG layer (web streams, Response objects), and its keep-alive pool spares a TLS
 * handshake per message. Redirects fail the post, as @slack/webhook's `redirect: 'error'` asks.
 */
export function undiciPost(dispatcher: Dispatcher): Post {
  return async (url, init, timeoutMs, signal) => {
    const abort = new RequestDeadline(timeoutMs, signal);
    try {
      const answer = await request(url, {
        dispatcher,
        method: (init.method ?? 'GET') as Dispatcher.HttpMethod,
        ...(init.headers ? { headers: init.headers } : {}),
        ...(typeof init.body === 'string' ? { body: init.body } : {}),
        signal: abort,
      });
      const { statusCode: status, headers } = answer;
      if (init.redirect === 'error' && [301, 302, 303, 307, 308].includes(status)) {
        await answer.body.dump();
        throw new Error(`unexpected redirect (${status})`);
      }
      const text = (await readBody(answer.body, MAX_ANSWER_BYTES, 'truncate')).toString('utf8');
      const get = (name: string): string | null => headerValue(headers, name);
      return {
        ok: status >= 200 && status <= 299,
        status,
        statusText: answer.statusText ?? '',
        url: String(url),
        headers: { get, entries: () => Object.keys(headers).map((name): [string, string] => [name, get(name) ?? '']) },
        text: async () => text,
        json: async () => JSON.parse(text) as unknown,
        arrayBuffer: async () => new TextEncoder().encode(text).buffer as ArrayBuffer,
      };
    } catch (error) {
      // After the deadline or the delivery's abort, undici rejects with that reason; any other
      // error (refused, reset) is passed on as it is.
      throw abort.aborted ? abort.reason : error;
    } finally {
      abort.clear();
    }
  };
}

/** An injected fetch, given the deadline and the delivery's signal the usual way. */
export function fetchPost(fetchImpl: typeof globalThis.fetch): Post {
  return (url, init, timeoutMs, signal) => {
    const timeout = AbortSignal.timeout(timeoutMs);
    return fetchImpl(url, { ...init, signal: signal ? AbortSignal.any([timeout, signal]) : timeout } as RequestInit);
  };
}

