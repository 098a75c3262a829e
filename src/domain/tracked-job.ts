import type { Job, JobStatus } from './job.js';

/** One (time, progress) sample of a running job: epoch milliseconds, percent 0–100. */
export type ProgressSample = [at: number, progress: number];

/** What gem-watch remembers of a job between polls. */
export interface TrackedJob {
  job: Job;
  status: JobStatus;
  /** Number of status changes seen; names the latest transition with the job id. */
  version: number;
  /**
   * Runs of this id seen after the first (GEM reused the id: another creation time); absent for 0.
   * The version keeps counting across runs.
   */
  generation?: number;
  /** Epoch ms when gem-watch first saw the job. */
  firstSeenAt: number;
  /** Epoch ms of the last status change gem-watch saw. */
  lastChangeAt: number;
  /** Epoch ms of the last successful detail fetch. */
  lastFetchedAt: number;
  /** Last few samples while running, oldest first; the ETA comes from them. */
  progress: ProgressSample[];
  /** Epoch ms when the job went missing (404 or gone from the list); it is forgotten later. */
  vanishedAt?: number;
}
