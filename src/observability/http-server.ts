import { createHash, timingSafeEqual } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import type { Job as BullJob, Queue } from 'bullmq';
import express, { type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import type { Redis } from 'ioredis';
import cron from 'node-cron';
import type { Config } from '../config/schema.js';
import { estimateEnd } from '../domain/eta.js';
import { JOB_STATUSES } from '../domain/job.js';
import { createRedis } from '../state/connection.js';
import { connectionLog } from '../telemetry/redis-failure.js';
import type { NotifyTaskData } from '../queue/names.js';
import { shortestCronGapMs } from '../queue/poll-scheduler.js';
import { DetailWorkStore, describeDetailWork } from '../state/detail-work-store.js';
import type { Keys } from '../state/keys.js';
import { PollHealthStore } from '../state/poll-health-store.js';
import { StateStore } from '../state/state-store.js';
import type { TrackedJob } from '../domain/tracked-job.js';
import {
  renderStatusPage,
  STATUS_PAGE_CSP,
  type StatusPageCheck,
  type StatusPageJob,
  type StatusPageNotification,
  type StatusPageQueue,
} from '../templates/status-page.js';
import type { Logger } from '../telemetry/logger.js';
import type { Metrics } from '../telemetry/metrics.js';
import { createHardenedServer, loopbackHostOnly } from './http-hardening.js';
import { errorText, scrub } from '../telemetry/redact.js';

/** What the server reads from the pipeline; WatchPipeline fits. */
export interface HttpServerSources {
  keys: Keys;
  pollQueue: Queue;
  detailQueue: Queue;
  notifyQueue: Queue;
  /** True when every worker this process started is running (true when it runs none). */
  workersRunning(): boolean;
}

/** The credential health as this replica knows it; CredentialHealth fits. */
export interface CredentialState {
  readonly healthy: boolean;
  readonly reason: string;
}

export interface HttpServerOptions {
  config: Config;
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
  redis?: Redis;
  /** Timeout of the Redis PING of /readyz, in milliseconds. Default 1,000. */
  pingTimeoutMs?: number;
  /** Timeout of gathering the status page's and the gauges' data, in milliseconds. Default 3,000. */
  dataTimeoutMs?: number;
  now?: () => number;
}

export interface ReadinessReport {
  ready: boolean;
  checks: StatusPageCheck[];
}

/** How many poll intervals may pass without a successful poll before /readyz says not ready. */
const POLL_INTERVALS_ALLOWED = 3;
/** Ended jobs the status page lists (the most recent); the rest are counted. */
const PAGE_MAX_ENDED = 100;

/** Recent notifications shown on the status page. */
const RECENT_NOTIFICATIONS = 30;

/**
 * The longest gap between two consecutive runs of a node-cron expression, in milliseconds: the
 * poll interval, taken conservatively for uneven schedules (`0 8-18 * * 1-5` counts its 62-hour
 * weekend gap) so readiness never fails only because the schedule is uneven. Sampling the next runs
 * would need thousands to reach the weekend of a dense schedule, so it is worked out in two parts:
 * the longest gap within a day, from the second, minute and hour fields; and the longest gap
 * between matching days, from the next runs of the schedule's first time of day (one a matching
 * day), less the day's span. Daylight-saving shifts are ignored: an hour, well inside the three
 * intervals readiness allows.
 */
export function cronIntervalMs(expression: string): number {
  const fields = cron.parse(expression);
  const times = [
    ...new Set(fields.hour.flatMap((hour) => fields.minute.flatMap((minute) => fields.second.map((second) => hour * 3600 + minute * 60 + second)))),
  ].sort((a, b) => a - b);
  let longestSec = 0;
  for (let i = 1; i < times.length; i++) longestSec = Math.max(longestSec, times[i]! - times[i - 1]!);
  const first = times[0] ?? 0;
  const span = (times[times.length - 1] ?? 0) - first;
  const dayFields = expression.trim().split(/\s+/).slice(-3).join(' ');
  const firstOfDay = `${first % 60} ${Math.floor(first / 60) % 60} ${Math.floor(first / 3600)} ${dayFields}`;
  const task = cron.createTask(firstOfDay, () => {}, { name: 'gem-watch-interval-probe' });
  try {
    const days = task.getNextRuns(64).map((date) => date.getTime());
    for (let i = 1; i < days.length; i++) longestSec = Math.max(longestSec, (days[i]! - days[i - 1]!) / 1000 - span);
  } finally {
    void task.destroy();
  }
  return longestSec > 0 ? longestSec * 1000 : 60_000;
}

class TimeoutError extends Error {
  override readonly name = 'TimeoutError';
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new TimeoutError(`${what} did not answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
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

/**
 * bull-board's page: its scripts, styles, images and API calls come from this server only, and it is
 * never framed. Its styles are partly inline, hence 'unsafe-inline' for styles (not for scripts).
 */
const BOARD_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self'; connect-src 'self'; manifest-src 'self'; base-uri 'self'; form-action 'none'; frame-ancestors 'none'";

/**
 * The CSP of bull-board's page, and its page without the stylesheet links to other sites: it
 * links Google Fonts, which would tell Google about every view of the board (the CSP blocks it
 * anyway; removing the link spares the browser a refused request). The board then uses the
 * system font.
 */
function boardPagePolicy(): RequestHandler {
  return (_request, response, next) => {
    response.setHeader('Content-Security-Policy', BOARD_CSP);
    const render = response.render.bind(response);
    response.render = ((view: string, options?: object) => {
      render(view, options ?? {}, (error: Error | null, html?: string) => {
        if (error) return next(error);
        response.send((html ?? '').replace(/<link\b[^>]*\bhref="(?:https?:)?\/\/[^"]*"[^>]*>/gi, ''));
      });
    }) as Response['render'];
    next();
  };
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
  private redis: Redis | undefined;
  private readonly ownsRedis: boolean;
  private readonly sockets = new Set<Socket>();
  private readonly now: () => number;
  private readonly pollIntervalMs: number;
  /** Shortest gap between two polls: the detail backlog is measured against it. */
  private readonly pollGapMs: number;
  private readonly timeZone: string;
  private startedAt = 0;
  private stopping = false;

  constructor(private readonly options: HttpServerOptions) {
    this.now = options.now ?? Date.now;
    this.redis = options.redis;
    this.ownsRedis = options.redis === undefined;
    this.pollIntervalMs = cronIntervalMs(options.config.poll.cron);
    this.pollGapMs = shortestCronGapMs(options.config.poll.cron);
    this.timeZone = options.config.digest.timezone;
    // Series exist from the start, so a dashboard sees zero rather than nothing before the first scrape.
    for (const queue of this.queues()) {
      for (const state of ['waiting', 'active', 'delayed']) options.metrics.queueDepth.labels(queue.name, state).set(0);
    }
  }

  /** Listens on http.host:http.port; resolves with the base URL. */
  async start(): Promise<string> {
    if (this.server) return this.url;
    const { config } = this.options;
    // Its own connection: no offline queue, so a probe during an outage fails at once instead of
    // waiting for the reconnection like the pipeline's commands do.
    this.redis ??= createRedis(config.redis.url, 'http', connectionLog(this.options.logger, 'http'), { enableOfflineQueue: false, maxRetriesPerRequest: 1 });
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
    const { config, logger, sources } = this.options;
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

    // bull-board is read-only: retrying or removing tasks is for the CLI (`gem-watch notifications`),
    // not for a page that may be reachable without a token on loopback.
    const board = new ExpressAdapter();
    board.setBasePath('/queues');
    createBullBoard({
      queues: [sources.pollQueue, sources.detailQueue, sources.notifyQueue].map(
        (queue) => new BullMQAdapter(queue, { readOnlyMode: true, allowRetries: false }),
      ),
      serverAdapter: board,
      options: { uiConfig: { boardTitle: 'gem-watch queues' } },
    });
    // bull-board is an Express app of its own, with Express's X-Powered-By on.
    (board.getRouter() as express.Express).disable('x-powered-by');
    app.use('/queues', boardPagePolicy(), board.getRouter());

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

  private async ping(): Promise<{ ok: boolean; detail: string }> {
    try {
      const answer = await withTimeout(this.redis!.ping(), this.options.pingTimeoutMs ?? 1_000, 'Redis PING');
      return { ok: answer === 'PONG', detail: answer === 'PONG' ? 'PING answered' : `unexpected answer ${String(answer).slice(0, 40)}` };
    } catch (error) {
      return { ok: false, detail: `unreachable: ${errorText(error)}` };
    }
  }

  /** The Prometheus exposition, with the gauges read from Redis first; /metrics on both listeners. */
  async metricsExposition(): Promise<{ contentType: string; body: string }> {
    await this.refreshGauges();
    const { registry } = this.options.metrics;
    return { contentType: registry.contentType, body: await registry.metrics() };
  }

  /** Every readiness check, each with a reason; ready when all pass. */
  async readiness(): Promise<ReadinessReport> {
    const { sources, credentials } = this.options;
    const checks: StatusPageCheck[] = [];
    if (this.stopping) checks.push({ name: 'lifecycle', ok: false, detail: 'shutting down' });

    const redis = await this.ping();
    checks.push({ name: 'redis', ...redis });

    const workers = sources.workersRunning();
    checks.push({ name: 'workers', ok: workers, detail: workers ? 'running' : 'a worker of this process is not running' });

    checks.push(await this.pollCheck(redis.ok));
    checks.push(await this.detailBacklogCheck(redis.ok));

    checks.push({
      name: 'credentials',
      ok: credentials.healthy,
      detail: credentials.healthy ? 'accepted by GEM' : `refused by GEM${credentials.reason ? `: ${scrub(credentials.reason)}` : ''}`,
    });
    return { ready: checks.every((check) => check.ok), checks };
  }

  private async pollCheck(redisOk: boolean): Promise<StatusPageCheck> {
    const maxAgeMs = POLL_INTERVALS_ALLOWED * this.pollIntervalMs;
    const limit = `${Math.round(maxAgeMs / 1000)} s (${POLL_INTERVALS_ALLOWED} poll intervals)`;
    if (!redisOk) return { name: 'poll', ok: false, detail: 'unknown: Redis unreachable' };
    let lastSuccess: number;
    try {
      const raw = await withTimeout(new PollHealthStore(this.redis!, this.options.sources.keys).lastSuccess(), this.options.pingTimeoutMs ?? 1_000, 'Redis HGET');
      lastSuccess = raw === null ? Number.NaN : Number(raw);
    } catch (error) {
      return { name: 'poll', ok: false, detail: `unknown: ${errorText(error)}` };
    }
    const now = this.now();
    if (!Number.isFinite(lastSuccess)) {
      // A fresh deployment has never polled: give it the same allowance from this process's start.
      const waited = now - this.startedAt;
      return waited <= maxAgeMs
        ? { name: 'poll', ok: true, detail: `no successful poll yet; started ${Math.round(waited / 1000)} s ago, allowed ${limit}` }
        : { name: 'poll', ok: false, detail: `no successful poll in the ${Math.round(waited / 1000)} s since start; allowed ${limit}` };
    }
    const age = now - lastSuccess;
    return {
      name: 'poll',
      ok: age <= maxAgeMs,
      detail: `last successful poll ${Math.max(0, Math.round(age / 1000))} s ago; allowed ${limit}`,
    };
  }

  /**
   * The detail work of a poll against what poll.rateLimit allows between polls. Always ok: a
   * backlog is named (a warning, with the setting to raise) but leaves /readyz at 200. The queue
   * stays bounded and every job is still read, only less often than every poll; this replica is
   * not what is wrong, and another replica would share the same limit, so a 503 (an orchestrator
   * taking replicas out of service or restarting them) would cure nothing and hide the message.
   */
  private async detailBacklogCheck(redisOk: boolean): Promise<StatusPageCheck> {
    if (!redisOk) return { name: 'detail backlog', ok: true, detail: 'unknown: Redis unreachable' };
    const { config, sources } = this.options;
    try {
      const work = await withTimeout(new DetailWorkStore(this.redis!, sources.keys).read(config.gem.jobTypes), this.options.pingTimeoutMs ?? 1_000, 'Redis HMGET');
      const { max, durationMs } = config.poll.rateLimit;
      const { backlog, text } = describeDetailWork(work, `${max} per ${durationMs} ms`, Math.round(this.pollGapMs / 1000));
      if (!backlog) return { name: 'detail backlog', ok: true, detail: text };
      const waiting = await withTimeout(sources.detailQueue.getJobCounts('waiting', 'prioritized'), this.options.pingTimeoutMs ?? 1_000, 'detail queue').catch(() => undefined);
      const queued = waiting === undefined ? '' : ` (${(waiting.waiting ?? 0) + (waiting.prioritized ?? 0)} detail tasks waiting, at most one per job)`;
      return { name: 'detail backlog', ok: true, warning: true, detail: `${text}${queued}` };
    } catch (error) {
      return { name: 'detail backlog', ok: true, detail: `unknown: ${errorText(error)}` };
    }
  }

  private store(): StateStore {
    return new StateStore(this.redis!, this.options.sources.keys, { transitionsDays: this.options.config.retention.transitionsDays });
  }

  private queues(): Queue[] {
    const { sources } = this.options;
    return [sources.pollQueue, sources.detailQueue, sources.notifyQueue];
  }

  private async queueDepths(): Promise<StatusPageQueue[]> {
    const timeout = this.options.dataTimeoutMs ?? 3_000;
    return Promise.all(
      this.queues().map(async (queue) => {
        const counts = await withTimeout(queue.getJobCounts('waiting', 'prioritized', 'waiting-children', 'active', 'delayed', 'failed'), timeout, `queue ${queue.name}`);
        return {
          name: queue.name,
          waiting: (counts.waiting ?? 0) + (counts.prioritized ?? 0) + (counts['waiting-children'] ?? 0),
          active: counts.active ?? 0,
          delayed: counts.delayed ?? 0,
          failed: counts.failed ?? 0,
        };
      }),
    );
  }

  /** Sets the queue-depth and tracked-jobs gauges from Redis; leaves them as they were when Redis is away. */
  private async refreshGauges(): Promise<void> {
    const { metrics, logger } = this.options;
    if (!(await this.ping()).ok) return;
    try {
      const timeout = this.options.dataTimeoutMs ?? 3_000;
      const [counts, depths] = await Promise.all([
        withTimeout(this.store().countByStatus(this.options.config.gem.jobTypes), timeout, 'tracked jobs'),
        this.queueDepths(),
      ]);
      for (const status of JOB_STATUSES) metrics.trackedJobs.labels(status).set(counts.get(status) ?? 0);
      for (const depth of depths) {
        metrics.queueDepth.labels(depth.name, 'waiting').set(depth.waiting);
        metrics.queueDepth.labels(depth.name, 'active').set(depth.active);
        metrics.queueDepth.labels(depth.name, 'delayed').set(depth.delayed);
      }
    } catch (error) {
      logger.debug({ error: errorText(error) }, 'could not refresh gauges for a scrape');
    }
  }

  private async recentNotifications(): Promise<{ source: 'log' | 'queue'; rows: StatusPageNotification[] }> {
    const timeout = this.options.dataTimeoutMs ?? 3_000;
    // The notification log when the app passes it; without it, what the notify queue keeps.
    if (this.options.recentDeliveries) {
      return { source: 'log', rows: await withTimeout(this.options.recentDeliveries(RECENT_NOTIFICATIONS), timeout, 'notification log') };
    }
    const tasks = (await withTimeout(
      this.options.sources.notifyQueue.getJobs(['completed', 'failed'], 0, RECENT_NOTIFICATIONS * 2, false),
      timeout,
      'notify queue',
    )) as Array<BullJob<NotifyTaskData> | undefined>;
    const rows = tasks
      .filter((task): task is BullJob<NotifyTaskData> => task !== undefined && task !== null)
      .map((task) => notificationFromTask(task))
      .sort((a, b) => (b.at ?? 0) - (a.at ?? 0))
      .slice(0, RECENT_NOTIFICATIONS);
    return { source: 'queue', rows };
  }

  /** The status page's HTML; a part whose data cannot be read is replaced by a named problem. */
  async statusPage(): Promise<string> {
    const now = this.now();
    const errors: string[] = [];
    const readiness = await this.readiness();
    const redisOk = readiness.checks.find((check) => check.name === 'redis')?.ok ?? false;
    let jobs: StatusPageJob[] = [];
    let endedTotal: number | undefined;
    let queues: StatusPageQueue[] = [];
    let notifications: { source: 'log' | 'queue'; rows: StatusPageNotification[] } = {
      source: this.options.recentDeliveries ? 'log' : 'queue',
      rows: [],
    };
    if (!redisOk) {
      errors.push('Redis is unreachable: tracked jobs, notifications and queues cannot be shown.');
    } else {
      const timeout = this.options.dataTimeoutMs ?? 3_000;
      const [tracked, depths, recent] = await Promise.allSettled([
        withTimeout(this.store().pageJobs(this.options.config.gem.jobTypes, PAGE_MAX_ENDED), timeout, 'tracked jobs'),
        this.queueDepths(),
        this.recentNotifications(),
      ]);
      if (tracked.status === 'fulfilled') {
        jobs = tracked.value.jobs.map((job) => pageJob(job, now));
        endedTotal = tracked.value.endedTotal;
      }
      else errors.push(`Tracked jobs could not be read: ${errorText(tracked.reason)}`);
      if (depths.status === 'fulfilled') queues = depths.value;
      else errors.push(`Queue depths could not be read: ${errorText(depths.reason)}`);
      if (recent.status === 'fulfilled') notifications = recent.value;
      else errors.push(`Recent notifications could not be read: ${errorText(recent.reason)}`);
    }
    return renderStatusPage({
      now,
      timeZone: this.timeZone,
      ready: readiness.ready,
      checks: readiness.checks,
      queues,
      jobs,
      maxEnded: PAGE_MAX_ENDED,
      ...(endedTotal !== undefined ? { endedTotal } : {}),
      notificationSource: notifications.source,
      notifications: notifications.rows,
      errors,
    });
  }
}

function pageJob(tracked: TrackedJob, now: number): StatusPageJob {
  const { job } = tracked;
  return {
    id: job.id,
    jobType: job.jobType,
    status: tracked.status,
    rawStatus: job.rawStatus,
    progress: job.progress,
    inputFile: job.inputFile,
    eta: tracked.status === 'running' ? estimateEnd(tracked.progress, now) : undefined,
    lastChangeAt: tracked.lastChangeAt,
    vanishedAt: tracked.vanishedAt,
    message: job.message,
  };
}

/** A notify task as a page row: what it was about, where it went and how it ended. */
function notificationFromTask(task: BullJob<NotifyTaskData>): StatusPageNotification {
  const data = task.data ?? ({} as NotifyTaskData);
  const subject = data.transition
    ? `${data.transition.job?.jobType ?? data.transition.jobType} job ${data.transition.jobId} ${data.transition.to}`
    : data.alert
      ? `alert: ${data.alert.title}`
      : String(task.name);
  const failed = task.failedReason !== undefined && task.finishedOn !== undefined && task.returnvalue == null;
  const result = task.returnvalue as { outcome?: string; detail?: string } | null | undefined;
  return {
    at: task.finishedOn ?? task.processedOn ?? task.timestamp,
    channel: data.channel ?? '?',
    route: data.route ?? '?',
    target: data.target ?? '',
    subject,
    outcome: failed ? 'failed' : (result?.outcome ?? 'completed'),
    detail: failed ? scrub(task.failedReason ?? '') : result?.detail,
    attempts: task.attemptsMade,
  };
}
