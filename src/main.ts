import type { Config } from './config/schema.js';
import { registerConfigSecrets } from './config-secrets.js';
import { configWarnings } from './config/warnings.js';
import { resolveDestinations, type RoutingSettings } from './domain/routing.js';
import { digestEnabled, digestSettings } from './digest/digest-config.js';
import { DigestScheduler } from './digest/digest-scheduler.js';
import { notifierDigestSender } from './digest/notifier-sender.js';
import { credentialAlert } from './gem/auth/credential-alert.js';
import { CredentialHealth } from './gem/auth/credential-health.js';
import { createTokenProvider, resolveProviderKind } from './gem/auth/create-token-provider.js';
import { GemClient } from './gem/client.js';
import { isDocumentedJobType, KNOWN_JOB_TYPES } from './domain/job.js';
import { HttpServer } from './observability/http-server.js';
import { createLogger, type Logger } from './telemetry/logger.js';
import { Metrics } from './telemetry/metrics.js';
import { OpsServer } from './observability/ops-server.js';
import { installShutdownHandlers } from './lifecycle.js';
import { NotificationLog } from './notify/notification-log.js';
import { createNotifiers, type NotifierRegistry } from './notify/registry.js';
import { createNotifyStage } from './queue/notify-processor.js';
import { WatchPipeline, type Role } from './queue/pipeline.js';
import { HealthFlag } from './state/health-flag.js';
import { packageVersion } from './version.js';

export interface AppOptions {
  role?: Role;
  logger?: Logger;
  metrics?: Metrics;
  /** fetch for Slack (tests route it elsewhere); default: the Slack channel's own undici client. */
  fetch?: typeof globalThis.fetch;
  /**
   * Serve /healthz, /readyz, /metrics, the status page and /queues on http.host:http.port, and, when
   * http.opsPort is set, the ops listener. Default true.
   */
  http?: boolean;
}

/** Everything one gem-watch process runs, built but not started. */
export interface App {
  config: Config;
  logger: Logger;
  metrics: Metrics;
  client: GemClient;
  pipeline: WatchPipeline;
  notifiers: NotifierRegistry;
  credentials: CredentialHealth;
  /** The health, metrics and status server; undefined when `http: false`. */
  http: HttpServer | undefined;
  /** The ops listener (/healthz, /readyz, /metrics without the token); undefined unless http.opsPort is set. */
  ops: OpsServer | undefined;
  start(): Promise<void>;
  /** Graceful: stops the cron, lets tasks finish for up to `graceMs`, closes everything. */
  stop(graceMs?: number): Promise<void>;
}

/** The composition root: builds every part from the configuration. Nothing connects until start. */
export function createApp(config: Config, options: AppOptions = {}): App {
  // A configuration built by hand (tests, an embedding) is scrubbed like a loaded one.
  registerConfigSecrets(config);
  const logger = options.logger ?? createLogger(config.log);
  const metrics = options.metrics ?? new Metrics({ defaultMetrics: true, version: packageVersion() });
  const tokenProvider = createTokenProvider(config.gem.auth, logger);
  const providerKind = resolveProviderKind(config.gem.auth);
  const notifiers = createNotifiers(config, logger, options.fetch ? { fetch: options.fetch } : {});

  // The client reports credential outcomes to the credential health, which needs the pipeline's
  // Redis and so is created after the client; until then there is nothing to report.
  const health: { current?: CredentialHealth } = {};
  const client = new GemClient({
    baseUrl: config.gem.baseUrl,
    apiKey: config.gem.apiKey,
    tokenProvider,
    listPath: config.gem.listPath,
    detailPath: config.gem.detailPath,
    apiVersion: config.gem.apiVersion,
    timeoutMs: config.gem.timeoutMs,
    onRequest: (endpoint, outcome) => metrics.apiCalls.labels(endpoint, outcome).inc(),
    onCredentials: (ok, error, startedAt) =>
      ok ? health.current?.recordSuccess(startedAt) : health.current?.recordFailure(error, startedAt),
  });

  // The parsed configuration is routing's settings as it stands: this line is where the compiler
  // checks that config/ and domain/ agree on the routing keys.
  const routing: RoutingSettings = config;
  const notifyStage = createNotifyStage({ config, logger, metrics, notifiers });
  const pipeline = new WatchPipeline({
    config,
    client,
    logger,
    metrics,
    role: options.role,
    resolve: (transition) => resolveDestinations(transition, routing),
    resolveAlert: (alert) => resolveDestinations(alert, routing),
    notify: notifyStage,
  });

  const credentials = new CredentialHealth({
    flag: new HealthFlag(pipeline.redis, pipeline.keys, 'auth'),
    logger,
    onChange: async (change) => {
      metrics.credentialsHealthy.set(change.healthy ? 1 : 0);
      await pipeline.dispatcher.dispatchAlert(credentialAlert(change, providerKind));
    },
  });
  health.current = credentials;

  // The digest runs wherever the cron runs; any number of replicas may run it (a Redis lease makes
  // it one digest per period).
  const digestConfig = digestSettings(config);
  const digest =
    options.role !== 'worker' && digestEnabled(config)
      ? new DigestScheduler({
          redis: pipeline.redis,
          keys: pipeline.keys,
          source: pipeline.store,
          sender: notifierDigestSender(notifiers, digestConfig.slackWebhook, digestConfig.models),
          cron: digestConfig.cron,
          timeZone: digestConfig.timeZone,
          to: digestConfig.to,
          slack: digestConfig.slack,
          models: Object.keys(digestConfig.models) as Array<keyof typeof digestConfig.models>,
          sendEmpty: digestConfig.sendEmpty,
          stalledAfterMs: digestConfig.stalledAfterMs,
          logger,
        })
      : undefined;

  // The status page's "recent notifications" read the notification log the notify stage writes.
  const deliveryLog = new NotificationLog(pipeline.redis, pipeline.keys, {
    maxEntries: config.retention.notificationLogMax,
    retentionMs: config.retention.deliveriesDays * 86_400_000,
  });
  const http =
    options.http === false
      ? undefined
      : new HttpServer({ config, logger, metrics, sources: pipeline, credentials, recentDeliveries: (limit) => deliveryLog.recentDeliveries(limit) });
  const ops =
    http && config.http.opsPort !== null
      ? new OpsServer({ host: config.http.opsHost, port: config.http.opsPort, probes: http, logger, limits: config.http })
      : undefined;

  return {
    config,
    logger,
    metrics,
    client,
    pipeline,
    notifiers,
    credentials,
    http,
    ops,
    async start() {
      // Listening first: a port already taken stops the start before any worker takes a task, and
      // a replica started during a Redis outage answers /healthz and /readyz (503) while the reads
      // below wait for Redis to come back.
      await http?.start();
      try {
        await ops?.start();
      } catch (error) {
        await http?.stop();
        throw error;
      }
      await credentials.sync().catch(() => true);
      metrics.credentialsHealthy.set(credentials.healthy ? 1 : 0);
      pipeline.start();
      await digest?.start();
      logger.info(
        { role: options.role ?? 'all', jobTypes: config.gem.jobTypes, cron: config.poll.cron, channels: notifiers.list().map((n) => n.name) },
        'gem-watch started',
      );
      for (const warning of configWarnings(config)) logger.warn(warning);
      const undocumented = config.gem.jobTypes.filter((jobType) => !isDocumentedJobType(jobType));
      if (undocumented.length > 0) {
        logger.warn({ jobTypes: undocumented, documented: KNOWN_JOB_TYPES }, 'GEM_JOB_TYPES names job types GEM does not document; a typo lists no jobs');
      }
    },
    async stop(graceMs = 10_000) {
      // /readyz turns 503 at once so a load balancer stops sending; /healthz answers to the end.
      http?.beginShutdown();
      await digest?.stop();
      await pipeline.stop(graceMs);
      await Promise.all([notifiers.close(), client.close()]);
      // The ops listener answers /healthz until the main server's Redis client is gone.
      await ops?.stop();
      await http?.stop();
    },
  };
}

export interface DaemonOptions extends AppOptions {
  /** How long in-flight tasks may run after SIGTERM, in milliseconds. Default 10,000. */
  graceMs?: number;
}

/**
 * Runs gem-watch until SIGTERM or SIGINT. The first signal stops gracefully: the cron stops,
 * in-flight tasks get `graceMs` to finish, then workers, queues and connections close; if that is
 * not over `graceMs` + 10 s after the signal the process exits 1. A second signal forces exit, but
 * only a second or more after the first (see installShutdownHandlers).
 */
export async function runDaemon(config: Config, options: DaemonOptions = {}): Promise<void> {
  const app = createApp(config, options);
  const graceMs = options.graceMs ?? 10_000;
  const started = app.start();
  installShutdownHandlers({ logger: app.logger, stop: () => app.stop(graceMs), deadlineMs: graceMs + 10_000, started });
  await started;
}
