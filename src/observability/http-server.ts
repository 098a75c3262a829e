import { createHash, timingSafeEqual } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Queue } from 'bullmq';
import express, { type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import { redisTarget } from '../config/redis-url.js';
import { createRedis, type RedisClient } from '../state/connection.js';
import type { Keys } from '../state/keys.js';
import { renderStatusPage, STATUS_PAGE_CSP, type StatusPageNotification } from '../templates/status-page.js';
import type { Logger } from '../telemetry/logger.js';
import type { Metrics } from '../telemetry/metrics.js';
import { errorText } from '../telemetry/redact.js';
import { connectionLog } from '../telemetry/redis-failure.js';
import { mountBullBoard } from './bull-board.js';
import { createHardenedServer, loopbackHostOnly, type HttpLimits } from './http-hardening.js';
import { QueueGauges } from './queue-gauges.js';
import { ReadinessChecks, type CredentialState, type ReadinessPollSettings, type ReadinessReport } from './readiness.js';
import { StatusReadModel } from './status-model.js';

/** What the server reads from the pipeline; WatchPipeline fits. */
export interface HttpServerSources {
  keys: Keys;
  pollQueue: Queue;
  detailQueue: Queue;
  notifyQueue: Queue;
  /** The digest's slot tasks and deliveries; shown beside the others when given. */
  housekeepingQueue?: Queue;
  /** True when every worker this process started is running (true when it runs none). */
  workersRunning(): boolean;
}

/**
 * What the server reads of the configuration, section by section: the listener and its token, the
 * poll schedule (readiness), Redis's address, the job types, the stream's retention and the
 * operators' time zone (the status page). Nested as the configuration's keys, so the parsed
 * configuration is one.
 */
export interface HttpServerSettings {
  http: HttpLimits & {
    /** Address to listen on. */
    host: string;
    /** Port; 0 = any free port. */
    port: number;
    /** Bearer token of every page but /healthz; '' = none, and then only loopback Host headers. */
    authToken: string;
  };
  poll: ReadinessPollSettings;
  /** REDIS_URL and the Sentinels' password, for the server's own client. */
  redis: { url: string; sentinelPassword?: string };
  gem: { jobTypes: readonly string[] };
  /** Days the transition stream keeps entries. */
  retention: { transitionsDays: number };
  /** The operators' time zone, of the status page's times. */
  digest: { timezone: string };
}

export interface HttpServerOptions {
  config: HttpServerSettings;
  logger: Logger;
  metrics: Metrics;
  sources: HttpServerSources;
  credentials: CredentialState;
  /**
   * The notification log: the latest `limit` delivery outcomes, newest first. Until it is
   * given, the status page shows the notify queue's completed and failed tasks instead.
   */
  recentDeliveries?: (limit: number) => Promise<StatusPageNotification[]>;
  /** A Redis client for the probes and reads; default a new one from config.redis.url. */
  redis?: RedisClient;
  /** Timeout of the Redis PING of /readyz, in milliseconds. Default 1,000. */
  pingTimeoutMs?: number;
  /** Timeout of gathering the status page's and the gauges' data, in milliseconds. Default 3,000. */
  dataTimeoutMs?: number;
  now?: () => number;
}

/** SHA-256 of both sides first: timingSafeEqual needs equal lengths, and a length must not leak either. */
function sameSecret(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

/** The token a request presents: `Authorization: Bearer <token>`, or Basic with the token as password (browsers). */
function presentedToken(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const bearer = /^Bearer\s+(.+)$/i.exec(header);
  if (bearer) return bearer[1]!.trim();
  const basic = /^Basic\s+([A-Za-z0-9+/=]+)$/i.exec(header);
  if (basic) {
    const decoded = Buffer.from(basic[1]!, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    return colon >= 0 ? decoded.slice(colon + 1) : undefined;
  }
  return undefined;
}

/** Express 4 does not catch rejected promises of handlers. */
function handle(body: (request: Request, response: Response) => Promise<void>): RequestHandler {
  return (request, response, next) => {
    body(request, response).catch(next);
  };
}

/**
 * gem-watch's HTTP server: `/healthz` (the process is alive), `/readyz` (Redis reachable, workers
 * running, a recent successful poll, credentials accepted), `/metrics` (Prometheus), `/` (a
 * read-only status page) and bull-board at `/queues`. With `http.authToken` set, every path but
 * /healthz requires the token (`Authorization: Bearer`, or HTTP Basic with the token as password so
 * a browser can open the page and bull-board).
 */
export class HttpServer {
  private server: Server | undefined;
  private redis: RedisClient | undefined;
  private readonly ownsRedis: boolean;
  private readonly sockets = new Set<Socket>();
  private readonly now: () => number;
  private readonly checks: ReadinessChecks;
  private readonly model: StatusReadModel;
  private readonly gauges: QueueGauges;
  private startedAt = 0;
  private stopping = false;

  constructor(private readonly options: HttpServerOptions) {
    const { config, sources } = options;
    this.now = options.now ?? Date.now;
    this.redis = options.redis;
    this.ownsRedis = options.redis === undefined;
    this.checks = new ReadinessChecks({
      settings: { poll: config.poll, jobTypes: config.gem.jobTypes },
      keys: sources.keys,
      detailQueue: sources.detailQueue,
      workersRunning: () => sources.workersRunning(),
      credentials: options.credentials,
      redis: () => this.redis,
      startedAt: () => this.startedAt,
      stopping: () => this.stopping,
      pingTimeoutMs: options.pingTimeoutMs,
      now: this.now,
    });
    this.model = new StatusReadModel({
      redis: () => this.redis,
      keys: sources.keys,
      jobTypes: config.gem.jobTypes,
      transitionsDays: config.retention.transitionsDays,
      queues: this.queues(),
      notifyQueue: sources.notifyQueue,
      recentDeliveries: options.recentDeliveries,
      timeZone: config.digest.timezone,
      dataTimeoutMs: options.dataTimeoutMs,
    });
    this.gauges = new QueueGauges({
      metrics: options.metrics,
      logger: options.logger,
      model: this.model,
      queueNames: this.queues().map((queue) => queue.name),
      ping: () => this.checks.ping(),
    });
  }

  /** Listens on http.host:http.port; resolves with the base URL. */
  async start(): Promise<string> {
    if (this.server) return this.url;
    const { config } = this.options;
    // Its own connection: no offline queue, so a probe during an outage fails at once instead of
    // waiting for the reconnection like the pipeline's commands do.
    this.redis ??= createRedis(redisTarget(config.redis), 'http', connectionLog(this.options.logger, 'http'), { enableOfflineQueue: false, maxRetriesPerRequest: 1 });
    this.startedAt = this.now();
    const server = createHardenedServer(this.buildApp(), config.http, {
      onShed: (which) => this.options.logger.debug({ which }, 'http connection closed to stay within http.maxConnections'),
    });
    server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    server.on('error', (error) => this.options.logger.warn({ error: errorText(error) }, 'http server error'));
    await new Promise<void>((resolve, reject) => {
      const onError = (error: Error) => reject(new Error(`cannot listen on ${config.http.host}:${config.http.port}: ${errorText(error)}`, { cause: error }));
      server.once('error', onError);
      server.listen(config.http.port, config.http.host, () => {
        server.off('error', onError);
        resolve();
      });
    });
    this.server = server;
    this.options.logger.info({ url: this.url, auth: config.http.authToken !== '' }, 'http server listening');
    return this.url;
  }

  /** Base URL, e.g. http://127.0.0.1:9464. */
  get url(): string {
    const address = this.server?.address() as AddressInfo | null | undefined;
    if (!address) return '';
    const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
    return `http://${host}:${address.port}`;
  }

  /** From now on /readyz answers 503 (the process is shutting down); /healthz still answers. */
  beginShutdown(): void {
    this.stopping = true;
  }

  async stop(): Promise<void> {
    this.stopping = true;
    const server = this.server;
    this.server = undefined;
    if (server) {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of this.sockets) socket.destroy();
      await closed;
    }
    if (this.ownsRedis && this.redis) {
      this.redis.disconnect();
      this.redis = undefined;
    }
  }

  private buildApp(): express.Express {
    const { config, logger } = this.options;
    const app = express();
    app.disable('x-powered-by');
    app.set('etag', false);
    app.use((_request, response, next) => {
      response.setHeader('X-Content-Type-Options', 'nosniff');
      response.setHeader('Cache-Control', 'no-store');
      // Nothing here is meant to be framed or to load anything; the pages widen this for themselves.
      response.setHeader('Content-Security-Policy', "default-src 'none'; frame-ancestors 'none'");
      response.setHeader('X-Frame-Options', 'DENY');
      next();
    });

    app.get('/healthz', (_request, response) => {
      response.json({ status: 'ok' });
    });

    // Without a token, listening on loopback is the only protection, and DNS rebinding gets around
    // it (see loopbackHostOnly). /healthz, above, tells nothing and is left to any probe.
    if (!config.http.authToken) app.use(loopbackHostOnly());

    if (config.http.authToken) {
      const token = config.http.authToken;
      app.use((request, response, next) => {
        const given = presentedToken(request.headers.authorization);
        if (given !== undefined && sameSecret(given, token)) return next();
        response.setHeader('WWW-Authenticate', ['Bearer realm="gem-watch"', 'Basic realm="gem-watch", charset="UTF-8"']);
        response.status(401).json({ error: 'unauthorized', message: 'send Authorization: Bearer <HTTP_AUTH_TOKEN>' });
      });
    }

    app.get(
      '/readyz',
      handle(async (_request, response) => {
        const report = await this.readiness();
        response.status(report.ready ? 200 : 503).json(report);
      }),
    );

    app.get(
      '/metrics',
      handle(async (_request, response) => {
        const exposition = await this.metricsExposition();
        response.setHeader('Content-Type', exposition.contentType);
        response.send(exposition.body);
      }),
    );

    app.get(
      '/',
      handle(async (_request, response) => {
        const html = await this.statusPage();
        // Only the page's own refresh script runs (by hash): if escaping ever failed, the browser
        // still would not run an injected one.
        response.setHeader('Content-Security-Policy', STATUS_PAGE_CSP);
        response.type('html').send(html);
      }),
    );

    mountBullBoard(app, this.queues());

    app.use((_request, response) => {
      response.status(404).json({ error: 'not found' });
    });
    app.use((error: unknown, request: Request, response: Response, _next: NextFunction) => {
      logger.warn({ path: request.path, error: errorText(error) }, 'http request failed');
      if (!response.headersSent) response.status(500).json({ error: 'internal error' });
      else response.end();
    });
    return app;
  }

  /** The Prometheus exposition, with the gauges read from Redis first; /metrics on both listeners. */
  async metricsExposition(): Promise<{ contentType: string; body: string }> {
    await this.gauges.refresh();
    const { registry } = this.options.metrics;
    return { contentType: registry.contentType, body: await registry.metrics() };
  }

  /** Every readiness check, each with a reason; ready when all pass. */
  async readiness(): Promise<ReadinessReport> {
    return this.checks.report();
  }

  /** The status page's HTML; a part whose data cannot be read is replaced by a named problem. */
  async statusPage(): Promise<string> {
    const now = this.now();
    const readiness = await this.readiness();
    return renderStatusPage(await this.model.page(now, readiness));
  }

  private queues(): Queue[] {
    const { sources } = this.options;
    return [sources.pollQueue, sources.detailQueue, sources.notifyQueue, ...(sources.housekeepingQueue ? [sources.housekeepingQueue] : [])];
  }
}
