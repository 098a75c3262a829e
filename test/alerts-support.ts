import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ParsedMail } from 'mailparser';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { stringify } from 'yaml';
import { loadConfigWithSecrets } from '../src/config-secrets.js';
import type { Config } from '../src/config/schema.js';
import { resolveDestinations } from '../src/domain/routing.js';
import { NoTokenProvider } from '../src/gem/auth/token-provider.js';
import { GemClient } from '../src/gem/client.js';
import { Metrics } from '../src/telemetry/metrics.js';
import { NotificationLog } from '../src/notify/notification-log.js';
import { createNotifyStage } from '../src/queue/notify-processor.js';
import { createNotifiers, type NotifierRegistry } from '../src/notify/registry.js';
import { WatchPipeline } from '../src/queue/pipeline.js';
import { GemSimulator } from '../src/simulator/gem-simulator.js';
import { startSlackSink, type SlackSink, type SlackSinkRequest } from '../src/simulator/slack-sink.js';
import { LogCapture, waitFor } from './helpers/pipeline.js';
import { startRedis, uniquePrefix, type TestRedis } from './helpers/redis.js';
import { startSmtpSink, type SmtpSink } from './helpers/smtp-sink.js';

/**
 * A whole gem-watch for the alerts tests: the GEM simulator, a real Redis, the real pipeline and
 * notify worker (delivery policy, notification log) delivering to the Slack sink and to smtp-server.
 * Time that matters to the feature under test is a clock the test moves (`clock.now`); BullMQ's own
 * delays stay real, and a test that needs a delayed task "now" promotes it, as time passing would.
 */

export const WEBHOOK_SECRET = 'T0ALERTS/B0ALERTS/alertsWebhookSecretXyz';

export interface AlertsWorldOptions {
  sim: GemSimulator;
  redisUrl: string;
  slack: SlackSink;
  smtp: SmtpSink;
  /** Merged into the YAML over the defaults. */
  yaml?: Record<string, unknown>;
  /** Epoch ms the test clock starts at; default real now. */
  start?: number;
  /** The clock follows real time (plus `clock.offset`) instead of standing still at `clock.now`. */
  realClock?: boolean;
  /** Run the notify worker; default true. */
  notifyWorker?: boolean;
  /** Use this configuration (another replica of an existing world); default a new one with its own prefix. */
  config?: Config;
}

export interface AlertsWorld {
  config: Config;
  pipeline: WatchPipeline;
  metrics: Metrics;
  notifiers: NotifierRegistry;
  logs: LogCapture;
  log: NotificationLog;
  /** The pipeline's clock: `now` while it stands still, else real time plus `offset`. */
  clock: { now: number; offset: number };
  /** Slack messages accepted for this world's webhook. */
  slackMessages(): SlackSinkRequest[];
  /** Mails accepted, parsed. */
  mails(): Array<{ subject: string; text: string; html: string }>;
  close(): Promise<void>;
}

/** A configuration loaded the real way (defaults, YAML file, environment). */
export function alertsConfig(options: Pick<AlertsWorldOptions, 'sim' | 'redisUrl' | 'slack' | 'smtp' | 'yaml'>, prefix = uniquePrefix('alerts')): Config {
  const dir = mkdtempSync(join(tmpdir(), 'gem-watch-alerts-'));
  try {
    const file = join(dir, 'config.yaml');
    const yaml = {
      notify: { backoffMs: 50, maxBackoffMs: 400, slackPerSecond: 100, attempts: 5 },
      ...options.yaml,
    };
    writeFileSync(file, stringify(yaml));
    return loadConfigWithSecrets({
      file,
      env: {
        GEM_API_KEY: options.sim.apiKey,
        GEM_API_BASE_URL: options.sim.baseUrl,
        GEM_JOB_TYPES: 'ROAD_MATCHING',
        REDIS_URL: options.redisUrl,
        GEM_WATCH_PREFIX: prefix,
        POLL_CRON: '0 0 1 1 *',
        DIGEST_CRON: '0 0 1 1 *',
        SLACK_WEBHOOK_URL: options.slack.webhookUrl(WEBHOOK_SECRET),
        SMTP_URL: options.smtp.url(),
        EMAIL_TO: 'ops@example.com',
        EMAIL_FROM: 'gem-watch@example.com',
      },
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function alertsWorld(options: AlertsWorldOptions): AlertsWorld {
  const config = options.config ?? alertsConfig(options);
  const logs = new LogCapture('info');
  const metrics = new Metrics();
  const clock = { now: options.start ?? Date.now(), offset: 0 };
  const now = options.realClock ? () => Date.now() + clock.offset : () => clock.now;
  const notifiers = createNotifiers(config, logs.logger);
  const client = new GemClient({ baseUrl: config.gem.baseUrl, apiKey: config.gem.apiKey, tokenProvider: new NoTokenProvider(), timeoutMs: 5_000 });
  const pipeline = new WatchPipeline({
    config,
    client,
    logger: logs.logger,
    metrics,
    resolve: (transition) => resolveDestinations(transition, config),
    resolveAlert: (alert) => resolveDestinations(alert, config),
    notify: createNotifyStage({ config, logger: logs.logger, metrics, notifiers, now }),
    runNotifyWorker: options.notifyWorker ?? true,
    now,
  });
  const log = new NotificationLog(pipeline.redis, pipeline.keys, { maxEntries: config.retention.notificationLogMax, retentionMs: 365 * 86_400_000, now });
  const path = new URL(options.slack.webhookUrl(WEBHOOK_SECRET)).pathname;
  return {
    config,
    pipeline,
    metrics,
    notifiers,
    logs,
    log,
    clock,
    slackMessages: () => options.slack.accepted(path),
    mails: () =>
      (options.smtp.mails as ReadonlyArray<{ parsed: ParsedMail }>).map((mail) => ({
        subject: mail.parsed.subject ?? '',
        text: mail.parsed.text ?? '',
        html: typeof mail.parsed.html === 'string' ? mail.parsed.html : '',
      })),
    async close() {
      await pipeline.stop(2_000);
      await notifiers.close();
    },
  };
}

/** The environment that makes the real CLI read the same configuration as a world. */
export function cliEnv(config: Config): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    LOG_LEVEL: 'warn',
    GEM_API_KEY: config.gem.apiKey,
    GEM_API_BASE_URL: config.gem.baseUrl,
    GEM_JOB_TYPES: config.gem.jobTypes.join(','),
    REDIS_URL: config.redis.url,
    GEM_WATCH_PREFIX: config.redis.prefix,
    SLACK_WEBHOOK_URL: config.slack.webhookUrl,
    SMTP_URL: config.email.smtpUrl,
    EMAIL_TO: config.email.to.join(','),
    EMAIL_FROM: config.email.from,
    POLL_CRON: config.poll.cron,
    DIGEST_CRON: config.digest.cron,
  };
}

/** Delayed notify tasks moved to waiting, as the passing of time would (the pipeline's clock was moved). */
export async function promoteDelayed(world: AlertsWorld): Promise<string[]> {
  const delayed = await world.pipeline.notifyQueue.getDelayed(0, 1_000);
  await Promise.all(delayed.map((task) => task.promote()));
  return delayed.map((task) => task.id!);
}

/** Waits until every notify task is settled (nothing waiting, active or delayed). */
export async function notifyQueueDrained(world: AlertsWorld): Promise<void> {
  await waitFor(async () => {
    const counts = await world.pipeline.notifyQueue.getJobCounts('waiting', 'active', 'delayed', 'prioritized');
    return Object.values(counts).every((count) => count === 0);
  }, 'the notify queue to drain');
}

/** The Slack message's text and blocks as one string, for `toContain`. */
export function slackText(request: SlackSinkRequest): string {
  return `${request.body?.text ?? ''}\n${JSON.stringify(request.body?.blocks ?? [])}`;
}

/** The outside parts one alerts test file shares: a Redis, the simulator and both sinks. */
export interface AlertsParts {
  readonly sim: GemSimulator;
  readonly redis: TestRedis;
  readonly slack: SlackSink;
  readonly smtp: SmtpSink;
  /** Worlds to close after each test. */
  readonly open: AlertsWorld[];
  /** A world on these parts (options as alertsWorld's, less the parts), its pipeline started, closed after the test. */
  world(options?: Omit<Partial<AlertsWorldOptions>, 'sim' | 'redisUrl' | 'slack' | 'smtp'>): AlertsWorld;
}

/**
 * Starts the parts before the file's tests and stops them after, closes the worlds a test opened
 * and resets the simulator and sinks between tests. Call it at the top level of a test file.
 */
export function useAlertsParts(apiKey: string): AlertsParts {
  const sim = new GemSimulator({ apiKey });
  const open: AlertsWorld[] = [];
  const started: { redis?: TestRedis; slack?: SlackSink; smtp?: SmtpSink } = {};
  beforeAll(async () => {
    started.redis = await startRedis();
    started.slack = await startSlackSink();
    started.smtp = await startSmtpSink();
    await sim.start();
  });
  afterAll(async () => {
    await sim.stop();
    await started.slack?.close();
    await started.smtp?.close();
    await started.redis?.close();
  });
  afterEach(async () => {
    await Promise.all(open.splice(0).map((world) => world.close()));
    sim.setFaults(undefined);
    sim.clearJobs();
    started.slack?.reset();
    started.smtp?.reset();
  });
  return {
    sim,
    open,
    get redis() {
      return started.redis!;
    },
    get slack() {
      return started.slack!;
    },
    get smtp() {
      return started.smtp!;
    },
    world(options = {}) {
      const created = alertsWorld({ sim, redisUrl: started.redis!.url, slack: started.slack!, smtp: started.smtp!, ...options });
      open.push(created);
      created.pipeline.start();
      return created;
    },
  };
}
