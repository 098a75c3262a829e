import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

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

interface Scripted {
  answer: ScriptedAnswer;
  remaining: number;
  path?: string;
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
  const scripts: Scripted[] = [];
  const waiters = new Set<() => void>();
  const hanging = new Set<ServerResponse>();
  const sockets = new Set<Socket>();

  const takeScript = (path: string): ScriptedAnswer | undefined => {
    const index = scripts.findIndex((script) => script.path === undefined || script.path === path);
    if (index < 0) return undefined;
    const script = scripts[index]!;
    script.remaining -= 1;
    if (script.remaining <= 0) scripts.splice(index, 1);
    return script.answer;
  };

  const handle = (req: IncomingMessage, res: ServerResponse, raw: string) => {
    const [path = '/', query = ''] = (req.url ?? '/').split('?', 2);
    const base: RecordedRequest = { at: Date.now(), method: req.method ?? 'GET', path, query, headers: req.headers, raw, answer: 200 };
    const record = behaviour.inspect(base);
    requests.push(record);
    const scripted = takeScript(path);
    if (scripted) {
      if ('hang' in scripted) {
        record.answer = 'hang';
        hanging.add(res);
        res.on('close', () => hanging.delete(res));
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
    for (const waiter of [...waiters]) waiter();
  };

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => handle(req, res, Buffer.concat(chunks).toString('utf8')));
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    baseUrl,
    get requests() {
      return requests;
    },
    failNext(times, answer, path) {
      if (times > 0) scripts.push({ answer, remaining: times, ...(path === undefined ? {} : { path }) });
    },
    waitFor(predicate, timeoutMs = 30_000) {
      if (predicate(requests)) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        const check = () => {
          if (!predicate(requests)) return;
          clearTimeout(timer);
          waiters.delete(check);
          resolve();
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`${name}: condition not met within ${timeoutMs} ms (${requests.length} requests so far)`));
        }, timeoutMs);
        waiters.add(check);
      });
    },
    reset() {
      requests.length = 0;
      scripts.length = 0;
    },
    async close() {
      for (const res of hanging) res.destroy();
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
