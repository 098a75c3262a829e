import type { Config } from './config/schema.js';
import { estimateEnd } from './domain/eta.js';
import { isTerminal } from './gem/job.js';
import type { Logger } from './observability/logger.js';
import { createRedis } from './queue/connection.js';
import { Keys } from './state/keys.js';
import { StateStore } from './state/state-store.js';
import type { TrackedJob } from './state/tracked-job.js';
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

/** Rows of the status table, active jobs first, then by last change, newest first. Pure. */
export function statusRows(jobs: TrackedJob[], now: number, options: { all: boolean; timeZone: string }): StatusRow[] {
  return jobs
    .filter((tracked) => options.all || !isTerminal(tracked.status))
    .sort((a, b) => Number(isTerminal(a.status)) - Number(isTerminal(b.status)) || b.lastChangeAt - a.lastChangeAt)
    .map((tracked) => {
      const end = tracked.status === 'running' ? estimateEnd(tracked.progress, now) : undefined;
      return {
        id: sanitizeHeader(tracked.job.id, 40),
        type: sanitizeHeader(tracked.job.jobType, 24),
        status: tracked.vanishedAt ? `${tracked.status} (gone)` : tracked.status === 'unknown' ? `unknown: ${sanitizeHeader(tracked.job.rawStatus, 20)}` : tracked.status,
        progress: tracked.job.progress === undefined ? '' : `${Math.round(tracked.job.progress)}%`,
        eta: end === undefined ? '' : formatInstant(end, options.timeZone),
        lastChange: formatInstant(tracked.lastChangeAt, options.timeZone),
      };
    });
}

/** Lays rows out as a plain text table. */
export function formatTable(rows: StatusRow[]): string {
  const headers: StatusRow = { id: 'ID', type: 'TYPE', status: 'STATUS', progress: 'PROGRESS', eta: 'ETA', lastChange: 'LAST CHANGE' };
  const columns = Object.keys(headers) as Array<keyof StatusRow>;
  const widths = columns.map((column) => Math.max(...[headers, ...rows].map((row) => row[column].length)));
  return [headers, ...rows].map((row) => columns.map((column, i) => row[column].padEnd(widths[i]!)).join('  ').trimEnd()).join('\n');
}

/** `gem-watch status`: what gem-watch tracks, read from Redis. */
export async function printStatus(
  config: Config,
  options: { all: boolean; json: boolean; out: NodeJS.WritableStream; logger: Logger },
): Promise<void> {
  const redis = createRedis(config.redis.url, options.logger, 'status', { maxRetriesPerRequest: 1 });
  try {
    const store = new StateStore(redis, new Keys(config.redis.prefix), { transitionsDays: config.retention.transitionsDays });
    const jobs = await store.listTracked();
    const rows = statusRows(jobs, Date.now(), { all: options.all, timeZone: config.digest.timezone });
    if (options.json) options.out.write(`${JSON.stringify(rows, null, 2)}\n`);
    else options.out.write(`${rows.length === 0 ? 'no tracked jobs' + (options.all ? '' : ' are active (add --all for ended ones)') : formatTable(rows)}\n`);
  } finally {
    redis.disconnect();
  }
}
