import type { RedisClient } from './connection.js';
import type { Keys } from './keys.js';
import { withScripts, type ScriptCommands } from './scripts.js';

/**
 * The notification log's list in Redis (`notify:log`), newest first, shared by all replicas and
 * trimmed to `retention.notificationLogMax` entries. notify/notification-log.ts decides what goes
 * in; `gem-watch log` and the status page read it through `query`.
 */

/** One logged outcome. Fits the status page's StatusPageNotification. */
export interface DeliveryLogEntry {
  /** Epoch ms. */
  at: number;
  /** The notify task: deterministic id of (subject, route, channel, target). */
  taskId: string;
  route: string;
  channel: string;
  target: string;
  /** delivered, already-delivered, deferred, retrying, failed, held, grouped. */
  outcome: string;
  /** 1-based attempt of the task. */
  attempt: number;
  /** The same, under the status page's name. */
  attempts: number;
  /** `JOBID v3 finished`, `JOBID v2 stalled`, `alert polling down`, `burst group 4`. */
  subject: string;
  kind?: 'transition' | 'alert' | 'job-alert' | 'group' | 'digest';
  jobId?: string;
  version?: number;
  /** The transition's new status, or the job alert's kind. */
  status?: string;
  /** Error class of a failed attempt: clientError, serverError, timeout, rateLimited, auth, badResponse. */
  reason?: string;
  /** Scrubbed error text of a failed attempt, else the receipt or the decision (held until …). */
  detail?: string;
  /** For a member of a group message: the group's task id. */
  via?: string;
}

export interface NotificationLogOptions {
  /** Entries kept; config `retention.notificationLogMax` (default 10,000). */
  maxEntries: number;
  /** Entries older than this are not returned, in ms; config `retention.deliveriesDays` (default 30 days). */
  retentionMs: number;
  /** Clock for the age filter; default Date.now. */
  now?: () => number;
}

export interface LogQuery {
  /** Only entries about this job (its transitions, job alerts, and the groups that carried them). */
  jobId?: string;
  /** Only attempts that failed (outcome failed or retrying). */
  failed?: boolean;
  /** At most this many, newest first. Default 100. */
  limit?: number;
}

function parse(json: string): DeliveryLogEntry | undefined {
  try {
    const value = JSON.parse(json) as DeliveryLogEntry;
    return value && typeof value === 'object' && typeof value.at === 'number' ? value : undefined;
  } catch {
    return undefined;
  }
}

export class NotificationLogStore {
  private readonly now: () => number;
  private readonly scripts: ScriptCommands;

  constructor(
    private readonly redis: RedisClient,
    private readonly keys: Keys,
    private readonly options: NotificationLogOptions,
  ) {
    this.now = options.now ?? Date.now;
    this.scripts = withScripts(redis);
  }

  /** Adds entries, the last one given ending up newest. */
  async push(entries: readonly DeliveryLogEntry[]): Promise<void> {
    if (entries.length === 0) return;
    const values = entries.map((entry) => JSON.stringify(entry));
    // Push, trim and expiry in one script (lua/push-log-1.lua): one command per delivery where
    // there were three, each parsed and answered by ioredis and Redis.
    await this.scripts.gemwatchPushLog(
      this.keys.notificationLog(),
      String(Math.max(1, this.options.maxEntries)),
      String(Math.max(60_000, Math.round(this.options.retentionMs))),
      ...values,
    );
  }

  /** Entries matching the query, newest first. */
  async query(query: LogQuery = {}): Promise<DeliveryLogEntry[]> {
    const limit = Math.max(1, query.limit ?? 100);
    const oldest = this.now() - this.options.retentionMs;
    const filtered = query.jobId !== undefined || query.failed === true;
    const out: DeliveryLogEntry[] = [];
    const key = this.keys.notificationLog();
    const page = filtered ? 1_000 : limit;
    for (let start = 0; out.length < limit; start += page) {
      const raw = await this.redis.lrange(key, start, start + page - 1);
      for (const json of raw) {
        const entry = parse(json);
        if (!entry || entry.at < oldest) continue;
        if (query.jobId !== undefined && entry.jobId !== query.jobId) continue;
        if (query.failed && entry.outcome !== 'failed' && entry.outcome !== 'retrying') continue;
        out.push(entry);
        if (out.length >= limit) break;
      }
      if (raw.length < page) break;
    }
    return out;
  }
}
