import type { Job, JobStatus } from './job.js';
import { estimateEnd, expectedDurationFromSize, latestProgress, unchangedSince, type ProgressPoint } from './eta.js';
import { earliestAhead } from './detail-reads.js';
import { encodeIdPart, type Transition } from './transition.js';

/**
 * Stuck and overdue jobs: pure evaluation of one tracked job at `now`. Three conditions, each
 * announced once per job and status episode (the caller keeps a marker per `jobAlertKey`):
 *
 * - `queued-too-long`: queued longer than `queuedMaxMs`, counted from the job's creation when
 *   gem-watch first saw it queued, else from when it saw it become queued;
 * - `overdue`: running past its expected end, stretched by `overdueFactor`. The expected duration
 *   comes from the progress history (`estimateEnd`) when a pace can be told, else from the job's size
 *   (number of roads, at `roadsPerHour`) when the API sent one;
 * - `stalled`: running, with progress that has not moved for `stalledMs`.
 */

export type JobAlertKind = 'queued-too-long' | 'overdue' | 'stalled';

export const JOB_ALERT_KINDS: readonly JobAlertKind[] = ['queued-too-long', 'overdue', 'stalled'];

export interface JobAlertSettings {
  /** Longest time a job may stay queued, ms, from `alerts.queuedMaxMinutes` (default 2 h). */
  queuedMaxMs: number;
  /** The expected duration is stretched by this before a job counts as overdue. Default 1.5. */
  overdueFactor: number;
  /** Matching speed for the size estimate, road segments per hour. Default 100,000. */
  roadsPerHour: number;
  /** Progress unchanged this long is a stall, ms, from `alerts.stalledMinutes` (default 1 h). */
  stalledMs: number;
}

/** What the evaluation reads of a tracked job; state/TrackedJob fits. */
export interface WatchedJob {
  job: Job;
  status: JobStatus;
  version: number;
  firstSeenAt: number;
  lastChangeAt: number;
  progress: readonly ProgressPoint[];
  vanishedAt?: number;
}

/** A stuck or overdue job, as queued for delivery. Plain data: it travels in notify task data. */
export interface JobAlert {
  kind: JobAlertKind;
  jobId: string;
  jobType: string;
  /** The job's status version when the condition was met: the episode the alert belongs to. */
  version: number;
  /** The job as last seen. */
  job: Job;
  /** Epoch ms the condition's clock started: queued since, running since, progress unchanged since. */
  since: number;
  /** How long was allowed, ms (the queued limit, the stretched expected duration, the stall limit). */
  allowedMs: number;
  /** For `overdue`: the expected end before stretching, epoch ms, and where it came from. */
  expectedEndAt?: number;
  basis?: 'progress' | 'size';
  /** Latest progress seen, percent. */
  progress?: number;
  /** Epoch ms the condition was detected. */
  detectedAt: number;
}

function finite(value: number | undefined): number | undefined {
  return value !== undefined && Number.isFinite(value) ? value : undefined;
}

/** When the job's current queued spell started. */
function queuedSince(tracked: WatchedJob, now: number): number {
  const created = tracked.job.createdAt ? Date.parse(tracked.job.createdAt) : Number.NaN;
  // First seen queued: it has been queued since it was created (if the API's clock is sane).
  if (tracked.version <= 1 && Number.isFinite(created) && created <= now) return Math.min(created, tracked.lastChangeAt || created);
  return tracked.lastChangeAt || tracked.firstSeenAt;
}

/**
 * The conditions a job meets at `now`, in the order of JOB_ALERT_KINDS. Vanished jobs, ended jobs
 * and jobs with an unknown status meet none.
 */
export function evaluateJobAlerts(tracked: WatchedJob, now: number, settings: JobAlertSettings): JobAlert[] {
  if (tracked.vanishedAt !== undefined) return [];
  const base = { jobId: tracked.job.id, jobType: tracked.job.jobType, version: tracked.version, job: tracked.job, detectedAt: now };
  const alerts: JobAlert[] = [];

  if (tracked.status === 'queued') {
    const since = queuedSince(tracked, now);
    if (now - since > settings.queuedMaxMs) alerts.push({ ...base, kind: 'queued-too-long', since, allowedMs: settings.queuedMaxMs });
    return alerts;
  }
  if (tracked.status !== 'running') return alerts;

  const clocks = runningClocks(tracked, now, settings);
  const { runningSince, progress, expected, overdueAllowedMs, lastMove } = clocks;
  const withProgress = progress === undefined ? {} : { progress };
  if (expected && overdueAllowedMs !== undefined && now > runningSince + overdueAllowedMs) {
    alerts.push({ ...base, ...withProgress, ...expected, kind: 'overdue', since: runningSince, allowedMs: overdueAllowedMs });
  }
  if (lastMove !== undefined && now - lastMove > settings.stalledMs) {
    alerts.push({ ...base, ...withProgress, kind: 'stalled', since: lastMove, allowedMs: settings.stalledMs });
  }
  return alerts;
}

/** The clocks of a running job's conditions at `now`: what `evaluateJobAlerts` and `nextJobAlertCheckAt` share. */
function runningClocks(tracked: WatchedJob, now: number, settings: JobAlertSettings) {
  const runningSince = tracked.lastChangeAt || tracked.firstSeenAt;
  const progress = latestProgress(tracked.progress, now) ?? finite(tracked.job.progress);

  // Seen to start (it was known before as queued): progress was about 0 then, which anchors the pace.
  const sawItStart = tracked.lastChangeAt > tracked.firstSeenAt;
  const fromProgress = estimateEnd(tracked.progress, now, sawItStart ? { origin: [tracked.lastChangeAt, 0] } : {});
  const sizeMs = expectedDurationFromSize(finite(tracked.job.statistics?.numRoadsProcessed), settings.roadsPerHour);
  const expected =
    fromProgress !== undefined
      ? { expectedEndAt: fromProgress, basis: 'progress' as const }
      : sizeMs !== undefined
        ? { expectedEndAt: runningSince + sizeMs, basis: 'size' as const }
        : undefined;
  const unfinished = (progress ?? 0) < 100;
  const overdueAllowedMs = expected && unfinished ? Math.round(Math.max(0, expected.expectedEndAt - runningSince) * settings.overdueFactor) : undefined;

  let lastMove: number | undefined;
  if (tracked.progress.length > 0 && unfinished) {
    // The pipeline stores a sample only when progress changes, so the latest sample's time is when
    // it last moved (unchangedSince also looks through repeated values, should any be stored).
    const moved = unchangedSince(tracked.progress, now) ?? Math.max(...tracked.progress.map(([at]) => at).filter((at) => at <= now));
    if (Number.isFinite(moved)) lastMove = moved;
  }
  return { runningSince, progress, expected, overdueAllowedMs, lastMove };
}

/**
 * The next moment after `now` at which, judged from the snapshot as it is, a condition would be met
 * or the job is expected to end: when a fresh detail read can tell something the list cannot (the
 * poll reads sparsely otherwise, see domain/detail-reads.ts). Conditions are met strictly after
 * their limit, so the moment is 1 ms past it. Undefined when nothing lies ahead (ended, vanished,
 * unknown status, or every clock already past).
 */
export function nextJobAlertCheckAt(tracked: WatchedJob, now: number, settings: JobAlertSettings): number | undefined {
  if (tracked.vanishedAt !== undefined) return undefined;
  const candidates: Array<number | undefined> = [];
  if (tracked.status === 'queued') candidates.push(queuedSince(tracked, now) + settings.queuedMaxMs + 1);
  if (tracked.status === 'running') {
    const { runningSince, expected, overdueAllowedMs, lastMove } = runningClocks(tracked, now, settings);
    candidates.push(expected?.expectedEndAt);
    if (overdueAllowedMs !== undefined) candidates.push(runningSince + overdueAllowedMs + 1);
    if (lastMove !== undefined) candidates.push(lastMove + settings.stalledMs + 1);
  }
  return earliestAhead(now, ...candidates);
}

/** `<job>-v<version>-<kind>`: names one alert everywhere (task ids, the once-only marker). No `:`. */
export function jobAlertKey(alert: Pick<JobAlert, 'jobId' | 'version' | 'kind'>): string {
  return `${encodeIdPart(alert.jobId)}-v${alert.version}-${encodeIdPart(alert.kind)}`;
}

/**
 * What routing sees of a job alert: the job's failure. A stuck or overdue job is news for whoever
 * hears of that job failing, so it goes where its failure would go (routes matching its type and
 * input file that take failures; else the default route when NOTIFY_ON has `failed`).
 */
export function jobAlertRoutingSubject(alert: JobAlert): Transition {
  return {
    jobId: alert.jobId,
    jobType: alert.jobType,
    from: alert.job.status,
    to: 'failed',
    version: alert.version,
    detectedAt: alert.detectedAt,
    job: alert.job,
  };
}
