/**
 * The one Job model every part of gem-watch speaks. The GEM list and detail endpoints answer in
 * different shapes (snake_case with integer ids and REQUESTED/SUCCESS, camelCase with string ids and
 * queued/finished); `normalize.ts` maps both here.
 */

/** Canonical statuses. `unknown` keeps a word the API sent that we do not recognise. */
export const JOB_STATUSES = ['queued', 'running', 'finished', 'failed', 'cancelled', 'unknown'] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];

/** Statuses after which a job never changes again. */
export const TERMINAL_STATUSES: ReadonlySet<JobStatus> = new Set(['finished', 'failed', 'cancelled']);

export function isTerminal(status: JobStatus): boolean {
  return TERMINAL_STATUSES.has(status);
}

/** Job types GEM documents; others are passed through as the API spells them. */
export const KNOWN_JOB_TYPES = ['ROAD_MATCHING', 'LANE_LEVEL_MATCHING'] as const;

/** False for a job type GEM does not document: allowed (GEM may add types), but likely a typo. */
export function isDocumentedJobType(jobType: string): boolean {
  return (KNOWN_JOB_TYPES as readonly string[]).includes(jobType);
}

/** Matching statistics, as numbers. Percentages are 0–100 ("84.68%" becomes 84.68). */
export interface JobStatistics {
  roadsMatchedPct?: number;
  roadsUnmatchedPct?: number;
  roadsFullyMatchedPct?: number;
  roadsPartiallyMatchedPct?: number;
  confidenceThreshold?: number;
  executionTimeSec?: number;
  kmsProcessed?: number;
  numRoadsProcessed?: number;
}

export interface Job {
  /** Opaque id: the list sends integers, the detail endpoint strings. Always a string here. */
  id: string;
  /** ROAD_MATCHING, LANE_LEVEL_MATCHING, or whatever the API sent. */
  jobType: string;
  status: JobStatus;
  /** The status word exactly as the API sent it (REQUESTED, running, ...). */
  rawStatus: string;
  /** 0–100 when the API sends it; the list endpoint and the public docs' detail example do not. */
  progress?: number;
  storageId?: string;
  inputFile?: string;
  outputFile?: string;
  /** True when `outputFile` was derived by the `{input}_matched.parquet` rule, not sent. */
  outputFileDerived?: boolean;
  overtureRelease?: string;
  orbisVersion?: string;
  /** ISO 8601. */
  createdAt?: string;
  /** ISO 8601. */
  modifiedAt?: string;
  statistics?: JobStatistics;
  /** A failure or status message, from whichever message-like field the API sent. */
  message?: string;
}
