import { isTerminal, type Job } from './job.js';
import type { ProgressSample, TrackedJob } from './tracked-job.js';
import type { Transition } from './transition.js';

export interface DiffOptions {
  /** Epoch milliseconds of the observation. */
  now: number;
  /** Progress samples kept per running job. */
  maxSamples: number;
  /** Record a transition without announcing it (first sync of history). */
  silent?: boolean;
  /**
   * Epoch ms of the job type's first sync (the `synced` flag's value), when known. With it, a job
   * first seen already ended before that moment is history (`{ kind: 'history' }`), and a creation
   * time after it tells a new run of an id recorded compactly as history.
   */
  firstSyncAt?: number;
  /** Clock skew allowed between GEM's times and ours, in ms. Default `CLOCK_SKEW_MARGIN_MS`. */
  skewMarginMs?: number;
}

/**
 * How far GEM's clock (createdAt, modifiedAt) may be from gem-watch's (the first sync time, the
 * moment an end was recorded) before a comparison of the two is trusted: 10 minutes. A job that
 * ended up to this long before the first sync is announced rather than taken for history, and a
 * run must be created at least this long after an end was recorded to be told a new run by that
 * alone. Both errors lean towards announcing: a stray old end is noise, a swallowed new one is
 * lost.
 */
export const CLOCK_SKEW_MARGIN_MS = 10 * 60_000;

/**
 * Times of one run as printed by the two answer shapes differ in precision (microseconds in the
 * list's `requested_at`, seconds elsewhere): creation times closer than this are one run.
 */
const SAME_CREATION_MS = 1_000;

export type DiffResult =
  /** Nothing worth writing: a terminal job seen again unchanged. */
  | { kind: 'unchanged' }
  /** An active (or unknown) reading of a job recorded as over: ignored, the recorded end stands. */
  | { kind: 'stale' }
  /** Same status, newer details (progress, times): state is updated, nothing is announced. */
  | { kind: 'updated'; tracked: TrackedJob }
  /** A new status: state is updated and the transition recorded. */
  | { kind: 'transition'; tracked: TrackedJob; transition: Transition }
  /**
   * A job never seen before that ended before the type's first sync: recorded silently and
   * compactly, as the first sync records history, never announced.
   */
  | { kind: 'history'; tracked: TrackedJob };

/** Fields that, when they change on an active job, are worth writing back. */
function sameDetails(a: Job, b: Job): boolean {
  return (
    a.progress === b.progress &&
    a.modifiedAt === b.modifiedAt &&
    a.rawStatus === b.rawStatus &&
    a.message === b.message &&
    a.outputFile === b.outputFile
  );
}

function withSample(samples: ProgressSample[], job: Job, now: number, max: number): ProgressSample[] {
  if (job.status !== 'running' || job.progress === undefined) return samples;
  const last = samples[samples.length - 1];
  // A repeated value adds nothing to the ETA fit but would push useful history out; stalls are
  // still visible from the age of the last sample.
  if (last && last[1] === job.progress) return samples;
  return [...samples, [now, job.progress] as ProgressSample].slice(-max);
}

function epochMs(iso: string | undefined): number | undefined {
  if (iso === undefined) return undefined;
  const ms = Date.parse(iso);
  return Number.isFinite(ms) ? ms : undefined;
}

/**
 * Whether a job first seen already ended is history: it ended before the job type's first sync,
 * less the skew margin, so gem-watch was not watching when it ended. The end is GEM's `modifiedAt`
 * (the detail answer's; the list carries no modified time). An answer without one (the public
 * example's shape) is judged by its creation time: a run created before the first sync that the
 * first list did not show is history, unless the first list was empty while it ran; announcing
 * every such job is the storm of old news this rule exists to stop, so the rare end of a job
 * that was running during an empty first answer is the smaller loss. Without any time, or
 * without a first sync time, it is news, as before.
 */
export function endedBeforeFirstSync(job: Job, firstSyncAt: number | undefined, marginMs = CLOCK_SKEW_MARGIN_MS): boolean {
  if (firstSyncAt === undefined || !isTerminal(job.status)) return false;
  const at = epochMs(job.modifiedAt) ?? epochMs(job.createdAt);
  return at !== undefined && at < firstSyncAt - marginMs;
}

/**
 * Whether an answer for a job recorded as ended is a new run of a reused id rather than a
 * stale reading of the recorded run. The creation time decides: a different one (beyond the two
 * shapes' difference in precision) is another run. When the recorded run's creation time is not
 * known (history recorded compactly by the first sync keeps no snapshot), a run created after the
 * moment the end was recorded (its `lastChangeAt`, or the first sync for compact history), plus the
 * skew margin, cannot be the recorded one. Without a creation time in the answer, the recorded end
 * stands.
 */
export function isNewRun(previous: TrackedJob, job: Job, firstSyncAt: number | undefined, marginMs = CLOCK_SKEW_MARGIN_MS): boolean {
  // An ended answer counts too: a reused id whose new run ended between two polls is read (the
  // list showed it active, or differently ended) and its end must not pass for the old one's.
  if (!isTerminal(previous.status) || job.status === 'unknown') return false;
  const created = epochMs(job.createdAt);
  if (created === undefined) return false;
  const recorded = epochMs(previous.job.createdAt);
  if (recorded !== undefined) return Math.abs(created - recorded) >= SAME_CREATION_MS;
  const endKnownAt = previous.lastChangeAt > 0 ? previous.lastChangeAt : firstSyncAt;
  return endKnownAt !== undefined && created > endKnownAt + marginMs;
}

/**
 * Compares what is stored of a job with a fresh observation. Pure: the caller writes the result
 * through one compare-and-set, and retries on conflict.
 */
export function diffJob(previous: TrackedJob | undefined, job: Job, options: DiffOptions): DiffResult {
  const { now, maxSamples } = options;
  const margin = options.skewMarginMs ?? CLOCK_SKEW_MARGIN_MS;
  if (previous === undefined && !options.silent && endedBeforeFirstSync(job, options.firstSyncAt, margin)) {
    const tracked: TrackedJob = { job, status: job.status, version: 1, firstSeenAt: now, lastChangeAt: now, lastFetchedAt: now, progress: [] };
    return { kind: 'history', tracked };
  }
  const newRun = previous !== undefined && isNewRun(previous, job, options.firstSyncAt, margin);
  if (previous && previous.status === job.status && !newRun) {
    if (isTerminal(job.status) && previous.vanishedAt === undefined) return { kind: 'unchanged' };
    if (sameDetails(previous.job, job) && previous.vanishedAt === undefined) return { kind: 'unchanged' };
    const tracked: TrackedJob = {
      ...previous,
      job,
      lastFetchedAt: now,
      progress: withSample(previous.progress, job, now, maxSamples),
    };
    delete tracked.vanishedAt;
    return { kind: 'updated', tracked };
  }

  // An end is final for one run: a reading that puts an ended job back in play is stale (a detail
  // task whose fetch predates the one that recorded the end and that lost the compare-and-set to
  // it, or a lagging GEM backend), and recording it would make the next poll see the end again and
  // announce it a second time. Only a run with another creation time is news: GEM reused the id.
  if (previous && isTerminal(previous.status) && !isTerminal(job.status) && !newRun) return { kind: 'stale' };

  // The version keeps counting across runs, so (job id, version), and with it every transition
  // key, notify task id and delivery marker, is new for the new run: the old run's can never
  // swallow its announcements. A job forgotten after the vanished retention starts at version 1
  // again when its id comes back; its keys are new then only because the old run's delivery
  // markers and failed notify tasks (kept deliveriesDays) are gone by the time it is forgotten
  // (kept vanishedDays after it left the list), which is the retention settings' to guarantee.
  const version = (previous?.version ?? 0) + 1;
  const generation = newRun ? (previous?.generation ?? 0) + 1 : previous?.generation;
  const tracked: TrackedJob = {
    job,
    status: job.status,
    version,
    ...(generation ? { generation } : {}),
    firstSeenAt: newRun ? now : (previous?.firstSeenAt ?? now),
    lastChangeAt: now,
    lastFetchedAt: now,
    // A terminal job never needs its samples again: keep its snapshot compact.
    progress: isTerminal(job.status) ? [] : withSample(job.status === 'running' && !newRun ? (previous?.progress ?? []) : [], job, now, maxSamples),
  };
  const transition: Transition = {
    jobId: job.id,
    jobType: job.jobType,
    ...(previous ? { from: previous.status } : {}),
    to: job.status,
    version,
    detectedAt: now,
    job,
    ...(generation ? { generation } : {}),
    ...(options.silent ? { silent: true } : {}),
  };
  return { kind: 'transition', tracked, transition };
}
