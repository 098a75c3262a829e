import { Queue, UnrecoverableError, Worker, type Job as BullJob, type JobsOptions, type WorkerOptions } from 'bullmq';
import type { RedisOptions } from 'ioredis';
import { JobAlertWatcher, type JobAlertWatcherOptions } from '../alerts/job-alert-watcher.js';
import { PollHealthWatcher } from '../alerts/poll-health-watcher.js';
import { redisTarget } from '../config/redis-url.js';
import { isClassifiedError, type ClassifiedError } from '../domain/failure.js';
import type { Transition } from '../domain/transition.js';
import type { GemClient } from '../gem/client.js';
import { isGemApiError } from '../gem/errors.js';
import type { Logger } from '../telemetry/logger.js';
import type { Metrics } from '../telemetry/metrics.js';
import { errorText, scrub } from '../telemetry/redact.js';
import { RepeatFilter } from '../telemetry/repeat-filter.js';
import { HealthFlag } from '../state/health-flag.js';
import { Keys } from '../state/keys.js';
import { StateStore } from '../state/state-store.js';
import { DetailReadStore } from '../state/detail-read-store.js';
import { createRedis, type RedisClient } from '../state/connection.js';
import { connectionLog } from '../telemetry/redis-failure.js';
import { queueOptions } from './queue-options.js';
import { DetailProcessor, type DetailStep } from './detail-processor.js';
import { LiveProgress } from './live-progress.js';
import { DEFAULT_ROUTE } from '../domain/routing.js';
import { Dispatcher, type ResolveAlertDestinations, type ResolveDestinations } from './dispatcher.js';
import type { NotifyTaskData } from '../notify/task.js';
import type { SlackAppRouteConfig } from '../notify/channels/slack-app/settings.js';
import { digestJobs } from './digest-queue.js';
import { digestSlotTaskId, isDigestSlotTask, QUEUE_NAMES, type DetailTaskData, type DigestSlotTaskData, type HousekeepingTaskData, type PollTaskData } from './names.js';
import { detailTasks, PollProcessor } from './poll-processor.js';
import { PollScheduler, shortestCronGapMs } from './poll-scheduler.js';

export type Role = 'all' | 'scheduler' | 'worker';

/** The delivery side, supplied by the notify module. */
export interface NotifyStage {
  processor: (task: BullJob<NotifyTaskData>, token?: string, signal?: AbortSignal) => Promise<unknown>;
  /** Worker settings: concurrency, backoff strategy, limiter. */
  workerOptions?: Partial<WorkerOptions>;
  /** Attempts, backoff and retention of each notify task. */
  jobOptions: JobsOptions;
}

/** What Slack app mode's live progress reads of a route (`slackApp`, `routes[].slackApp`). */
type LiveRouteConfig = Pick<SlackAppRouteConfig, 'channel' | 'liveProgress' | 'progressEveryMinutes'>;

/**
 * What the pipeline reads of the configuration: Redis's address and key prefix, the poll's
 * schedule, limits and samples, the job types, retention, the stuck, overdue and polling alerts,
 * the notify Worker's concurrency and Slack app mode's live routes. Nested as the configuration's
 * keys, so the parsed configuration is one.
 */
export type PipelineSettings = JobAlertWatcherOptions['config'] & {
  /** REDIS_URL, the Sentinels' password and the prefix of every key. */
  redis: { url: string; sentinelPassword?: string; prefix: string };
  gem: { jobTypes: readonly string[] };
  poll: {
    /** node-cron expression of the poll. */
    cron: string;
    /** Detail fetches run at once per worker process. */
    detailConcurrency: number;
    /** At most `max` detail calls per `durationMs` ms across replicas. */
    rateLimit: { max: number; durationMs: number };
    /** An unchanged active job is read again after this many seconds; 0 = every poll. */
    progressEverySeconds: number;
    /** (time, progress) samples kept per running job. */
    progressSamples: number;
    /** How long finished poll tasks are kept, in seconds. */
    keepPollTasksSec: number;
    /** Outbox entries older than this are dispatched again, in ms. */
    outboxGraceMs: number;
  };
  /** Polling failing this long raises the polling alert, in minutes. */
  alerts: { pollFailureMinutes: number };
  /** The operators' time zone, of the polling alert's times. */
  digest: { timezone: string };
  /** Deliveries run at once per worker process. */
  notify: { concurrency: number };
  /** Slack app mode: SLACK_BOT_TOKEN ('' = off) and the default route's live progress. */
  slackApp?: LiveRouteConfig & { botToken: string };
  routes: readonly { name: string; slackApp?: LiveRouteConfig | undefined }[];
};

export interface PipelineOptions {
  config: PipelineSettings;
  client: GemClient;
  logger: Logger;
  metrics: Metrics;
  resolve: ResolveDestinations;
  resolveAlert?: ResolveAlertDestinations;
  /** Builds the delivery side, given the pipeline's Redis connection, keys and notify queue. */
  notify: (context: { redis: RedisClient; keys: Keys; notifyQueue: Queue<NotifyTaskData> }) => NotifyStage;
  /**
   * Builds the housekeeping side (the digest's slot tasks), given the pipeline; the housekeeping
   * worker runs where the other workers run. Without it, slot tasks wait for a replica that has it.
   */
  housekeeping?: (pipeline: WatchPipeline) => (task: DigestSlotTaskData) => Promise<unknown>;
  role?: Role;
  /** Run the notify worker in this process. Default: when the role runs workers. */
  runNotifyWorker?: boolean;
  now?: () => number;
  /** V8 heap limit the poll warns against (see PollProcessor); default this process's own. */
  heapLimitBytes?: number;
  /** Test seam of the detail step; see DetailProcessor. */
  afterDetailStep?: (step: DetailStep, jobId: string) => void | Promise<void>;
}

const DAY_MS = 86_400_000;

/**
 * The watch pipeline: cron ticks → poll tasks → detail tasks → atomic diff in Redis → notify tasks.
 * Each stage is a BullMQ queue, so any replica may run any task and a crash only delays work.
 */
export class WatchPipeline {
  readonly keys: Keys;
  readonly redis: RedisClient;
  readonly store: StateStore;
  readonly pollQueue: Queue<PollTaskData>;
  readonly detailQueue: Queue<DetailTaskData>;
  readonly notifyQueue: Queue<NotifyTaskData>;
  readonly housekeepingQueue: Queue<HousekeepingTaskData>;
  readonly dispatcher: Dispatcher;
  readonly pollProcessor: PollProcessor;
  readonly detailProcessor: DetailProcessor;
  readonly scheduler: PollScheduler;
  readonly notifyStage: NotifyStage;
  /** Stuck and overdue jobs, evaluated after each detail fetch. */
  readonly jobAlerts: JobAlertWatcher;
  /** The polling health alert, told each poll's outcome. */
  readonly pollHealth: PollHealthWatcher;
  private readonly workers: Worker[] = [];
  private readonly errorFilter = new RepeatFilter();
  private readonly connections: RedisClient[] = [];
  private started = false;

  constructor(private readonly options: PipelineOptions) {
    const { config, logger, metrics } = options;
    this.keys = new Keys(config.redis.prefix);
    // Auto-pipelining writes the commands issued in one turn of the event loop as one socket write:
    // 32 detail and 32 notify tasks run at once, and one write per command was 9% of the daemon's
    // CPU at 50,000 jobs (npm run bench). Only this connection: BullMQ's own are left as BullMQ
    // expects them.
    this.redis = this.connection('state', { enableAutoPipelining: true });
    this.store = new StateStore(this.redis, this.keys, { transitionsDays: config.retention.transitionsDays });
    const opened = queueOptions(this.connection('queues'), config.redis.prefix);
    this.pollQueue = this.watchQueue(new Queue<PollTaskData>(QUEUE_NAMES.poll, opened));
    this.detailQueue = this.watchQueue(
      new Queue<DetailTaskData>(QUEUE_NAMES.detail, {
        ...opened,
        defaultJobOptions: {
          attempts: 3,
          backoff: { type: 'exponential', delay: 1_000 },
          // A finished detail task only has to outlive a retry of the poll task that added it (its
          // id dedups the re-add; later slots have their own ids, and the compare-and-set makes a
          // duplicate fetch harmless). A job's next task does not wait for it: the deduplication
          // key that keeps one task pending per job goes when the task completes. An hour and 50,000 of them held ~60 MB of Redis at 1,000
          // fetches a minute; 5,000 were still 105 bytes per tracked job at 50,000 jobs (npm run
          // bench). 1,000 for ten minutes is ~1 MB.
          removeOnComplete: { age: 600, count: 1_000 },
          removeOnFail: { age: DAY_MS / 1000, count: 50_000 },
        },
      }),
    );
    this.notifyQueue = this.watchQueue(new Queue<NotifyTaskData>(QUEUE_NAMES.notify, opened));
    this.housekeepingQueue = this.watchQueue(
      new Queue<HousekeepingTaskData>(QUEUE_NAMES.housekeeping, {
        ...opened,
        defaultJobOptions: {
          // Redis away or an older daemon's lease: retried for half an hour. A slot whose task
          // failed for good is added again by the digest's check (its period was never claimed) or
          // finished by the next slot's task (it was): removed on failure so the re-add can happen.
          attempts: 30,
          backoff: { type: 'fixed', delay: 60_000 },
          removeOnComplete: { age: 7 * DAY_MS / 1000, count: 100 },
          removeOnFail: true,
        },
      }),
    );
    this.notifyStage = options.notify({ redis: this.redis, keys: this.keys, notifyQueue: this.notifyQueue });
    this.dispatcher = new Dispatcher({
      notifyQueue: this.notifyQueue,
      store: this.store,
      resolve: options.resolve,
      resolveAlert: options.resolveAlert,
      jobOptions: this.notifyStage.jobOptions,
      logger,
      afterEnqueue: options.afterDetailStep && ((transition) => options.afterDetailStep!('enqueued', transition.jobId)),
    });
    this.jobAlerts = new JobAlertWatcher({ config, redis: this.redis, keys: this.keys, dispatcher: this.dispatcher, logger });
    this.pollHealth = new PollHealthWatcher({
      redis: this.redis,
      keys: this.keys,
      flag: new HealthFlag(this.redis, this.keys, 'polling'),
      dispatchAlert: (alert) => this.dispatcher.dispatchAlert(alert),
      failureMs: config.alerts.pollFailureMinutes * 60_000,
      logger,
      timeZone: config.digest.timezone,
      jobTypes: config.gem.jobTypes,
    });
    const pollGapMs = shortestCronGapMs(config.poll.cron);
    const { max, durationMs } = config.poll.rateLimit;
    const common = { store: this.store, dispatcher: this.dispatcher, logger, metrics, client: options.client, now: options.now };
    this.pollProcessor = new PollProcessor({
      ...common,
      redis: this.redis,
      keys: this.keys,
      detailQueue: this.detailQueue,
      maxSamples: config.poll.progressSamples,
      vanishedRetentionMs: config.retention.vanishedDays * DAY_MS,
      outboxGraceMs: config.poll.outboxGraceMs,
      progressEveryMs: config.poll.progressEverySeconds * 1000,
      health: this.pollHealth,
      heapLimitBytes: options.heapLimitBytes,
      detailBudget: {
        allowedPerPoll: Math.floor((max * pollGapMs) / durationMs),
        pollGapMs,
        rateLimit: `${max} per ${durationMs} ms`,
        jobTypes: config.gem.jobTypes,
      },
    });
    this.detailProcessor = new DetailProcessor({
      ...common,
      maxSamples: config.poll.progressSamples,
      afterStep: options.afterDetailStep,
      jobAlerts: this.jobAlerts,
      ...(config.poll.progressEverySeconds > 0 ? { detailReads: new DetailReadStore(this.redis, this.keys) } : {}),
      ...(liveProgressOf(config, options.resolve, this.dispatcher) ?? {}),
    });
    this.scheduler = new PollScheduler({
      queue: this.pollQueue,
      jobTypes: config.gem.jobTypes,
      cron: config.poll.cron,
      keepSec: config.poll.keepPollTasksSec,
      logger,
    });
  }

  private connection(name: string, overrides: RedisOptions = {}): RedisClient {
    const redis = createRedis(redisTarget(this.options.config.redis), name, connectionLog(this.options.logger, name), overrides);
    this.connections.push(redis);
    return redis;
  }

  /** Logs a queue's or worker's error, once per minute for the same text (see RepeatFilter). */
  private logError(kind: 'queue' | 'worker', name: string, error: Error): void {
    const text = errorText(error);
    const { log, held } = this.errorFilter.pass(`${kind}:${name}:${text}`);
    if (log) this.options.logger.warn({ queue: name, error: text, ...(held > 0 ? { repeatedSinceLastLog: held } : {}) }, `${kind} error`);
  }

  private watchQueue<T extends Queue>(queue: T): T {
    queue.on('error', (error) => this.logError('queue', queue.name, error));
    return queue;
  }

  private watchWorker(worker: Worker): Worker {
    const { logger } = this.options;
    worker.on('error', (error) => this.logError('worker', worker.name, error));
    worker.on('failed', (task, error) => {
      if (!task) return;
      // BullMQ's own test for a failure that spends no more attempts (by name, as it does).
      const unrecoverable = error.name === 'UnrecoverableError';
      const final = unrecoverable || task.attemptsMade >= (task.opts.attempts ?? 1);
      const classified = classifiedIn(error);
      const message = !final ? 'task failed; will retry' : unrecoverable && classified ? 'task failed for good: not retryable, so not retried' : 'task failed for good';
      logger[final ? 'error' : 'warn'](
        {
          queue: worker.name,
          task: task.id,
          attempt: task.attemptsMade,
          error: errorText(error),
          reason: classified?.reason,
          ...(classified?.status !== undefined ? { status: classified.status } : {}),
        },
        message,
      );
    });
    this.workers.push(worker);
    return worker;
  }

  /** Starts the parts the role asks for. */
  start(): void {
    if (this.started) return;
    this.started = true;
    const { config, role = 'all' } = this.options;
    if (role !== 'scheduler') {
      this.watchWorker(
        new Worker<PollTaskData>(QUEUE_NAMES.poll, (task) => this.pollProcessor.process(task.data).then(summarise, (error: unknown) => Promise.reject(unlessRetryable(error))), {
          connection: this.connection('poll-worker'),
          prefix: config.redis.prefix,
          concurrency: Math.max(1, config.gem.jobTypes.length),
        }),
      );
      const detailWorker: Worker<DetailTaskData> = new Worker<DetailTaskData>(
        QUEUE_NAMES.detail,
        async (task) => {
          try {
            const transition = await this.detailProcessor.process(task.data);
            return transition ? { to: transition.to, version: transition.version } : null;
          } catch (error) {
            // GEM asked us to slow down: pause this queue for as long as it said (at least a
            // second: BullMQ's limiter key cannot expire in 0 ms), without spending one of the
            // task's attempts.
            if (isGemApiError(error) && error.reason === 'rateLimited') {
              await detailWorker.rateLimit(Math.max(1_000, error.retryAfterMs ?? 5_000));
              throw Worker.RateLimitError();
            }
            throw unlessRetryable(error);
          }
        },
        {
          connection: this.connection('detail-worker'),
          prefix: config.redis.prefix,
          concurrency: config.poll.detailConcurrency,
          limiter: { max: config.poll.rateLimit.max, duration: config.poll.rateLimit.durationMs },
        },
      );
      this.watchWorker(detailWorker);
      const digestSlot = this.options.housekeeping?.(this);
      if (digestSlot) {
        // Slot tasks and the digest's deliveries; the latter run the notify stages, with the
        // notify queue's backoff strategy (a slot task's `fixed` backoff is BullMQ's own).
        this.watchWorker(
          new Worker<HousekeepingTaskData>(
            QUEUE_NAMES.housekeeping,
            (task, token, signal) =>
              isDigestSlotTask(task.data) ? digestSlot(task.data) : this.notifyStage.processor(task as BullJob<NotifyTaskData>, token, signal),
            {
              ...this.notifyStage.workerOptions,
              concurrency: 2,
              connection: this.connection('housekeeping-worker'),
              prefix: config.redis.prefix,
            },
          ),
        );
      }
      if (this.options.runNotifyWorker ?? true) {
        this.watchWorker(
          new Worker<NotifyTaskData>(QUEUE_NAMES.notify, this.notifyStage.processor, {
            concurrency: config.notify.concurrency,
            ...this.notifyStage.workerOptions,
            connection: this.connection('notify-worker'),
            prefix: config.redis.prefix,
          }),
        );
      }
    }
    if (role !== 'worker') this.scheduler.start();
  }

  /** Adds the digest task of a cron slot; every replica adds the same id, so one task runs. */
  async queueDigestSlot(slot: number): Promise<void> {
    await this.housekeepingQueue.add('digest', { digestSlot: slot }, { jobId: digestSlotTaskId(slot) });
  }

  /** Queues one channel's copy each of a digest period; their ids carry the period (digest-queue.ts). */
  async queueDigestDeliveries(tasks: readonly NotifyTaskData[]): Promise<void> {
    if (tasks.length > 0) await this.housekeepingQueue.addBulk(digestJobs(tasks, this.notifyStage.jobOptions));
  }

  /** True when every worker this process started is running. */
  workersRunning(): boolean {
    return this.workers.every((worker) => worker.isRunning());
  }

  get workerList(): readonly Worker[] {
    return this.workers;
  }

  /**
   * One full cycle for every job type, in this process, without the cron: list, details, diff and
   * dispatch. Returns the transitions recorded.
   */
  async pollOnce(): Promise<Transition[]> {
    const found: Transition[] = [];
    for (const jobType of this.options.config.gem.jobTypes) {
      const plan = await this.pollProcessor.plan(jobType);
      for (const task of detailTasks(plan, Date.now())) {
        const transition = await this.detailProcessor.process(task);
        if (transition) found.push(transition);
      }
    }
    return found;
  }

  /**
   * Stops the cron, lets running tasks finish for up to `graceMs`, then closes workers, queues and
   * connections. Tasks still running after the grace are left to BullMQ's stalled-job recovery.
   */
  async stop(graceMs = 10_000): Promise<void> {
    await this.scheduler.stop();
    const grace = new Promise<boolean>((resolve) => setTimeout(() => resolve(true), graceMs).unref());
    // A worker stopped while its blocking connection still starts up (a stop right after start)
    // has that connection's start-up commands, which BullMQ sends without awaiting, rejected by the
    // close as unhandled "Connection is closed" errors; let them finish first, within the grace.
    await Promise.race([Promise.allSettled(this.workers.map((worker) => worker.waitUntilReady())), grace]);
    const closing = Promise.all(this.workers.map((worker) => worker.close()));
    const timedOut = await Promise.race([closing.then(() => false), grace]);
    if (timedOut) {
      this.options.logger.warn({ graceMs }, 'tasks still running after the grace period; forcing workers closed');
      await Promise.all(this.workers.map((worker) => worker.close(true)));
    }
    await Promise.all([this.pollQueue.close(), this.detailQueue.close(), this.notifyQueue.close(), this.housekeepingQueue.close()]);
    await Promise.all(this.connections.map((redis) => redis.quit().catch(() => redis.disconnect())));
  }
}

/**
 * The error a poll or detail task fails with: a classified failure that is not retryable (a GEM
 * 400, refused credentials) becomes an `UnrecoverableError`, so BullMQ fails the task at once
 * instead of spending its attempts on an answer that will not change. Everything else is thrown
 * as it is, for the attempts and backoff. The message is the original's, scrubbed, so the stored
 * failure reads as before; the original is kept as the cause for the failure log line.
 */
function unlessRetryable(error: unknown): unknown {
  if (!isClassifiedError(error) || error.retryable) return error;
  const unrecoverable = new UnrecoverableError(errorText(error));
  unrecoverable.cause = error;
  unrecoverable.stack = scrub(error.stack ?? error.message);
  return unrecoverable;
}

/** The classified failure behind a task's error: the error itself, or what `unlessRetryable` wrapped. */
function classifiedIn(error: Error): ClassifiedError | undefined {
  if (isClassifiedError(error)) return error;
  return isClassifiedError(error.cause) ? error.cause : undefined;
}

function summarise(plan: Awaited<ReturnType<PollProcessor['process']>>): unknown {
  if ('skipped' in plan) return plan;
  return { listed: plan.listed, details: plan.needDetail.length + plan.unlisted.length, deferred: plan.deferred, silent: plan.recordedSilently, vanished: plan.vanished, firstSync: plan.firstSync };
}

/**
 * Slack app mode's liveProgress for the detail processor, when a bot token is set and any route
 * (the default one: `slackApp.liveProgress`) shows jobs live; undefined otherwise.
 */
function liveProgressOf(config: PipelineOptions['config'], resolve: PipelineOptions['resolve'], dispatcher: Dispatcher): { liveProgress: LiveProgress } | undefined {
  const app = config.slackApp;
  if (!app?.botToken) return undefined;
  const periods = new Map<string, number>();
  if (app.channel && app.liveProgress) periods.set(DEFAULT_ROUTE, app.progressEveryMinutes * 60_000);
  for (const route of config.routes) {
    if (route.slackApp?.channel && route.slackApp.liveProgress) periods.set(route.name, route.slackApp.progressEveryMinutes * 60_000);
  }
  if (periods.size === 0) return undefined;
  return { liveProgress: new LiveProgress({ resolve, everyMs: (route) => periods.get(route), dispatch: (tasks) => dispatcher.dispatchProgress(tasks) }) };
}
