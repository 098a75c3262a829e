import { JOB_STATUSES } from '../domain/job.js';
import type { Logger } from '../telemetry/logger.js';
import type { Metrics } from '../telemetry/metrics.js';
import { errorText } from '../telemetry/redact.js';
import type { StatusReadModel } from './status-model.js';

/** What the gauges read from and write to. */
export interface QueueGaugesOptions {
  metrics: Metrics;
  logger: Logger;
  model: StatusReadModel;
  /** The queues measured, by name: their series are set to zero at once. */
  queueNames: readonly string[];
  /** The readiness PING: with Redis away, the reads would only wait for their timeouts. */
  ping(): Promise<{ ok: boolean }>;
}

/**
 * The gauges read from Redis at each scrape rather than kept up to date by the workers:
 * `gemwatch_queue_depth` (waiting, active, delayed per queue) and `gemwatch_tracked_jobs` (per
 * status). Every replica reports the same numbers, since they come from the shared Redis.
 */
export class QueueGauges {
  constructor(private readonly options: QueueGaugesOptions) {
    // Series exist from the start, so a dashboard sees zero rather than nothing before the first scrape.
    for (const name of options.queueNames) {
      for (const state of ['waiting', 'active', 'delayed']) options.metrics.queueDepth.labels(name, state).set(0);
    }
  }

  /** Sets the queue-depth and tracked-jobs gauges from Redis; leaves them as they were when Redis is away. */
  async refresh(): Promise<void> {
    const { metrics, logger, model } = this.options;
    if (!(await this.options.ping()).ok) return;
    try {
      const [counts, depths] = await Promise.all([model.countByStatus(), model.queueDepths()]);
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
}
