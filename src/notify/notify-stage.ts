import type { Redis } from 'ioredis';
import type { Config } from '../config/schema.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import type { NotifyStage } from '../queue/pipeline.js';
import {
  createNotifyProcessor,
  notifyJobOptions,
  notifyWorkerOptions,
  type DeliveryOutcomeEvent,
} from '../queue/notify-processor.js';
import type { Keys } from '../state/keys.js';
import type { NotifierRegistry } from './registry.js';

export interface NotifyStageOptions {
  config: Config;
  logger: Logger;
  metrics: Metrics;
  notifiers: NotifierRegistry;
  /** Further listeners of delivery outcomes (the notification log). */
  onOutcome?: (event: DeliveryOutcomeEvent) => void | Promise<void>;
}

const METRIC_OUTCOME: Record<DeliveryOutcomeEvent['outcome'], string> = {
  delivered: 'sent',
  'already-delivered': 'skipped',
  deferred: 'retry',
  retrying: 'retry',
  failed: 'failed',
};

/** The delivery side of the pipeline: the notify processor with its worker and task options. */
export function createNotifyStage(options: NotifyStageOptions): (context: { redis: Redis; keys: Keys }) => NotifyStage {
  const { config, logger, metrics, notifiers } = options;
  return ({ redis, keys }) => ({
    processor: createNotifyProcessor({
      config,
      notifiers,
      redis,
      keys,
      logger,
      onOutcome: async (event) => {
        metrics.notifications.labels(event.channel, METRIC_OUTCOME[event.outcome]).inc();
        await options.onOutcome?.(event);
      },
    }),
    workerOptions: notifyWorkerOptions(config),
    jobOptions: notifyJobOptions(config),
  });
}
