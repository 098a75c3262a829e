import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** Answers one request; `body` is the whole request body, read before the call. */
export type RawHttpHandler = (request: IncomingMessage, response: ServerResponse, body: string) => void;

/** A plain `node:http` server on 127.0.0.1 that a test drives request by request. */
export interface RawHttpServer {
  /** `http://127.0.0.1:<port>`, no trailing slash. */
  readonly baseUrl: string;
  /** Connections opened since the last reset: a keep-alive test expects this to stay at 1. */
  readonly connections: number;
  /** Every request whose body has been read since the last reset, in order of arrival. */
  readonly requests: IncomingMessage[];
  /** Answers the next requests; `reset()` puts the default handler back. */
  handler: RawHttpHandler;
  /** For afterEach: drops every open socket, empties `requests`, zeroes `connections`, restores the default handler. */
  reset(): void;
  /** For afterAll: drops every open socket and stops listening. */
  close(): Promise<void>;
}

/**
 * Starts a raw HTTP server for transport tests: stalls, trickles, drops and keep-alive reuse that a
 * simulator would smooth over. Keep-alive lasts 30 s, so an idle connection is still there to be
 * reused (or counted) when the next request comes.
 *
 * @param defaultHandler answers every request until a test sets `handler`, and again after `reset()`.
 */
export async function startRawHttpServer(defaultHandler: RawHttpHandler): Promise<RawHttpServer> {
  const sockets = new Set<Socket>();
  const dropSockets = () => {
    for (const socket of sockets) socket.destroy();
  };
  let connections = 0;
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      raw.requests.push(request);
      raw.handler(request, response, Buffer.concat(chunks).toString('utf8'));
    });
  });
  server.keepAliveTimeout = 30_000;
  server.on('connection', (socket) => {
    connections += 1;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const raw: RawHttpServer = {
    baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    get connections() {
      return connections;
    },
    requests: [],
    handler: defaultHandler,
    reset() {
      dropSockets();
      connections = 0;
      raw.requests.length = 0;
      raw.handler = defaultHandler;
    },
    async close() {
      dropSockets();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return raw;
}
