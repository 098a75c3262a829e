import type { IncomingMessage, ServerResponse } from 'node:http';
import { Conditions, listenLocal, Scripts } from './local-http.js';

/**
 * The part the local channel servers share (the Teams Workflows endpoint and the signed webhook
 * receiver): a server on 127.0.0.1 that records every request with its own clock, answers scripted
 * failures first (`failNext`: a status with Retry-After, a hang, a dropped connection) and
 * otherwise lets the server judge the request the way the real service would.
 */

/** A scripted answer. */
export type ScriptedAnswer =
  | { status: number; body?: string; retryAfterSec?: number }
  /** Accept the request and never answer (until the server closes): the client's timeout fires. */
  | { hang: true }
  /** Destroy the connection without an answer. */
  | { drop: true };

export interface RecordedRequest {
  /** Epoch ms when the request was complete, by the server's clock. */
  at: number;
  method: string;
  /** Path without the query. */
  path: string;
  /** The query string, without `?` ('' when none). */
  query: string;
  headers: IncomingMessage['headers'];
  raw: string;
  /** What the server answered: a status, or `hang` / `drop`. */
  answer: number | 'hang' | 'drop';
}

/** What the server answers a request no script took. */
export interface Judgement {
  status: number;
  body?: string;
  contentType?: string;
}

export interface Recorder<R extends RecordedRequest> {
  readonly baseUrl: string;
  readonly requests: readonly R[];
  /** Answers the next `times` requests (to `path`, or to any) with `answer`. Scripts queue in order. */
  failNext(times: number, answer: ScriptedAnswer, path?: string): void;
  /** Resolves when `predicate` holds for the requests; rejects after `timeoutMs` (default 30 s). */
  waitFor(predicate: (requests: readonly R[]) => boolean, timeoutMs?: number): Promise<void>;
  /** Forgets requests and scripts. */
  reset(): void;
  close(): Promise<void>;
}

/** How a server reads requests: what it records of each, and what it answers when no script does. */
export interface RecorderBehaviour<R extends RecordedRequest> {
  /** The record of any request, scripted or not (what the server adds: a parsed body, a verdict). */
  inspect(base: RecordedRequest): R;
  /** The answer to a request no script took; the only place a request may count as taken. */
  answer(record: R): Judgement;
}

/** Starts a recorder on 127.0.0.1. */
export async function startRecorder<R extends RecordedRequest>(name: string, behaviour: RecorderBehaviour<R>, port = 0): Promise<Recorder<R>> {
  const requests: R[] = [];
  const scripts = new Scripts<ScriptedAnswer>();
  const conditions = new Conditions(name);

  const handle = (req: IncomingMessage, res: ServerResponse, raw: string) => {
    const [path = '/', query = ''] = (req.url ?? '/').split('?', 2);
    const base: RecordedRequest = { at: Date.now(), method: req.method ?? 'GET', path, query, headers: req.headers, raw, answer: 200 };
    const record = behaviour.inspect(base);
    requests.push(record);
    const scripted = scripts.take(path);
    if (scripted) {
      if ('hang' in scripted) {
        record.answer = 'hang';
        local.hang(res);
      } else if ('drop' in scripted) {
        record.answer = 'drop';
        req.socket.destroy();
      } else {
        record.answer = scripted.status;
        const headers: Record<string, string> = { 'content-type': 'application/json' };
        if (scripted.retryAfterSec !== undefined) headers['retry-after'] = String(scripted.retryAfterSec);
        res.writeHead(scripted.status, headers).end(scripted.body ?? '');
      }
    } else {
      const answer = behaviour.answer(record);
      record.answer = answer.status;
      res.writeHead(answer.status, { 'content-type': answer.contentType ?? 'application/json' }).end(answer.body ?? '');
    }
    conditions.recheck();
  };

  const local = await listenLocal(handle, port);

  return {
    baseUrl: local.baseUrl,
    get requests() {
      return requests;
    },
    failNext: (times, answer, path) => scripts.add(times, answer, path),
    waitFor: (predicate, timeoutMs = 30_000) => conditions.waitFor(() => predicate(requests), timeoutMs, () => `${requests.length} requests so far`),
    reset() {
      requests.length = 0;
      scripts.clear();
    },
    close: () => local.close(),
  };
}
