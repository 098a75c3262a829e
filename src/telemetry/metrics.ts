import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { JOB_STATUSES } from '../domain/job.js';

/** The `outcome` values of gemwatch_notifications_total, each exported from the start at zero. */
export const NOTIFICATION_OUTCOMES = ['sent', 'retry', 'deferred', 'failed', 'skipped', 'held', 'grouped'] as const;
export type NotificationOutcome = (typeof NOTIFICATION_OUTCOMES)[number];

/**
 * Prefix of the Node.js process metrics before they took their standard names: prom-client's
 * own names already start with `process_` or `nodejs_`, so this doubled them
 * (`gemwatch_process_process_cpu_seconds_total`). Still exported, deprecated, for one release.
 */
export const DEPRECATED_PROCESS_PREFIX = 'gemwatch_process_';

export interface MetricsOptions {
  /**
   * Node.js process metrics (CPU, memory, heap, event loop lag, GC) under the standard names that
   * stock Node.js dashboards query: `process_cpu_seconds_total`, `process_resident_memory_bytes`,
   * `nodejs_heap_size_total_bytes`, `nodejs_eventloop_lag_seconds`, ... Default false (tests build
   * several pipelines in one process); the daemon turns them on.
   */
  defaultMetrics?: boolean;
  /**
   * With `defaultMetrics`, the same metrics again under their old doubled names
   * (`gemwatch_process_process_cpu_seconds_total`), deprecated: kept for one release so dashboards
   * and alerts built on them keep working while they move. Default true.
   */
  deprecatedProcessNames?: boolean;
  /** gem-watch's version, the `version` label of gemwatch_build_info. Default `unknown`. */
  version?: string;
}

/**
 * gem-watch's Prometheus metrics, on a registry of its own (tests build several pipelines in one
 * process). Label values are created at zero so a dashboard sees a series before the first event.
 */
export class Metrics {
  readonly registry = new Registry();

  readonly polls = new Counter({
    name: 'gemwatch_polls_total',
    help: 'Poll cycles by job type and outcome (ok, failed, skipped).',
    labelNames: ['job_type', 'outcome'] as const,
    registers: [this.registry],
  });
  readonly apiCalls = new Counter({
    name: 'gemwatch_api_calls_total',
    help: 'GEM API calls by endpoint (list, detail) and outcome (HTTP status or error reason).',
    labelNames: ['endpoint', 'outcome'] as const,
    registers: [this.registry],
  });
  readonly pollDuration = new Histogram({
    name: 'gemwatch_poll_duration_seconds',
    help: 'Time from the start of a poll task to its detail tasks being queued.',
    labelNames: ['job_type'] as const,
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });
  readonly transitions = new Counter({
    name: 'gemwatch_transitions_total',
    help: 'Status transitions detected, by new status.',
    labelNames: ['status'] as const,
    registers: [this.registry],
  });
  readonly notifications = new Counter({
    name: 'gemwatch_notifications_total',
    help: `Delivery attempts by channel and outcome (${NOTIFICATION_OUTCOMES.join(', ')}).`,
    labelNames: ['channel', 'outcome'] as const,
    registers: [this.registry],
  });
  readonly trackedJobs = new Gauge({
    name: 'gemwatch_tracked_jobs',
    help: 'Jobs gem-watch tracks, by status, as its state holds them at the scrape; jobs gone from the list are left out.',
    labelNames: ['status'] as const,
    registers: [this.registry],
  });
  readonly queueDepth = new Gauge({
    name: 'gemwatch_queue_depth',
    help: 'BullMQ tasks waiting, delayed or active, by queue and state.',
    labelNames: ['queue', 'state'] as const,
    registers: [this.registry],
  });
  readonly lastPollSuccess = new Gauge({
    name: 'gemwatch_last_successful_poll_timestamp_seconds',
    help: 'Unix time of the last successful poll in this process.',
    registers: [this.registry],
  });
  readonly detailFetchesPerPoll = new Gauge({
    name: 'gemwatch_detail_fetches_per_poll',
    help: 'Detail fetches the latest poll of each job type asked for, summed (as of the last poll this process ran).',
    registers: [this.registry],
  });
  readonly detailFetchesAllowedPerPoll = new Gauge({
    name: 'gemwatch_detail_fetches_allowed_per_poll',
    help: 'Detail fetches poll.rateLimit allows between two polls; above it, each job is read only every few polls.',
    registers: [this.registry],
  });
  readonly buildInfo = new Gauge({
    name: 'gemwatch_build_info',
    help: 'Always 1; the labels name the gem-watch version and the Node.js version running it.',
    labelNames: ['version', 'node'] as const,
    registers: [this.registry],
  });
  readonly detectionToDelivery = new Histogram({
    name: 'gemwatch_detection_to_delivery_seconds',
    help: 'Seconds from a status change being detected to its announcement being delivered, by channel; held and grouped announcements count their wait.',
    labelNames: ['channel'] as const,
    // From a prompt send (a second or two) through bursts and retries (minutes) to quiet hours
    // (a night).
    buckets: [1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, 14_400, 43_200],
    registers: [this.registry],
  });
  readonly credentialsHealthy = new Gauge({
    name: 'gemwatch_credentials_healthy',
    help: '1 while GEM accepts the credentials, 0 after it refused them.',
    registers: [this.registry],
  });

  constructor(options: MetricsOptions = {}) {
    if (options.defaultMetrics) {
      collectDefaultMetrics({ register: this.registry });
      if (options.deprecatedProcessNames !== false) collectDefaultMetrics({ register: this.registry, prefix: DEPRECATED_PROCESS_PREFIX });
    }
    this.buildInfo.labels(options.version ?? 'unknown', process.versions.node).set(1);
    for (const status of JOB_STATUSES) {
      this.transitions.labels(status).inc(0);
      this.trackedJobs.labels(status).set(0);
    }
    for (const endpoint of ['list', 'detail']) this.apiCalls.labels(endpoint, '200').inc(0);
    // Every channel gem-watch ships, so a dashboard sees a zero before the first delivery.
    for (const channel of ['slack', 'email', 'teams', 'webhook']) {
      this.detectionToDelivery.zero({ channel });
      for (const outcome of NOTIFICATION_OUTCOMES) this.notifications.labels(channel, outcome).inc(0);
    }
    this.credentialsHealthy.set(1);
  }
}
