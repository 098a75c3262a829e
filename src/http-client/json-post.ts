import { request, type Dispatcher } from 'undici';
import { headerValue, readBody } from './answer-body.js';
import { RequestDeadline } from './request-deadline.js';

/**
 * One JSON POST for the HTTP channels that speak plain JSON (Teams Workflows, the signed webhook):
 * over undici's request() on the channel's keep-alive pool, or over an injected fetch (tests).
 * Redirects are never followed: the URL is a secret, and a redirect would carry the body (and
 * its signature) somewhere the configuration did not name.
 */

/** What a channel reads of an answer: the status, one header at a time, and the start of the body. */
export interface PostAnswer {
  status: number;
  header(name: string): string | null;
  /** At most `maxAnswerBytes` of the body (`MAX_ANSWER_BYTES` unless the channel says), as text. */
  text: string;
}

/**
 * Posts `body` (already serialised) with `headers` within `timeoutMs` (a total deadline, to the end
 * of the answer) and until `signal` aborts. Rejects with an error named TimeoutError or AbortError
 * for those two, and with the transport's own error for a refused or reset connection.
 */
export type JsonPost = (url: string, body: string, headers: Record<string, string>, timeoutMs: number, signal: AbortSignal | undefined) => Promise<PostAnswer>;

/** Services answer a word or a short JSON error; more than this is not kept. */
export const MAX_ANSWER_BYTES = 16 * 1024;

/** The default post: undici's request() through `dispatcher` (a keep-alive pool of the channel's). */
export function undiciJsonPost(dispatcher: Dispatcher, maxAnswerBytes = MAX_ANSWER_BYTES): JsonPost {
  return async (url, body, headers, timeoutMs, signal) => {
    const abort = new RequestDeadline(timeoutMs, signal);
    try {
      const answer = await request(url, {
        dispatcher,
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body,
        signal: abort,
      });
      const text = (await readBody(answer.body, maxAnswerBytes, 'truncate')).toString('utf8');
      return { status: answer.statusCode, header: (name) => headerValue(answer.headers, name), text };
    } catch (error) {
      throw abort.aborted ? abort.reason : error;
    } finally {
      abort.clear();
    }
  };
}

/** An injected fetch, given the deadline and the delivery's signal, with redirects refused. */
export function fetchJsonPost(fetchImpl: typeof globalThis.fetch, maxAnswerBytes = MAX_ANSWER_BYTES): JsonPost {
  return async (url, body, headers, timeoutMs, signal) => {
    const timeout = AbortSignal.timeout(timeoutMs);
    const response = await fetchImpl(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body,
      redirect: 'manual',
      signal: signal ? AbortSignal.any([timeout, signal]) : timeout,
    });
    const text = (await response.text()).slice(0, maxAnswerBytes);
    return { status: response.status, header: (name) => response.headers.get(name), text };
  };
}
