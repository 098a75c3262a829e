import { JOB_STATUSES, type Job, type JobStatus } from './job.js';
import { estimateEnd, latestProgress, unchangedSince, type ProgressPoint } from './eta.js';
import type { TrackedJob } from './tracked-job.js';
import type { Transition } from './transition.js';

/**
 * The digest: what finished, failed and is still running, as plain data built by one pure function.
 * The templates (templates/digest-*.ts) only lay it out; the scheduler (digest/) only fetches the
 * input and sends the result.
 */

/** A half-open period [start, end), epoch milliseconds. */
export interface DigestPeriod {
  start: number;
  end: number;
}

/**
 * What the digest needs of a tracked job: a `TrackedJob` is one, and test fixtures and the digest
 * source need not invent the fields the digest never reads (version, fetch times). Vanished jobs
 * (`vanishedAt` set) are left out.
 */
export type DigestTrackedJob = Pick<TrackedJob, 'job' | 'status' | 'firstSeenAt' | 'lastChangeAt' | 'vanishedAt'> & {
  /** (time, progress) samples while running, oldest first. */
  progress: readonly ProgressPoint[];
};

export interface DigestInput {
  period: DigestPeriod;
  /**
   * Transitions recorded in the period, all counted. The caller picks them by one clock, the
   * transition stream's ids (Redis's time), so each lands in exactly one period: `detectedAt` is the
   * detecting replica's clock, which may differ by its skew, and filtering on it again would drop a
   * transition detected just before a boundary and recorded just after it from both digests.
   */
  transitions: readonly Transition[];
  /** The period compared against. Default: one of the same length right before `period`. */
  previousPeriod?: DigestPeriod;
  /** Transitions recorded in the previous period, picked the same way. */
  previousTransitions: readonly Transition[];
  /** Every tracked job now: running and queued jobs come from here. */
  tracked: readonly DigestTrackedJob[];
  /** IANA time zone the digest is written in. Default `UTC`. */
  timeZone?: string;
  /** A running job whose progress has not moved for this long is shown as stalled, in ms. Default 1 hour. */
  stalledAfterMs?: number;
}

/** How a job is named in every list. Strings are API text: escape before display. */
export interface DigestJobRef {
  jobId: string;
  jobType: string;
  inputFile?: string;
  outputFile?: string;
  /** True when `outputFile` was derived, not sent by the API. */
  outputFileDerived?: boolean;
}

export interface DigestFinishedJob extends DigestJobRef {
  /** Epoch ms when gem-watch detected the finish. */
  finishedAt: number;
  /** Percent 0–100, as the API returned it. */
  matchedPct?: number;
  fullyMatchedPct?: number;
  partiallyMatchedPct?: number;
  kmProcessed?: number;
  roadsProcessed?: number;
  /** Seconds: the API's execution time, else createdAt → modifiedAt. */
  durationSec?: number;
}

export interface DigestEndedJob extends DigestJobRef {
  status: 'failed' | 'cancelled';
  /** Epoch ms when gem-watch detected it. */
  endedAt: number;
  /** The API's failure or status message, when it sent one. */
  message?: string;
}

export interface DigestRunningJob extends DigestJobRef {
  /** Percent 0–100: the latest sample, else the job's own field. */
  progress?: number;
  /** Epoch ms gem-watch saw it running from. */
  runningSince: number;
  /** Expected end, epoch ms, from the progress history; undefined when no pace can be told. */
  expectedEndAt?: number;
  /** The expected end has passed. */
  overdue: boolean;
  /** Epoch ms since which the progress has not moved (the latest change seen), when there are samples. */
  unchangedSince?: number;
  /** The progress has not moved for `stalledAfterMs` or longer. */
  stalled: boolean;
}

export interface DigestQueuedJob extends DigestJobRef {
  /** Epoch ms: the job's createdAt, else when gem-watch first saw it. */
  queuedSince: number;
}

/** Figures of the jobs that ended in one period. */
export interface DigestTotals {
  finished: number;
  failed: number;
  cancelled: number;
  kmProcessed: number;
  roadsProcessed: number;
  /** Roads matched, percent, weighted by the km of each finished job; undefined without any. */
  matchedPct?: number;
}

/** This period minus the previous one. */
export interface DigestChange {
  finished: number;
  failed: number;
  cancelled: number;
  kmProcessed: number;
  /** Relative change of km, percent; undefined when the previous period processed none. */
  kmProcessedPct?: number;
  roadsProcessed: number;
  /** Difference in percentage points; undefined when either period has no matched %. */
  matchedPctPoints?: number;
}

export interface DigestModel {
  period: DigestPeriod;
  previousPeriod: DigestPeriod;
  timeZone: string;
  /** Epoch ms the digest was built. */
  generatedAt: number;
  /**
   * finished / failed / cancelled: jobs that reached the status in the period.
   * queued / running / unknown: jobs in that status now.
   */
  counts: Record<JobStatus, number>;
  /** In order of detection. */
  finished: DigestFinishedJob[];
  failed: DigestEndedJob[];
  cancelled: DigestEndedJob[];
  /** Longest-running first. */
  running: DigestRunningJob[];
  /** Longest-waiting first. */
  queued: DigestQueuedJob[];
  totals: DigestTotals;
  previousTotals: DigestTotals;
  change: DigestChange;
  /**
   * Jobs found already ended on the first sync (recorded silently, never announced). They are not
   * listed: their end lies before gem-watch watched.
   */
  recordedFromHistory: number;
  /** Nothing ended or changed in the period and nothing runs or waits now. */
  isEmpty: boolean;
}

/** Builds the digest of `input.period` as of `now` (epoch ms; it dates the ETA and "overdue"). */
export function buildDigest(input: DigestInput, now: number): DigestModel {
  const period = input.period;
  const previousPeriod = input.previousPeriod ?? { start: period.start - (period.end - period.start), end: period.start };
  const ended = endedJobs(input.transitions);
  const previous = endedJobs(input.previousTransitions);

  const live = input.tracked.filter((tracked) => tracked.vanishedAt === undefined);
  const running = live
    .filter((tracked) => tracked.status === 'running')
    .map((tracked) => runningJob(tracked, now, input.stalledAfterMs ?? 3_600_000))
    .sort((a, b) => a.runningSince - b.runningSince || a.jobId.localeCompare(b.jobId));
  const queued = live
    .filter((tracked) => tracked.status === 'queued')
    .map(queuedJob)
    .sort((a, b) => a.queuedSince - b.queuedSince || a.jobId.localeCompare(b.jobId));

  const counts = Object.fromEntries(JOB_STATUSES.map((status) => [status, 0])) as Record<JobStatus, number>;
  counts.finished = ended.finished.length;
  counts.failed = ended.failed.length;
  counts.cancelled = ended.cancelled.length;
  counts.running = running.length;
  counts.queued = queued.length;
  counts.unknown = live.filter((tracked) => tracked.status === 'unknown').length;

  const totals = totalsOf(ended);
  const previousTotals = totalsOf(previous);
  const announced = input.transitions.filter((transition) => !transition.silent);

  return {
    period,
    previousPeriod,
    timeZone: input.timeZone ?? 'UTC',
    generatedAt: now,
    counts,
    finished: ended.finished,
    failed: ended.failed,
    cancelled: ended.cancelled,
    running,
    queued,
    totals,
    previousTotals,
    change: changeBetween(totals, previousTotals),
    recordedFromHistory: ended.silent,
    isEmpty: announced.length === 0 && running.length === 0 && queued.length === 0 && counts.unknown === 0,
  };
}

interface EndedJobs {
  finished: DigestFinishedJob[];
  failed: DigestEndedJob[];
  cancelled: DigestEndedJob[];
  silent: number;
}

/**
 * One line per job that ended, from its latest terminal transition: a replayed or re-detected
 * transition (a higher version for the same job) must not list the job twice.
 */
function endedJobs(transitions: readonly Transition[]): EndedJobs {
  const latest = new Map<string, Transition>();
  for (const transition of transitions) {
    if (transition.to !== 'finished' && transition.to !== 'failed' && transition.to !== 'cancelled') continue;
    const seen = latest.get(transition.jobId);
    if (!seen || transition.version > seen.version || (transition.version === seen.version && transition.detectedAt > seen.detectedAt)) {
      latest.set(transition.jobId, transition);
    }
  }
  const out: EndedJobs = { finished: [], failed: [], cancelled: [], silent: 0 };
  const ordered = [...latest.values()].sort((a, b) => a.detectedAt - b.detectedAt || a.jobId.localeCompare(b.jobId));
  for (const transition of ordered) {
    if (transition.silent) {
      out.silent += 1;
    } else if (transition.to === 'finished') {
      out.finished.push(finishedJob(transition));
    } else {
      const status = transition.to as 'failed' | 'cancelled';
      out[status].push({ ...jobRef(transition.job, transition.jobId, transition.jobType), status, endedAt: transition.detectedAt, message: transition.job.message });
    }
  }
  return out;
}

function jobRef(job: Job, jobId = job.id, jobType = job.jobType): DigestJobRef {
  const ref: DigestJobRef = { jobId, jobType };
  if (job.inputFile !== undefined) ref.inputFile = job.inputFile;
  if (job.outputFile !== undefined) ref.outputFile = job.outputFile;
  if (job.outputFileDerived) ref.outputFileDerived = true;
  return ref;
}

function finite(value: number | undefined): number | undefined {
  return value !== undefined && Number.isFinite(value) ? value : undefined;
}

function finishedJob(transition: Transition): DigestFinishedJob {
  const job = transition.job;
  const stats = job.statistics ?? {};
  return {
    ...jobRef(job, transition.jobId, transition.jobType),
    finishedAt: transition.detectedAt,
    matchedPct: finite(stats.roadsMatchedPct),
    fullyMatchedPct: finite(stats.roadsFullyMatchedPct),
    partiallyMatchedPct: finite(stats.roadsPartiallyMatchedPct),
    kmProcessed: finite(stats.kmsProcessed),
    roadsProcessed: finite(stats.numRoadsProcessed),
    durationSec: finite(stats.executionTimeSec) ?? secondsBetween(job.createdAt, job.modifiedAt),
  };
}

function secondsBetween(fromIso: string | undefined, toIso: string | undefined): number | undefined {
  if (!fromIso || !toIso) return undefined;
  const from = Date.parse(fromIso);
  const to = Date.parse(toIso);
  return Number.isNaN(from) || Number.isNaN(to) || to < from ? undefined : (to - from) / 1000;
}

function runningJob(tracked: DigestTrackedJob, now: number, stalledAfterMs: number): DigestRunningJob {
  // When gem-watch saw the job start (it was known before, as queued), progress was about 0 then:
  // that anchors the pace when only one sample exists. A job first seen already running has no
  // such anchor.
  const sawItStart = tracked.lastChangeAt > tracked.firstSeenAt;
  const options = sawItStart ? { origin: [tracked.lastChangeAt, 0] as const } : {};
  const expectedEndAt = estimateEnd(tracked.progress, now, options);
  const sampled = latestProgress(tracked.progress, now);
  const own = finite(tracked.job.progress);
  const line: DigestRunningJob = {
    ...jobRef(tracked.job),
    progress: sampled ?? (own === undefined ? undefined : Math.min(100, Math.max(0, own))),
    runningSince: tracked.lastChangeAt,
    overdue: expectedEndAt !== undefined && expectedEndAt < now,
    stalled: false,
  };
  if (expectedEndAt !== undefined) line.expectedEndAt = expectedEndAt;
  const since = unchangedSince(tracked.progress, now);
  if (since !== undefined) {
    line.unchangedSince = since;
    line.stalled = (line.progress ?? 0) < 100 && now - since >= stalledAfterMs;
  }
  return line;
}

function queuedJob(tracked: DigestTrackedJob): DigestQueuedJob {
  const created = tracked.job.createdAt ? Date.parse(tracked.job.createdAt) : Number.NaN;
  return { ...jobRef(tracked.job), queuedSince: Number.isNaN(created) ? tracked.firstSeenAt : created };
}

function totalsOf(ended: EndedJobs): DigestTotals {
  let kmProcessed = 0;
  let roadsProcessed = 0;
  let weighted = 0;
  let weight = 0;
  for (const job of ended.finished) {
    kmProcessed += job.kmProcessed ?? 0;
    roadsProcessed += job.roadsProcessed ?? 0;
    if (job.matchedPct !== undefined && job.kmProcessed !== undefined && job.kmProcessed > 0) {
      weighted += job.matchedPct * job.kmProcessed;
      weight += job.kmProcessed;
    }
  }
  const totals: DigestTotals = {
    finished: ended.finished.length,
    failed: ended.failed.length,
    cancelled: ended.cancelled.length,
    kmProcessed,
    roadsProcessed,
  };
  if (weight > 0) totals.matchedPct = weighted / weight;
  return totals;
}

function changeBetween(current: DigestTotals, previous: DigestTotals): DigestChange {
  const change: DigestChange = {
    finished: current.finished - previous.finished,
    failed: current.failed - previous.failed,
    cancelled: current.cancelled - previous.cancelled,
    kmProcessed: current.kmProcessed - previous.kmProcessed,
    roadsProcessed: current.roadsProcessed - previous.roadsProcessed,
  };
  if (previous.kmProcessed > 0) change.kmProcessedPct = ((current.kmProcessed - previous.kmProcessed) / previous.kmProcessed) * 100;
  if (current.matchedPct !== undefined && previous.matchedPct !== undefined) {
    change.matchedPctPoints = current.matchedPct - previous.matchedPct;
  }
  return change;
}
