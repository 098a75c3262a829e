import type { RedisClient } from '../state/connection.js';
import { evaluateJobAlerts, jobAlertKey, nextJobAlertCheckAt, type JobAlert, type JobAlertSettings, type WatchedJob } from '../domain/overdue.js';
import type { Logger } from '../telemetry/logger.js';
import { JobAlertMarks } from '../state/job-alert-marks.js';
import type { Keys } from '../state/keys.js';

/**
 * Stuck and overdue jobs: on every poll, each active job's stored snapshot is evaluated
 * (pure, domain/overdue.ts) and each condition met is dispatched once per job, status version and
 * condition, however many polls and replicas see it.
 *
 * Once-only without a lock: the marker is read first, then the alert is dispatched under task ids
 * derived from (job, version, condition) (BullMQ ignores an id it holds, so two replicas racing add
 * one set of tasks), then the marker is set for longer than BullMQ keeps the tasks. A crash between
 * dispatch and marker makes the next poll dispatch again, which adds nothing.
 */

/** The dispatcher's part this watcher uses; Dispatcher fits. */
export interface JobAlertDispatch {
  dispatchJobAlert(alert: JobAlert): Promise<number>;
}

/** The `alerts` keys the stuck and overdue rules come from. */
export interface JobAlertConfig {
  /** A job queued longer than this is stuck, in minutes. */
  queuedMaxMinutes: number;
  /** A running job is overdue past its expected duration times this. */
  overdueFactor: number;
  /** GEM's matching speed, road segments per hour. */
  roadsPerHour: number;
  /** Progress unchanged this long is a stall, in minutes. */
  stalledMinutes: number;
}

export interface JobAlertWatcherOptions {
  /**
   * The rules, and the retention (in days) that bounds how long a job's alert markers must live.
   * Nested as the configuration's keys, so the parsed configuration is one.
   */
  config: {
    alerts: JobAlertConfig;
    retention: { transitionsDays: number; deliveriesDays: number; vanishedDays: number };
  };
  redis: RedisClient;
  keys: Keys;
  dispatcher: JobAlertDispatch;
  logger: Logger;
  /** Called once per alert dispatched (metrics). */
  onAlert?: (alert: JobAlert) => void;
}

const MINUTE_MS = 60_000;
const DAY_MS = 86_400_000;

/** The settings of domain/overdue.ts from the `alerts` section. */
export function jobAlertSettings(alerts: JobAlertConfig): JobAlertSettings {
  return {
    queuedMaxMs: alerts.queuedMaxMinutes * MINUTE_MS,
    overdueFactor: alerts.overdueFactor,
    roadsPerHour: alerts.roadsPerHour,
    stalledMs: alerts.stalledMinutes * MINUTE_MS,
  };
}

export class JobAlertWatcher {
  private readonly settings: JobAlertSettings;
  private readonly markerTtlMs: number;
  private readonly marks: JobAlertMarks;

  constructor(private readonly options: JobAlertWatcherOptions) {
    this.settings = jobAlertSettings(options.config.alerts);
    this.marks = new JobAlertMarks(options.redis, options.keys);
    // As long as anything about the job is kept, and never less than a week.
    const { retention } = options.config;
    this.markerTtlMs = Math.max(7, retention.transitionsDays, retention.deliveriesDays, retention.vanishedDays) * DAY_MS;
  }

  /**
   * The next moment after `now` a fresh sample of the job can meet one of the conditions (or its
   * expected end comes): the polls read an unchanged active job again by then at the latest.
   */
  nextCheckAt(tracked: WatchedJob, now: number): number | undefined {
    return nextJobAlertCheckAt(tracked, now, this.settings);
  }

  /** Evaluates one job at `now` and dispatches what is new. Returns the alerts dispatched now. */
  async check(tracked: WatchedJob, now: number): Promise<JobAlert[]> {
    const found = evaluateJobAlerts(tracked, now, this.settings);
    if (found.length === 0) return [];
    const { dispatcher, logger } = this.options;
    const dispatched: JobAlert[] = [];
    for (const alert of found) {
      const key = jobAlertKey(alert);
      if (await this.marks.isSent(key)) continue;
      const destinations = await dispatcher.dispatchJobAlert(alert);
      await this.marks.markSent(key, now, destinations, this.markerTtlMs);
      logger.info(
        { jobId: alert.jobId, jobType: alert.jobType, kind: alert.kind, since: new Date(alert.since).toISOString(), destinations },
        destinations > 0 ? 'job needs a look: alert dispatched' : 'job needs a look, but no route takes its alerts',
      );
      this.options.onAlert?.(alert);
      dispatched.push(alert);
    }
    return dispatched;
  }
}
