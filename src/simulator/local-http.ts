import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/**
 * What the local stand-ins for Slack, Teams and webhook receivers share: a server on 127.0.0.1
 * that reads each request's body whole before handling it and tears everything down on close, and
 * the conditions a test waits for on what the server recorded.
 */

/** Conditions awaited on a server's record, checked again after each request it handles. */
export class Conditions {
  private readonly waiters = new Set<() => void>();

  /** `what` names the server in the error of a condition that times out. */
  constructor(private readonly what: string) {}

  /** Resolves once `holds()` is true; rejects after `timeoutMs`, saying `progress()` (what came so far). */
  waitFor(holds: () => boolean, timeoutMs: number, progress: () => string): Promise<void> {
    if (holds()) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const check = () => {
        if (!holds()) return;
        clearTimeout(timer);
        this.waiters.delete(check);
        resolve();
      };
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        reject(new Error(`${this.what}: condition not met within ${timeoutMs} ms (${progress()})`));
      }, timeoutMs);
      this.waiters.add(check);
    });
  }

  /** Checks every waiting condition again: call after recording a request. */
  recheck(): void {
    for (const waiter of [...this.waiters]) waiter();
  }
}

export interface LocalHttpServer {
  readonly server: Server;
  readonly baseUrl: string;
  /** Keeps `res` open without an answer until the server closes (a client's timeout fires). */
  hang(res: ServerResponse): void;
  /** Ends hanging answers and open connections, then stops listening. */
  close(): Promise<void>;
}

/** Listens on 127.0.0.1 (`port` 0 or absent: a free one) and hands each request over with its body. */
export async function listenLocal(handle: (req: IncomingMessage, res: ServerResponse, body: string) => void, port = 0): Promise<LocalHttpServer> {
  const hanging = new Set<ServerResponse>();
  const sockets = new Set<Socket>();
  const server = createServer((req, res) => {
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
  return {
    server,
    baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    hang(res) {
      hanging.add(res);
      res.on('close', () => hanging.delete(res));
    },
    async close() {
      for (const res of hanging) res.destroy();
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Answers scripted for the next requests, each for every request or for those of one key (a path, a method). */
export class Scripts<A> {
  private readonly entries: Array<{ answer: A; remaining: number; key?: string }> = [];

  /** The next `times` requests (of `key`, when given) get `answer`. */
  add(times: number, answer: A, key?: string): void {
    if (times > 0) this.entries.push({ answer, remaining: times, ...(key === undefined ? {} : { key }) });
  }

  /** The answer scripted for a request of `key`, used up; undefined when none is. */
  take(key: string): A | undefined {
    const index = this.entries.findIndex((entry) => entry.key === undefined || entry.key === key);
    if (index < 0) return undefined;
    const entry = this.entries[index]!;
    entry.remaining -= 1;
    if (entry.remaining <= 0) this.entries.splice(index, 1);
    return entry.answer;
  }

  clear(): void {
    this.entries.length = 0;
  }
}
