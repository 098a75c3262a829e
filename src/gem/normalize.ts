import type { Job, JobStatistics, JobStatus } from '../domain/job.js';
import { jobIdExcerpt, jobIdProblem } from './job-id.js';

/**
 * Normalisation of GEM answers into the one Job model. The two documented endpoints (TomTom's List
 * jobs and Get job pages, and its public documentation) disagree on almost everything: the list
 * speaks snake_case, integer ids and REQUESTED/IN_PROGRESS/SUCCESS/FAILED; the detail page
 * camelCase, string ids and queued/running/finished/failed/cancelled; and TomTom's public example
 * of the detail endpoint answers in the list's shape. Both shapes are accepted from both endpoints.
 * The schemas are tolerant on purpose: a field of the wrong type is dropped with a warning, never a
 * crash; only a job without an id or a status is rejected, and a listed job whose id cannot be used
 * (see job-id.ts).
 */

/** Longest string kept from any field; hostile or broken answers must not bloat Redis. */
export const MAX_FIELD_LENGTH = 4096;

const STATUS_WORDS: Record<string, JobStatus> = {
  requested: 'queued',
  queued: 'queued',
  pending: 'queued',
  submitted: 'queued',
  created: 'queued',
  in_progress: 'running',
  running: 'running',
  started: 'running',
  processing: 'running',
  success: 'finished',
  succeeded: 'finished',
  finished: 'finished',
  completed: 'finished',
  done: 'finished',
  failed: 'failed',
  failure: 'failed',
  error: 'failed',
  cancelled: 'cancelled',
  canceled: 'cancelled',
};

// Every list entry and every index entry of every poll passes through canonicalStatus: 100,000
// calls per poll at 50,000 jobs, all with one of a handful of words. Bounded, so an API sending a
// new word per job cannot grow it.
const statusMemo = new Map<string, JobStatus>();
const STATUS_MEMO_LIMIT = 256;

/** Maps any status word either endpoint uses to the canonical status; `unknown` otherwise. */
export function canonicalStatus(raw: string): JobStatus {
  const known = statusMemo.get(raw);
  if (known !== undefined) return known;
  const status = STATUS_WORDS[raw.trim().toLowerCase().replace(/[\s-]+/g, '_')] ?? 'unknown';
  if (statusMemo.size < STATUS_MEMO_LIMIT) statusMemo.set(raw, status);
  return status;
}

/** The detail page's `matchingType` ("road") to the list's job type ("ROAD_MATCHING"). */
function jobTypeFromMatchingType(value: string): string {
  const word = value.trim().toLowerCase().replace(/[\s-]+/g, '_');
  if (word === 'road' || word === 'road_matching') return 'ROAD_MATCHING';
  if (['lane', 'lane_level', 'lane_level_matching', 'lanes'].includes(word)) return 'LANE_LEVEL_MATCHING';
  return value.trim().toUpperCase();
}

/** Field names that may carry a failure message; the real one is undocumented. */
const MESSAGE_FIELDS = [
  'message',
  'error',
  'error_message',
  'errorMessage',
  'failure_reason',
  'failureReason',
  'status_message',
  'statusMessage',
  'reason',
  'detail',
  'details',
];

const STATISTIC_FIELDS: Array<[keyof JobStatistics, string[]]> = [
  ['roadsMatchedPct', ['roads_matched', 'roadsMatched']],
  ['roadsUnmatchedPct', ['roads_unmatched', 'roadsUnmatched']],
  ['roadsFullyMatchedPct', ['roads_fully_matched', 'roadsFullyMatched']],
  ['roadsPartiallyMatchedPct', ['roads_partially_matched', 'roadsPartiallyMatched']],
  ['confidenceThreshold', ['confidence_threshold', 'confidenceThreshold']],
  ['executionTimeSec', ['execution_time_sec', 'executionTimeSec']],
  ['kmsProcessed', ['kms_processed', 'kmsProcessed']],
  ['numRoadsProcessed', ['num_roads_processed', 'numRoadsProcessed']],
];

export interface NormalizeResult {
  job: Job;
  /** What was dropped or guessed, for a warning log line. */
  warnings: string[];
}

export class JobShapeError extends Error {
  override name = 'JobShapeError';
}

type Raw = Record<string, unknown>;

function isObject(value: unknown): value is Raw {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function pick(raw: Raw, names: string[]): unknown {
  for (const name of names) {
    if (raw[name] !== undefined && raw[name] !== null) return raw[name];
  }
  return undefined;
}

function clip(text: string): string {
  return text.length > MAX_FIELD_LENGTH ? `${text.slice(0, MAX_FIELD_LENGTH - 1)}…` : text;
}

function text(raw: Raw, names: string[], warnings: string[]): string | undefined {
  const value = pick(raw, names);
  if (value === undefined) return undefined;
  if (typeof value === 'string') return clip(value);
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  warnings.push(`${names[0]} is not a string; ignored`);
  return undefined;
}

function timestamp(raw: Raw, names: string[], warnings: string[]): string | undefined {
  const value = text(raw, names, warnings);
  if (value === undefined) return undefined;
  if (Number.isNaN(Date.parse(value))) {
    warnings.push(`${names[0]} is not an ISO 8601 time; ignored`);
    return undefined;
  }
  return value;
}

/**
 * A statistic as a number: 84.68, "84.68%", "84.68" and " 84.68 % " all give 84.68. Anything else
 * is undefined.
 */
export function parseStatistic(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (typeof value !== 'string') return undefined;
  const match = /^\s*(-?\d+(?:\.\d+)?(?:e[+-]?\d+)?)\s*%?\s*$/i.exec(value);
  if (!match) return undefined;
  const number = Number(match[1]);
  return Number.isFinite(number) ? number : undefined;
}

function statistics(raw: Raw, warnings: string[]): JobStatistics | undefined {
  const value = raw.statistics;
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'object' || Array.isArray(value)) {
    warnings.push('statistics is not an object; ignored');
    return undefined;
  }
  const source = value as Raw;
  const out: JobStatistics = {};
  for (const [key, names] of STATISTIC_FIELDS) {
    const field = pick(source, names);
    if (field === undefined) continue;
    const number = parseStatistic(field);
    if (number === undefined) warnings.push(`statistics.${names[0]} is not a number; ignored`);
    else out[key] = number;
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

function progress(raw: Raw, warnings: string[]): number | undefined {
  const value = pick(raw, ['progress', 'progress_percent', 'progressPercent']);
  if (value === undefined) return undefined;
  const number = parseStatistic(value);
  if (number === undefined) {
    warnings.push('progress is not a number; ignored');
    return undefined;
  }
  return Math.min(100, Math.max(0, number));
}

function message(raw: Raw): string | undefined {
  for (const name of MESSAGE_FIELDS) {
    const value = raw[name];
    if (typeof value === 'string' && value.trim() !== '') return clip(value.trim());
    if (value && typeof value === 'object') {
      const nested = (value as Raw).message ?? (value as Raw).detail;
      if (typeof nested === 'string' && nested.trim() !== '') return clip(nested.trim());
      try {
        return clip(JSON.stringify(value));
      } catch {
        return undefined;
      }
    }
  }
  return undefined;
}

/** `roads.parquet` → `roads_matched.parquet`, the documented output name. */
export function derivedOutputFile(inputFile: string): string {
  const dot = inputFile.lastIndexOf('.');
  const stem = dot > 0 ? inputFile.slice(0, dot) : inputFile;
  return `${stem}_matched.parquet`;
}

function asJobObject(input: unknown): Raw {
  if (!isObject(input)) throw new JobShapeError('job is not a JSON object');
  return input;
}

/**
 * The two fields every job must have, from either shape. With `checkId`, an id that cannot be used
 * (jobIdProblem: only dots, too long) is refused; the detail call leaves it off, as the id it
 * asked for replaces whatever its answer names.
 */
function identity(raw: Raw, warnings: string[], checkId: boolean): Pick<Job, 'id' | 'rawStatus' | 'status'> {
  const idValue = pick(raw, ['jobRunId', 'job_run_id', 'job_id', 'jobId', 'id']);
  if (
    !((typeof idValue === 'string' && idValue.trim() !== '') || (typeof idValue === 'number' && Number.isFinite(idValue)))
  ) {
    throw new JobShapeError('job has no id (jobRunId or job_id)');
  }
  const trimmed = String(idValue).trim();
  const problem = checkId ? jobIdProblem(trimmed) : undefined;
  if (problem !== undefined) throw new JobShapeError(`job id ${jobIdExcerpt(trimmed)} is not used: ${problem}`);
  // Never cut when checked: two long ids cut alike would be one job to every key and task id.
  const id = checkId ? trimmed : clip(trimmed);

  const statusValue = raw.status;
  if (typeof statusValue !== 'string' || statusValue.trim() === '') {
    throw new JobShapeError(`job ${id} has no status`);
  }
  const rawStatus = clip(statusValue.trim());
  const status = canonicalStatus(rawStatus);
  if (status === 'unknown') warnings.push(`status "${rawStatus.slice(0, 80)}" is not one gem-watch knows`);
  return { id, rawStatus, status };
}

/**
 * Normalises one job object from either endpoint, in either shape. `jobTypeHint` is the job type of
 * the list the job came from, used when the answer names none.
 *
 * @throws JobShapeError when the object has no usable id or status.
 */
export function normalizeJob(input: unknown, jobTypeHint?: string): NormalizeResult {
  const raw = asJobObject(input);
  const warnings: string[] = [];
  const { id, rawStatus, status } = identity(raw, warnings, false);

  const jobTypeText = text(raw, ['job_type', 'jobType'], warnings);
  const matchingType = text(raw, ['matchingType', 'matching_type'], warnings);
  const jobType = jobTypeText?.trim().toUpperCase() || (matchingType && jobTypeFromMatchingType(matchingType)) || jobTypeHint || 'UNKNOWN';

  const inputFile = text(raw, ['inputFileName', 'input_filename', 'inputFile', 'input_file_name'], warnings);
  let outputFile = text(raw, ['outputFileName', 'output_filename', 'result_filename', 'resultFileName', 'outputFile'], warnings);
  let outputFileDerived: boolean | undefined;
  if (!outputFile && status === 'finished' && inputFile) {
    // Clipped again: a 4,096-character input name would otherwise derive a longer output name.
    outputFile = clip(derivedOutputFile(inputFile));
    outputFileDerived = true;
  }

  const job: Job = {
    id,
    jobType,
    status,
    rawStatus,
    progress: progress(raw, warnings),
    storageId: text(raw, ['storageId', 'storage_id'], warnings),
    inputFile,
    outputFile,
    outputFileDerived,
    overtureRelease: text(raw, ['overtureRelease', 'overture_release'], warnings),
    orbisVersion: text(raw, ['orbisVersion', 'orbis_version'], warnings),
    createdAt: timestamp(raw, ['createdAt', 'created_at', 'requested_at', 'requestedAt'], warnings),
    modifiedAt: timestamp(raw, ['modifiedAt', 'modified_at', 'updated_at', 'updatedAt', 'finished_at', 'finishedAt'], warnings),
    statistics: statistics(raw, warnings),
    message: message(raw),
  };
  for (const key of Object.keys(job) as Array<keyof Job>) {
    if (job[key] === undefined) delete job[key];
  }
  return { job, warnings };
}

export interface NormalizeListResult {
  /** Id, status and job type of each listed job; nothing else (see normalizeList). */
  jobs: Job[];
  /** Jobs that could not be read at all, with why; the rest of the list still counts. */
  rejected: string[];
  warnings: string[];
}

/**
 * Normalises a list answer to what a poll decides on: each job's id, status and job type. The
 * list's other fields are not read: the detail call is the source of truth for everything else
 * and is made for every job that is new, changed or active, so nothing the list says would be
 * kept. At 50,000 jobs, reading every field of every entry was the poll's largest cost (and the
 * daemon's largest source of garbage). One unreadable entry does not lose the others.
 *
 * @throws JobShapeError when the answer has no `jobs` array.
 */
export function normalizeList(input: unknown, jobType: string): NormalizeListResult {
  const entries = isObject(input) ? input.jobs : undefined;
  if (!Array.isArray(entries)) throw new JobShapeError('list answer has no "jobs" array');
  const jobs: Job[] = [];
  const rejected: string[] = [];
  const warnings: string[] = [];
  const entryWarnings: string[] = [];
  for (let index = 0; index < entries.length; index += 1) {
    try {
      const raw = asJobObject(entries[index]);
      const { id, rawStatus, status } = identity(raw, entryWarnings, true);
      jobs.push({ id, jobType: listedJobType(raw, jobType), status, rawStatus });
      for (const warning of entryWarnings) warnings.push(`job ${id}: ${warning}`);
    } catch (error) {
      rejected.push(`jobs[${index}]: ${(error as Error).message}`);
    }
    entryWarnings.length = 0;
  }
  return { jobs, rejected, warnings };
}

/** An entry's own job_type when it names one, else the type the list was asked for. */
function listedJobType(raw: Raw, requested: string): string {
  const value = raw.job_type ?? raw.jobType;
  if (value === requested || typeof value !== 'string' || value.trim() === '') return requested;
  return clip(value.trim().toUpperCase());
}
