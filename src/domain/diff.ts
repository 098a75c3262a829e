import { isTerminal, type Job } from '../gem/job.js';
import type { ProgressSample, TrackedJob } from '../state/tracked-job.js';
import type { Transition } from './transition.js';

export interface DiffOptions {
  /** Epoch milliseconds of the observation. */
  now: number;
  /** Progress samples kept per running job. */
  maxSamples: number;
  /** Record a transition without announcing it (first sync of history). */
  silent?: boolean;
}

export type DiffResult =
  /** Nothing worth writing: a terminal job seen again unchanged. */
  | { kind: 'unchanged' }
  /** An active (or unknown) reading of a job recorded as over: ignored, the recorded end stands. */
  | { kind: 'stale' }
  /** Same status, newer details (progress, times): state is updated, nothing is announced. */
  | { kind: 'updated'; tracked: TrackedJob }
  /** A new status: state is updated and the transition recorded. */
  | { kind: 'transition'; tracked: TrackedJob; transition: Transition };

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

/**
 * Compares what is stored of a job with a fresh observation. Pure: the caller writes the result
 * through one compare-and-set, and retries on conflict.
 */
export function diffJob(previous: TrackedJob | undefined, job: Job, options: DiffOptions): DiffResult {
  const { now, maxSamples } = options;
  if (previous && previous.status === job.status) {
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

  // An end is final: GEM cannot restart a job (a new run is a new job). A reading that puts an ended
  // job back in play is stale: a detail task whose fetch predates the one that recorded the end and
  // that lost the compare-and-set to it, or a lagging GEM backend. Recording it would make the next
  // poll see the end again and announce it a second time.
  if (previous && isTerminal(previous.status) && !isTerminal(job.status)) return { kind: 'stale' };

  const version = (previous?.version ?? 0) + 1;
  const tracked: TrackedJob = {
    job,
    status: job.status,
    version,
    firstSeenAt: previous?.firstSeenAt ?? now,
    lastChangeAt: now,
    lastFetchedAt: now,
    // A terminal job never needs its samples again: keep its snapshot compact.
    progress: isTerminal(job.status) ? [] : withSample(job.status === 'running' ? (previous?.progress ?? []) : [], job, now, maxSamples),
  };
  const transition: Transition = {
    jobId: job.id,
    jobType: job.jobType,
    ...(previous ? { from: previous.status } : {}),
    to: job.status,
    version,
    detectedAt: now,
    job,
    ...(options.silent ? { silent: true } : {}),
  };
  return { kind: 'transition', tracked, transition };
}
