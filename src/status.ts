import type { RedisClient } from './state/connection.js';
import { isTerminal, type JobStatus } from './domain/job.js';
import { isoTime, writeJson } from './json-output.js';
import { jobView, type JobView } from './observability/status-model.js';
import { Keys } from './state/keys.js';
import { StateStore } from './state/state-store.js';
import type { TrackedJob } from './domain/tracked-job.js';
import { formatInstant } from './templates/format.js';
import { sanitizeHeader } from './templates/escape.js';

export interface StatusRow {
  id: string;
  type: string;
  status: string;
  progress: string;
  eta: string;
  lastChange: string;
}

/**
 * One job of `status --json`, in the JSON convention of every command (json-output.ts): the values
 * themselves, not the table's display text.
 */
export interface StatusJson {
  /** The job id, whole, as GEM sent it. */
  id: string;
  type: string;
  /** queued, running, finished, failed, cancelled or unknown. */
  status: JobStatus;
  /** The status word exactly as the API sent it. */
  rawStatus: string;
  /** True when the job went missing from the API (it is forgotten later). */
  gone: boolean;
  /** Percent 0–100, or null when GEM did not say. */
  progress: number | null;
  /** Estimated end of a running job (ISO 8601), or null. */
  eta: string | null;
  /** The last status change gem-watch saw (ISO 8601). */
  lastChange: string;
  /** Status changes seen so far. */
  version: number;
}

/**
 * The jobs as the status page shows them (one view, one ETA), active first, then by last change,
 * newest first.
 */
function ordered(jobs: TrackedJob[], now: number, all: boolean): JobView[] {
  return jobs
    .map((tracked) => jobView(tracked, now))
    .filter((view) => all || !isTerminal(view.status))
    .sort((a, b) => Number(isTerminal(a.status)) - Number(isTerminal(b.status)) || b.lastChangeAt - a.lastChangeAt);
}

/** The jobs of `status --json`, in the order of the table. Pure. */
export function statusJson(jobs: TrackedJob[], now: number, options: { all: boolean }): StatusJson[] {
  return ordered(jobs, now, options.all).map((view) => ({
    id: view.id,
    type: view.jobType,
    status: view.status,
    rawStatus: view.rawStatus,
    gone: view.vanishedAt !== undefined,
    progress: view.progress ?? null,
    eta: isoTime(view.eta),
    lastChange: isoTime(view.lastChangeAt) ?? new Date(0).toISOString(),
    version: view.version,
  }));
}

/** Rows of the status table, active jobs first, then by last change, newest first. Pure. */
export function statusRows(jobs: TrackedJob[], now: number, options: { all: boolean; timeZone: string }): StatusRow[] {
  return ordered(jobs, now, options.all).map((view) => ({
    id: sanitizeHeader(view.id, 40),
    type: sanitizeHeader(view.jobType, 24),
    status: view.vanishedAt ? `${view.status} (gone)` : view.status === 'unknown' ? `unknown: ${sanitizeHeader(view.rawStatus, 20)}` : view.status,
    progress: view.progress === undefined ? '' : `${Math.round(view.progress)}%`,
    eta: view.eta === undefined ? '' : formatInstant(view.eta, options.timeZone),
    lastChange: formatInstant(view.lastChangeAt, options.timeZone),
  }));
}

/** Lays rows out as a plain text table. */
export function formatTable(rows: StatusRow[]): string {
  const headers: StatusRow = { id: 'ID', type: 'TYPE', status: 'STATUS', progress: 'PROGRESS', eta: 'ETA', lastChange: 'LAST CHANGE' };
  const columns = Object.keys(headers) as Array<keyof StatusRow>;
  const widths = columns.map((column) => Math.max(...[headers, ...rows].map((row) => row[column].length)));
  return [headers, ...rows].map((row) => columns.map((column, i) => row[column].padEnd(widths[i]!)).join('  ').trimEnd()).join('\n');
}

/** What `gem-watch status` reads of the configuration; nested as its keys, so the parsed configuration is one. */
export interface StatusConfig {
  /** Prefix of every key. */
  redis: { prefix: string };
  /** Days the transition stream keeps entries. */
  retention: { transitionsDays: number };
  /** The operators' time zone, of the times shown. */
  digest: { timezone: string };
}

/** `gem-watch status`: what gem-watch tracks, read from Redis through the caller's client. */
export async function printStatus(
  config: StatusConfig,
  redis: RedisClient,
  options: { all: boolean; json: boolean; out: NodeJS.WritableStream; now?: number },
): Promise<void> {
  const store = new StateStore(redis, new Keys(config.redis.prefix), { transitionsDays: config.retention.transitionsDays });
  const jobs = await store.listTracked();
  const now = options.now ?? Date.now();
  if (options.json) {
    writeJson(options.out, statusJson(jobs, now, { all: options.all }));
    return;
  }
  const rows = statusRows(jobs, now, { all: options.all, timeZone: config.digest.timezone });
  options.out.write(`${rows.length === 0 ? 'no tracked jobs' + (options.all ? '' : ' are active (add --all for ended ones)') : formatTable(rows)}\n`);
}
