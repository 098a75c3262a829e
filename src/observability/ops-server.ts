import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { createHardenedServer, type HttpLimits } from './http-hardening.js';
import type { ReadinessReport } from './readiness.js';
import type { Logger } from '../telemetry/logger.js';
import { errorText } from '../telemetry/redact.js';

/** What the ops listener answers from; the main HttpServer fits, so both listeners say the same. */
export interface OpsProbes {
  readiness(): Promise<ReadinessReport>;
  metricsExposition(): Promise<{ contentType: string; body: string }>;
}

export interface OpsServerOptions {
  /** Address to listen on (http.opsHost). */
  host: string;
  /** Port to listen on (http.opsPort); 0 = any free port. */
  port: number;
  probes: OpsProbes;
  logger: Logger;
  /** The main server's limits (http.*): the same timeouts, connection cap and size limits hold here. */
  limits: HttpLimits;
}

/** An idle kept-alive connection is closed after this long, in milliseconds. */
const OPS_KEEP_ALIVE_MS = 5_000;

/** The only paths the ops listener serves: everything else is 404, so nothing private is one typo away. */
export const OPS_PATHS = ['/healthz', '/readyz', '/metrics'] as const;

/**
 * The ops listener: /healthz, /readyz and /metrics without the token, on a port of their own.
 * Kubelet probes cannot read the token from a Secret and a plain Prometheus scrape sends no header,
 * so these three are served bare here while the status page and /queues stay on the main port
 * behind HTTP_AUTH_TOKEN. None of the three shows a secret: /readyz's reasons are scrubbed by the
 * main server's readiness, and metrics carry counts and job types only.
 *
 * Plain node:http rather than express: the routing is three exact paths, and a router that knows
 * nothing else cannot be talked into serving more.
 */
export class OpsServer {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();

  constructor(private readonly options: OpsServerOptions) {}

  /** Listens on host:port; resolves with the base URL. */
  async start(): Promise<string> {
    if (this.server) return this.url;
    const { host, port, logger } = this.options;
    const server = createHardenedServer((request, response) => {
      this.answer(request, response).catch((error: unknown) => {
        logger.warn({ path: pathOf(request), error: errorText(error) }, 'ops request failed');
        if (!response.headersSent) send(response, 500, 'application/json', JSON.stringify({ error: 'internal error' }));
        else response.end();
      });
    }, this.options.limits);
    // Probes and scrapes are small and quick: the main server's hardening (headers and request
    // timeouts, connection cap, header and body limits) holds here too, and idle keep-alives go sooner.
    server.keepAliveTimeout = OPS_KEEP_ALIVE_MS;
    server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    server.on('error', (error) => logger.warn({ error: errorText(error) }, 'ops server error'));
    await new Promise<void>((resolve, reject) => {
      const onError = (error: Error) => reject(new Error(`cannot listen on ${host}:${port} (ops listener): ${errorText(error)}`, { cause: error }));
      server.once('error', onError);
      server.listen(port, host, () => {
        server.off('error', onError);
        resolve();
      });
    });
    this.server = server;
    logger.info({ url: this.url, paths: OPS_PATHS }, 'ops listener listening');
    return this.url;
  }

  /** Base URL, e.g. http://0.0.0.0:9465. */
  get url(): string {
    const address = this.server?.address() as AddressInfo | null | undefined;
    if (!address) return '';
    const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
    return `http://${host}:${address.port}`;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const socket of this.sockets) socket.destroy();
    await closed;
  }

  private async answer(request: IncomingMessage, response: ServerResponse): Promise<void> {
    response.setHeader('X-Content-Type-Options', 'nosniff');
    response.setHeader('Cache-Control', 'no-store');
    const method = request.method ?? '';
    const path = pathOf(request);
    if ((method !== 'GET' && method !== 'HEAD') || !(OPS_PATHS as readonly string[]).includes(path)) {
      send(response, 404, 'application/json', JSON.stringify({ error: 'not found' }));
      return;
    }
    if (path === '/healthz') {
      send(response, 200, 'application/json', JSON.stringify({ status: 'ok' }));
    } else if (path === '/readyz') {
      const report = await this.options.probes.readiness();
      send(response, report.ready ? 200 : 503, 'application/json', JSON.stringify(report));
    } else {
      const exposition = await this.options.probes.metricsExposition();
      send(response, 200, exposition.contentType, exposition.body);
    }
  }
}

/** The path without the query: kubelet and Prometheus may add one, and it never selects anything here. */
function pathOf(request: IncomingMessage): string {
  const url = request.url ?? '';
  const query = url.indexOf('?');
  return query >= 0 ? url.slice(0, query) : url;
}

function send(response: ServerResponse, status: number, contentType: string, body: string): void {
  response.statusCode = status;
  response.setHeader('Content-Type', contentType.includes('charset') ? contentType : `${contentType}; charset=utf-8`);
  response.setHeader('Content-Length', Buffer.byteLength(body));
  // HEAD gets the headers of GET and no body (node drops a body written to a HEAD response anyway).
  response.end(response.req?.method === 'HEAD' ? undefined : body);
}
