import { createServer, type IncomingMessage, type RequestListener, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { RequestHandler } from 'express';
import { hostOfHostHeader, isLoopbackHost } from '../config/loopback.js';

/**
 * What a client may cost an HTTP server of gem-watch; the `http` section of the configuration fits.
 * Measured: 250 connections trickling their headers held 250 descriptors for minutes (Node's
 * defaults cut them after 60 s, checked every 30 s), until /healthz stopped answering and SMTP
 * delivery failed with EMFILE.
 */
export interface HttpLimits {
  /** Time to send a request's line and headers, in milliseconds; a slower client gets 408. */
  headersTimeoutMs: number;
  /** Time to send the whole request, in milliseconds; at least headersTimeoutMs (Node insists). */
  requestTimeoutMs: number;
  /** Connections held at once; beyond it the oldest connection with no request in progress is closed. */
  maxConnections: number;
  /** Largest request line and headers, in bytes; Node answers 431 beyond it. */
  maxHeaderBytes: number;
  /** Largest request body, in bytes: a larger Content-Length is answered 413, a body without one 411. */
  maxBodyBytes: number;
}

/** What the connection budget did, for a log line or a test. */
export interface HardenedServerEvents {
  /** A connection was closed to keep within maxConnections; `newest` when it was the one just opened. */
  onShed?: (which: 'idle' | 'newest') => void;
}

/**
 * How often Node looks for connections past their header or request deadline, in milliseconds. Its
 * default of 30 s let a trickling client live up to 40 s against a 10 s limit; a quarter of the
 * limit (at most 1 s) keeps the overrun small, and the sweep is a walk over at most maxConnections.
 */
function checkingIntervalMs(limits: HttpLimits): number {
  return Math.max(10, Math.min(1_000, Math.floor(limits.headersTimeoutMs / 4)));
}

function refuse(response: ServerResponse, status: number, error: string, message: string): void {
  // Closing: the body the client is still sending would otherwise be read, and nothing wants it.
  response.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', Connection: 'close', 'Cache-Control': 'no-store' });
  response.end(JSON.stringify({ error, message }));
}

/** Answers 411 or 413 to a request whose body may exceed the limit; true when it did. */
function refusedBody(request: IncomingMessage, response: ServerResponse, maxBodyBytes: number): boolean {
  // A chunked body announces no size, and reading it to find out is what a hostile client wants;
  // nothing served here takes a body, and browsers send a Content-Length with theirs.
  if (request.headers['transfer-encoding'] !== undefined) {
    refuse(response, 411, 'length required', `send a Content-Length; request bodies are at most ${maxBodyBytes} bytes`);
    return true;
  }
  const length = Number(request.headers['content-length'] ?? 0);
  if (length > maxBodyBytes) {
    refuse(response, 413, 'request body too large', `request bodies are at most ${maxBodyBytes} bytes`);
    return true;
  }
  return false;
}

/**
 * An HTTP server that hostile clients cannot starve or exhaust: request line and headers within
 * `headersTimeoutMs` (else 408 and closed), the whole request within `requestTimeoutMs`, headers
 * up to `maxHeaderBytes` (else 431), bodies up to `maxBodyBytes` (else 413, or 411 without a
 * length), and at most `maxConnections` connections.
 *
 * The connection budget does not use Node's `server.maxConnections`, which refuses the newest
 * connection: slow clients holding every slot would then lock out the liveness probe until the
 * header deadline freed one. Here a connection beyond the budget closes the oldest connection that
 * has no request in progress (a client still trickling its headers, or an idle keep-alive), so a
 * probe, whose request takes milliseconds, gets in whenever it comes; only when every connection is
 * busy answering is the newest one refused.
 */
export function createHardenedServer(handler: RequestListener, limits: HttpLimits, events: HardenedServerEvents = {}): Server {
  const server = createServer(
    {
      headersTimeout: limits.headersTimeoutMs,
      requestTimeout: limits.requestTimeoutMs,
      maxHeaderSize: limits.maxHeaderBytes,
      connectionsCheckingInterval: checkingIntervalMs(limits),
    },
    (request, response) => {
      if (refusedBody(request, response, limits.maxBodyBytes)) return;
      handler(request, response);
    },
  );

  // Requests in progress per connection, oldest connection first (a Map keeps insertion order).
  const connections = new Map<Socket, { requests: number }>();
  server.on('connection', (socket: Socket) => {
    connections.set(socket, { requests: 0 });
    socket.once('close', () => connections.delete(socket));
    if (connections.size <= limits.maxConnections) return;
    for (const [candidate, state] of connections) {
      if (state.requests > 0) continue;
      // The newest is reached last: it is refused only when every older connection is busy.
      events.onShed?.(candidate === socket ? 'newest' : 'idle');
      connections.delete(candidate);
      candidate.destroy();
      return;
    }
  });
  server.on('request', (request: IncomingMessage, response: ServerResponse) => {
    const state = connections.get(request.socket);
    if (!state) return;
    state.requests += 1;
    response.once('close', () => {
      state.requests -= 1;
    });
  });
  return server;
}

/**
 * Express middleware that answers 403 unless the Host header names this machine (`localhost` or a
 * loopback IP literal). For a server without a token, whose only protection is that it listens on
 * loopback: DNS rebinding (a page of evil.example whose name then resolves to 127.0.0.1) lets a
 * browser read such a server as evil.example, but the browser still sends `Host: evil.example`.
 */
export function loopbackHostOnly(): RequestHandler {
  return (request, response, next) => {
    const host = hostOfHostHeader(request.headers.host);
    if (host !== undefined && isLoopbackHost(host)) return next();
    // The Host header is the client's text: it is not echoed.
    response
      .status(403)
      .json({ error: 'forbidden', message: 'the Host header is not a loopback name; without HTTP_AUTH_TOKEN only localhost and loopback addresses are served' });
  };
}
