import type { Queue } from 'bullmq';
import { DelayedError, type Job, type Processor, type WorkerOptions } from 'bullmq';
import type { RedisClient } from '../state/connection.js';
import { digestSettings, type DigestConfig } from '../digest/digest-config.js';
import { createDelivery, type DeliveryOptions, type DeliverySettings, type NotifyResult } from '../notify/delivery.js';
import { DeliveryError } from '../notify/errors.js';
import { NotificationLog } from '../notify/notification-log.js';
import type { NotifierRegistry } from '../notify/registry.js';
import { DeliveryPolicy, type DeliveryPolicyConfig } from '../notify/stages/policy.js';
import { recordOutcomes, type OutcomeListener } from '../notify/stages/record.js';
import { notifyBackoffStrategy, notifyJobOptions, type NotifyTaskConfig } from '../notify/task-options.js';
import type { NotifyTaskData } from '../notify/task.js';
import type { Logger } from '../telemetry/logger.js';
import type { Metrics } from '../telemetry/metrics.js';
import type { Keys } from '../state/keys.js';
import type { NotifyStage } from './pipeline.js';

/**
 * The notify queue's BullMQ adapter: a thin processor that hands each task to the staged delivery
 * (notify/delivery.ts) and turns "park" into BullMQ's own move to delayed, which spends no
 * attempt. The delivery protocol and its crash window are argued there.
 */

/** Options of the notify processor: those of the delivery it runs. */
export type NotifyProcessorOptions = DeliveryOptions;

/** What the notify Worker's options are read from; nested as the configuration's keys, so it is one. */
export interface NotifyWorkerConfig {
  notify: {
    /** Deliveries run at once per worker process. */
    concurrency: number;
    /** Delivery attempts per task; also the stalls a task may survive. */
    attempts: number;
    /** First retry delay, in ms. */
    backoffMs: number;
    /** Longest retry delay, in ms. */
    maxBackoffMs: number;
  };
}

/**
 * Options of the notify Worker (besides connection and prefix): the concurrency from config, the
 * stall limit and the backoff strategy. Without these `settings` BullMQ cannot retry a notify task (its backoff type is
 * custom), so always spread them into the Worker's options.
 */
export function notifyWorkerOptions(config: NotifyWorkerConfig, random?: () => number): Pick<WorkerOptions, 'concurrency' | 'settings' | 'maxStalledCount'> {
  return {
    concurrency: config.notify.concurrency,
    // BullMQ fails a task found stalled more than this many times (default once), spending none of
    // its attempts: two replicas killed while holding the same task would lose its message. A
    // stall only delays a delivery here (the marker and the lock keep it from repeating), so it
    // gets as many as the task has attempts.
    maxStalledCount: config.notify.attempts,
    settings: {
      backoffStrategy: notifyBackoffStrategy({ baseMs: config.notify.backoffMs, maxMs: config.notify.maxBackoffMs, ...(random ? { random } : {}) }),
    },
  };
}

/**
 * Builds the notify processor. Give the Worker `notifyWorkerOptions(config)` too.
 */
export function createNotifyProcessor(options: NotifyProcessorOptions): Processor<NotifyTaskData, NotifyResult> {
  const deliver = createDelivery(options);
  const now = options.now ?? Date.now;

  return async function processNotifyTask(job: Job<NotifyTaskData, NotifyResult>, token: string | undefined, signal: AbortSignal | undefined): Promise<NotifyResult> {
    /** Parks the task as delayed for `waitMs` without spending an attempt (BullMQ's DelayedError). */
    const park = async (waitMs: number): Promise<never> => {
      if (!token) throw new DeliveryError(`cannot park task without a worker token`, { reason: 'serverError', retryable: true, channel: job.data.channel });
      await job.moveToDelayed(now() + Math.max(1, Math.ceil(waitMs)), token);
      throw new DelayedError();
    };
    return deliver({ data: job.data, id: job.id, attemptsMade: job.attemptsMade, attempts: job.opts.attempts, park, ...(signal ? { signal } : {}) });
  };
}

/**
 * What the delivery side reads of the configuration: the delivery's, the policy's, the tasks' and
 * the Worker's keys, the digest's recipients and the notification log's bounds. The parsed
 * configuration is one.
 */
export type NotifyStageConfig = DeliverySettings &
  DeliveryPolicyConfig &
  NotifyTaskConfig &
  NotifyWorkerConfig &
  DigestConfig & {
    retention: {
      /** Entries kept in the notification log. */
      notificationLogMax: number;
      /** Days the notification log keeps an entry. */
      deliveriesDays: number;
    };
  };

/** What the delivery side of the pipeline is built from, besides the pipeline's own Redis and queue. */
export interface NotifyStageOptions {
  config: NotifyStageConfig;
  logger: Logger;
  metrics: Metrics;
  notifiers: NotifierRegistry;
  /** Further listeners of delivery outcomes, besides the metrics and the notification log. */
  onOutcome?: OutcomeListener;
  /** Clock of the processor (quiet hours are judged by it), epoch ms; default Date.now. */
  now?: () => number;
}

/** What the pipeline hands the delivery side: its Redis client, keys and the notify queue. */
export interface NotifyStageContext {
  redis: RedisClient;
  keys: Keys;
  /** The notify queue; with it, quiet hours, bursts and warnings apply (notify/stages/policy.ts). */
  notifyQueue?: Queue<NotifyTaskData>;
}

/**
 * The delivery side of the pipeline: the notify processor with its worker and task options, the
 * delivery policy (quiet hours, bursts, warnings) and the notification log.
 */
export function createNotifyStage(options: NotifyStageOptions): (context: NotifyStageContext) => NotifyStage {
  const { config, logger, metrics, notifiers } = options;
  return ({ redis, keys, notifyQueue }) => {
    const jobOptions = notifyJobOptions(config);
    const log = new NotificationLog(redis, keys, {
      maxEntries: config.retention.notificationLogMax,
      retentionMs: config.retention.deliveriesDays * 86_400_000,
    });
    const policy = notifyQueue ? new DeliveryPolicy({ config, redis, keys, queue: notifyQueue, jobOptions, logger }) : undefined;
    return {
      processor: createNotifyProcessor({
        config,
        notifiers,
        redis,
        keys,
        logger,
        digestRecipients: digestSettings(config).to,
        ...(policy ? { policy } : {}),
        ...(options.now ? { now: options.now } : {}),
        onOutcome: recordOutcomes({ metrics, log, ...(options.onOutcome ? { onOutcome: options.onOutcome } : {}) }),
      }),
      workerOptions: notifyWorkerOptions(config),
      jobOptions,
    };
  };
}
