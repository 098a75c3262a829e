import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { DeliveryPolicy } from '../alerts/delivery-policy.js';
import type { Config } from '../config/schema.js';
import type { Logger } from '../telemetry/logger.js';
import type { Metrics, NotificationOutcome } from '../telemetry/metrics.js';
import type { NotifyTaskData } from '../queue/names.js';
import type { NotifyStage } from '../queue/pipeline.js';
import {
  createNotifyProcessor,
  notifyJobOptions,
  notifyWorkerOptions,
  type DeliveryOutcomeEvent,
} from '../queue/notify-processor.js';
import type { Keys } from '../state/keys.js';
import { NotificationLog } from './notification-log.js';
import type { NotifierRegistry } from './registry.js';

export interface NotifyStageOptions {
  config: Config;
  logger: Logger;
  metrics: Metrics;
  notifiers: NotifierRegistry;
  /** Further listeners of delivery outcomes, besides the metrics and the notification log. */
  onOutcome?: (event: DeliveryOutcomeEvent) => void | Promise<void>;
  /** Clock of the processor (quiet hours are judged by it), epoch ms; default Date.now. */
  now?: () => number;
}

/** What the pipeline hands the delivery side: its Redis client, keys and the notify queue. */
export interface NotifyStageContext {
  redis: Redis;
  keys: Keys;
  /** The notify queue; with it, quiet hours, bursts and warnings apply (alerts/delivery-policy.ts). */
  notifyQueue?: Queue<NotifyTaskData>;
}

const METRIC_OUTCOME: Record<DeliveryOutcomeEvent['outcome'], NotificationOutcome> = {
  delivered: 'sent',
  'already-delivered': 'skipped',
  // Waiting for the endpoint's rate limit or for another worker's send is no failure: counted
  // apart, so an alert on retries does not fire on every burst.
  deferred: 'deferred',
  retrying: 'retry',
  failed: 'failed',
  held: 'held',
  grouped: 'grouped',
};

/**
 * Seconds from detection to delivery of each transition a delivered message announced: its own, or
 * each member's of a group message (a held or gathered transition counts the time it was held, which
 * is what its reader waited). Job and operator alerts are no transitions; a replayed delivery
 * (`already-delivered`) was counted when it went out.
 */
export function detectionToDeliverySeconds(event: DeliveryOutcomeEvent): number[] {
  if (event.outcome !== 'delivered') return [];
  const detected = event.kind === 'transition' ? [event.detectedAt] : (event.covers ?? []).filter((member) => member.kind === 'transition').map((member) => member.detectedAt);
  // Detection and delivery may be on two replicas' clocks: a skew never makes a negative time.
  return detected.filter((at): at is number => typeof at === 'number' && Number.isFinite(at)).map((at) => Math.max(0, (event.at - at) / 1000));
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
        ...(policy ? { policy } : {}),
        ...(options.now ? { now: options.now } : {}),
        onOutcome: async (event) => {
          metrics.notifications.labels(event.channel, METRIC_OUTCOME[event.outcome]).inc();
          for (const seconds of detectionToDeliverySeconds(event)) metrics.detectionToDelivery.labels(event.channel).observe(seconds);
          await log.record(event);
          await options.onOutcome?.(event);
        },
      }),
      workerOptions: notifyWorkerOptions(config),
      jobOptions,
    };
  };
}
