import type { Config } from './config/schema.js';
import { resolveDestinations } from './domain/routing.js';
import { credentialAlert } from './gem/auth/credential-alert.js';
import { CredentialHealth } from './gem/auth/credential-health.js';
import { createTokenProvider, resolveProviderKind } from './gem/auth/create-token-provider.js';
import { GemClient } from './gem/client.js';
import { createLogger, type Logger } from './observability/logger.js';
import { Metrics } from './observability/metrics.js';
import { errorText } from './observability/redact.js';
import { createNotifiers, type NotifierRegistry } from './notify/registry.js';
import { createNotifyStage } from './notify/notify-stage.js';
import { WatchPipeline, type Role } from './queue/pipeline.js';
import { HealthFlag } from './state/health-flag.js';

export interface AppOptions {
  role?: Role;
  logger?: Logger;
  metrics?: Metrics;
  /** fetch for Slack (tests route it elsewhere); default globalThis.fetch. */
  fetch?: typeof globalThis.fetch;
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
  start(): Promise<void>;
  /** Graceful: stops the cron, lets tasks finish for up to `graceMs`, closes everything. */
  stop(graceMs?: number): Promise<void>;
}

/** The composition root: builds every part from the configuration. Nothing connects until start. */
export function createApp(config: Config, options: AppOptions = {}): App {
  const logger = options.logger ?? createLogger(config.log);
  const metrics = options.metrics ?? new Metrics({ defaultMetrics: true });
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

  const notifyStage = createNotifyStage({ config, logger, metrics, notifiers });
  const pipeline = new WatchPipeline({
    config,
    client,
    logger,
    metrics,
    role: options.role,
    resolve: (transition) => resolveDestinations(transition, config),
    resolveAlert: (alert) => resolveDestinations(alert, config),
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

  return {
    config,
    logger,
    metrics,
    client,
    pipeline,
    notifiers,
    credentials,
    async start() {
      await credentials.sync().catch(() => true);
      metrics.credentialsHealthy.set(credentials.healthy ? 1 : 0);
      pipeline.start();
      logger.info(
        { role: options.role ?? 'all', jobTypes: config.gem.jobTypes, cron: config.poll.cron, channels: notifiers.list().map((n) => n.name) },
        'gem-watch started',
      );
    },
    async stop(graceMs = 10_000) {
      await pipeline.stop(graceMs);
      await notifiers.close();
    },
  };
}

export interface DaemonOptions extends AppOptions {
  /** How long in-flight tasks may run after SIGTERM, in milliseconds. Default 10,000. */
  graceMs?: number;
}

/**
 * Runs gem-watch until SIGTERM or SIGINT. The first signal stops gracefully. A second one forces
 * exit, but only a second or more after the first: Ctrl-C in a terminal reaches npm, its shell and
 * node at once, and that single press must still be graceful.
 */
export async function runDaemon(config: Config, options: DaemonOptions = {}): Promise<void> {
  const app = createApp(config, options);
  const { logger } = app;
  let stoppingSince: number | undefined;

  const shutdown = (signal: string) => {
    if (stoppingSince !== undefined) {
      if (Date.now() - stoppingSince >= 1_000) {
        logger.warn({ signal }, 'second signal: exiting now');
        process.exit(130);
      }
      return;
    }
    stoppingSince = Date.now();
    logger.info({ signal, graceMs: options.graceMs ?? 10_000 }, 'stopping gracefully');
    app
      .stop(options.graceMs)
      .then(() => {
        logger.info('stopped');
        process.exit(0);
      })
      .catch((error: unknown) => {
        logger.error({ error: errorText(error) }, 'error while stopping');
        process.exit(1);
      });
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('unhandledRejection', (reason) => {
    logger.error({ error: errorText(reason) }, 'unhandled promise rejection');
  });
  process.on('uncaughtException', (error) => {
    logger.fatal({ err: error }, 'uncaught exception; stopping');
    shutdown('uncaughtException');
  });

  await app.start();
}
