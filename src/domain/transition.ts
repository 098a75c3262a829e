import type { Job, JobStatus } from './job.js';

/**
 * A change of a job's status, as detected by the atomic diff in Redis. `version` counts the status
 * changes of one job (1 for the first time it is seen), so (jobId, version) names a transition
 * uniquely and deterministically across replicas and restarts.
 */
export interface Transition {
  jobId: string;
  jobType: string;
  /** Undefined the first time a job is seen. */
  from?: JobStatus;
  to: JobStatus;
  version: number;
  /** Epoch milliseconds when gem-watch detected it. */
  detectedAt: number;
  /** The job as normalised from the detail answer that revealed the transition. */
  job: Job;
  /** Which run of the id, when GEM reused it (1 for the second run); absent for the first. */
  generation?: number;
  /** True when recorded silently (first sync of history); never announced. */
  silent?: boolean;
}

/** The stable key of a transition; safe inside BullMQ job ids (no `:`). */
export function transitionKey(t: Pick<Transition, 'jobId' | 'version'>): string {
  return `${encodeIdPart(t.jobId)}-v${t.version}`;
}

/**
 * Makes any string safe as part of a BullMQ job id and a Redis key segment: BullMQ rejects `:` in
 * custom ids, and GEM ids are opaque. Keeps [A-Za-z0-9_.] and percent-encodes the UTF-8 bytes of
 * everything else (`%` included), so two different ids never encode alike. A lone UTF-16 surrogate
 * has no UTF-8 form (Buffer would write U+FFFD for every one of them, and all would encode alike),
 * so it is written `%u` and its four hex digits, which no byte's `%xx` can be.
 */
export function encodeIdPart(raw: string): string {
  return raw.replace(/[^A-Za-z0-9_.]/gu, (c) =>
    /^\p{Surrogate}$/u.test(c)
      ? `%u${c.charCodeAt(0).toString(16)}`
      : [...Buffer.from(c, 'utf8')].map((b) => `%${b.toString(16).padStart(2, '0')}`).join(''),
  );
}
