import type { Job as BullJob, Queue } from 'bullmq';
import type { RedisClient } from '../state/connection.js';
import { estimateEnd } from '../domain/eta.js';
import type { JobStatus } from '../domain/job.js';
import type { TrackedJob } from '../domain/tracked-job.js';
import type { NotifyTaskData } from '../notify/task.js';
import type { Keys } from '../state/keys.js';
import { StateStore } from '../state/state-store.js';
import type { StatusPageJob, StatusPageModel, StatusPageNotification, StatusPageQueue } from '../templates/status-page.js';
import { errorText, scrub } from '../telemetry/redact.js';
import type { ReadinessReport } from './readiness.js';
import { withTimeout } from './with-timeout.js';

/** Ended jobs the status page lists (the most recent); the rest are counted. */
const PAGE_MAX_ENDED = 100;

/** Recent notifications shown on the status page. */
const RECENT_NOTIFICATIONS = 30;

/**
 * One tracked job as the status page and `gem-watch status` show it at a given moment: the ETA is
 * worked out here once, so the page and the command never disagree about it.
 */
export interface JobView extends StatusPageJob {
  status: JobStatus;
  rawStatus: string;
  /** Status changes seen so far. */
  version: number;
}

/** A tracked job as shown at `now`. Pure. */
export function jobView(tracked: TrackedJob, now: number): JobView {
  const { job } = tracked;
  return {
    id: job.id,
    jobType: job.jobType,
    status: tracked.status,
    rawStatus: job.rawStatus,
    progress: job.progress,
    inputFile: job.inputFile,
    eta: tracked.status === 'running' ? estimateEnd(tracked.progress, now) : undefined,
    lastChangeAt: tracked.lastChangeAt,
    vanishedAt: tracked.vanishedAt,
    message: job.message,
    version: tracked.version,
  };
}

/** What the read model reads from: the server's Redis client and the pipeline's queues. */
export interface StatusReadModelOptions {
  /** The server's client: made when it starts, so it is asked for at each read. */
  redis(): RedisClient | undefined;
  keys: Keys;
  jobTypes: readonly string[];
  /** retention.transitionsDays, for the state store. */
  transitionsDays: number;
  /** The queues whose depths are shown and measured, in the page's order. */
  queues: readonly Queue[];
  /** Where recent deliveries are read when no notification log is given. */
  notifyQueue: Queue;
  /**
   * The notification log: the latest `limit` delivery outcomes, newest first. Until it is
   * given, the status page shows the notify queue's completed and failed tasks instead.
   */
  recentDeliveries?: (limit: number) => Promise<StatusPageNotification[]>;
  /** IANA time zone of every instant on the page. */
  timeZone: string;
  /** Timeout of each read, in milliseconds. Default 3,000. */
  dataTimeoutMs?: number;
}

/**
 * Everything the status page and the gauges show, read from Redis and the queues and never
 * written: tracked jobs, queue depths, counts by status and recent notifications. Each read has
 * its own timeout, so one slow part leaves the others shown.
 */
export class StatusReadModel {
  constructor(private readonly options: StatusReadModelOptions) {}

  private get timeoutMs(): number {
    return this.options.dataTimeoutMs ?? 3_000;
  }

  private store(): StateStore {
    return new StateStore(this.options.redis()!, this.options.keys, { transitionsDays: this.options.transitionsDays });
  }

  /** Waiting (prioritized and waiting-children included), active, delayed and failed tasks per queue. */
  async queueDepths(): Promise<StatusPageQueue[]> {
    const timeout = this.timeoutMs;
    return Promise.all(
      this.options.queues.map(async (queue) => {
        const counts = await withTimeout(queue.getJobCounts('waiting', 'prioritized', 'waiting-children', 'active', 'delayed', 'failed'), timeout, `queue ${queue.name}`);
        return {
          name: queue.name,
          waiting: (counts.waiting ?? 0) + (counts.prioritized ?? 0) + (counts['waiting-children'] ?? 0),
          active: counts.active ?? 0,
          delayed: counts.delayed ?? 0,
          failed: counts.failed ?? 0,
        };
      }),
    );
  }

  /** Tracked jobs by status, vanished ones left out. */
  async countByStatus(): Promise<Map<string, number>> {
    return withTimeout(this.store().countByStatus(this.options.jobTypes), this.timeoutMs, 'tracked jobs');
  }

  private async recentNotifications(): Promise<{ source: 'log' | 'queue'; rows: StatusPageNotification[] }> {
    const timeout = this.timeoutMs;
    // The notification log when the app passes it; without it, what the notify queue keeps.
    if (this.options.recentDeliveries) {
      return { source: 'log', rows: await withTimeout(this.options.recentDeliveries(RECENT_NOTIFICATIONS), timeout, 'notification log') };
    }
    const tasks = (await withTimeout(
      this.options.notifyQueue.getJobs(['completed', 'failed'], 0, RECENT_NOTIFICATIONS * 2, false),
      timeout,
      'notify queue',
    )) as Array<BullJob<NotifyTaskData> | undefined>;
    const rows = tasks
      .filter((task): task is BullJob<NotifyTaskData> => task !== undefined && task !== null)
      .map((task) => notificationFromTask(task))
      .sort((a, b) => (b.at ?? 0) - (a.at ?? 0))
      .slice(0, RECENT_NOTIFICATIONS);
    return { source: 'queue', rows };
  }

  /**
   * The status page's data at `now`, with the readiness report already taken. A part whose data
   * cannot be read is replaced by a named problem; with Redis unreachable nothing else is read.
   */
  async page(now: number, readiness: ReadinessReport): Promise<StatusPageModel> {
    const errors: string[] = [];
    const redisOk = readiness.checks.find((check) => check.name === 'redis')?.ok ?? false;
    let jobs: StatusPageJob[] = [];
    let endedTotal: number | undefined;
    let queues: StatusPageQueue[] = [];
    let notifications: { source: 'log' | 'queue'; rows: StatusPageNotification[] } = {
      source: this.options.recentDeliveries ? 'log' : 'queue',
      rows: [],
    };
    if (!redisOk) {
      errors.push('Redis is unreachable: tracked jobs, notifications and queues cannot be shown.');
    } else {
      const [tracked, depths, recent] = await Promise.allSettled([
        withTimeout(this.store().pageJobs(this.options.jobTypes, PAGE_MAX_ENDED), this.timeoutMs, 'tracked jobs'),
        this.queueDepths(),
        this.recentNotifications(),
      ]);
      if (tracked.status === 'fulfilled') {
        jobs = tracked.value.jobs.map((job) => jobView(job, now));
        endedTotal = tracked.value.endedTotal;
      }
      else errors.push(`Tracked jobs could not be read: ${errorText(tracked.reason)}`);
      if (depths.status === 'fulfilled') queues = depths.value;
      else errors.push(`Queue depths could not be read: ${errorText(depths.reason)}`);
      if (recent.status === 'fulfilled') notifications = recent.value;
      else errors.push(`Recent notifications could not be read: ${errorText(recent.reason)}`);
    }
    return {
      now,
      timeZone: this.options.timeZone,
      ready: readiness.ready,
      checks: readiness.checks,
      queues,
      jobs,
      maxEnded: PAGE_MAX_ENDED,
      ...(endedTotal !== undefined ? { endedTotal } : {}),
      notificationSource: notifications.source,
      notifications: notifications.rows,
      errors,
    };
  }
}

/** A notify task as a page row: what it was about, where it went and how it ended. */
function notificationFromTask(task: BullJob<NotifyTaskData>): StatusPageNotification {
  const data = task.data ?? ({} as NotifyTaskData);
  const subject = data.transition
    ? `${data.transition.job?.jobType ?? data.transition.jobType} job ${data.transition.jobId} ${data.transition.to}`
    : data.alert
      ? `alert: ${data.alert.title}`
      : String(task.name);
  const failed = task.failedReason !== undefined && task.finishedOn !== undefined && task.returnvalue == null;
  const result = task.returnvalue as { outcome?: string; detail?: string } | null | undefined;
  return {
    at: task.finishedOn ?? task.processedOn ?? task.timestamp,
    channel: data.channel ?? '?',
    route: data.route ?? '?',
    target: data.target ?? '',
    subject,
    outcome: failed ? 'failed' : (result?.outcome ?? 'completed'),
    detail: failed ? scrub(task.failedReason ?? '') : result?.detail,
    attempts: task.attemptsMade,
  };
}
