import type { RedisClient } from './connection.js';
import type { Transition } from '../domain/transition.js';
import { transitionKey } from '../domain/transition.js';
import { isTerminal, type Job, type JobStatus } from '../domain/job.js';
import type { Keys } from './keys.js';
import type { TrackedJob } from '../domain/tracked-job.js';
import { withScripts, type ScriptCommands } from './scripts.js';

export interface StateStoreOptions {
  /** Days the transition stream keeps entries. */
  transitionsDays: number;
}

/** The stored view of one job: its index entry and, when kept, its full snapshot. */
export interface StoredJob {
  /** The index entry as read, "status|version"; the compare-and-set expects it unchanged. */
  indexValue: string;
  tracked: TrackedJob;
}

export type SaveOutcome = { saved: false } | { saved: true; streamId?: string };

/** A job gone from the list: since when (epoch ms), its type, and whether GEM answered 404 for it. */
export interface VanishedMark {
  since: number;
  jobType: string;
  notFound: boolean;
}

/** Ends a vanished mark once the detail endpoint has answered 404 for the job. */
const NOT_FOUND_MARK = '404';

/** Reads a vanished mark, `since|jobType` or `since|jobType|404` (job types never hold a bar). */
function parseVanishedMark(value: string): VanishedMark {
  const [since = '', jobType = '', flag] = value.split('|');
  return { since: Number(since), jobType, notFound: flag === NOT_FOUND_MARK };
}

const DAY_MS = 86_400_000;
/** Vanished jobs forgotten per script call: a long script would hold Redis up for every client. */
const FORGET_BATCH = 500;

/** A status index entry, "status|version": what the compare-and-set compares. */
export function formatIndex(tracked: Pick<TrackedJob, 'status' | 'version'>): string {
  return `${tracked.status}|${tracked.version}`;
}

/** Reads a status index entry written by formatIndex: `finished|3` → status and version. */
export function parseIndex(value: string): { status: JobStatus; version: number } {
  const bar = value.lastIndexOf('|');
  return { status: value.slice(0, bar) as JobStatus, version: Number(value.slice(bar + 1)) || 0 };
}

function parseTracked(json: string): TrackedJob | undefined {
  try {
    const tracked = JSON.parse(json) as TrackedJob;
    return Array.isArray(tracked.progress) ? tracked : { ...tracked, progress: [] };
  } catch {
    return undefined;
  }
}

/**
 * gem-watch's memory of jobs in Redis. Every write of a job goes through one Lua compare-and-set
 * (lua/save-job-6.lua) that also appends the transition to the stream and the outbox, so a detected
 * transition is either recorded completely or not at all.
 */
export class StateStore {
  /** The connection, seen with the scripts defined on it. */
  private readonly scripts: ScriptCommands;

  constructor(
    private readonly redis: RedisClient,
    readonly keys: Keys,
    private readonly options: StateStoreOptions,
  ) {
    this.scripts = withScripts(redis);
  }

  /** The index of one job type: job id → "status|version". What the poll compares the list against. */
  async readIndex(jobType: string): Promise<Map<string, string>> {
    // The raw reply, paired by hand: ioredis' hgetall first builds an object with one key per job,
    // which costs about as much again as the Map (40,000 entries: 66 ms this way, 103–135 ms that way).
    const flat = (await this.redis.call('HGETALL', this.keys.statusIndex(jobType))) as string[];
    const index = new Map<string, string>();
    for (let i = 0; i + 1 < flat.length; i += 2) index.set(flat[i]!, flat[i + 1]!);
    return index;
  }

  /**
   * How many jobs of these types the status indexes hold by status, leaving out those gone from the
   * list (vanished). Read from the indexes (~30 bytes a job), not the snapshots, so a metrics scrape
   * costs little however many jobs have ended.
   */
  async countByStatus(jobTypes: readonly string[]): Promise<Map<string, number>> {
    const [vanished, ...indexes] = await Promise.all([this.redis.hkeys(this.keys.vanished()), ...jobTypes.map((jobType) => this.readIndex(jobType))]);
    const gone = new Set(vanished);
    const counts = new Map<string, number>();
    for (const index of indexes) {
      for (const [id, value] of index) {
        if (gone.has(id)) continue;
        const { status } = parseIndex(value);
        counts.set(status, (counts.get(status) ?? 0) + 1);
      }
    }
    return counts;
  }

  /** One job as stored, or undefined when never seen. */
  async get(jobId: string, jobType: string): Promise<StoredJob | undefined> {
    const [indexValue, json, vanished] = (await this.scripts.gemwatchReadJob(
      this.keys.statusIndex(jobType),
      this.keys.jobs(),
      this.keys.vanished(),
      jobId,
    )) as Array<string | null>;
    if (!indexValue) return undefined;
    const { status, version } = parseIndex(indexValue);
    const stored = json ? parseTracked(json) : undefined;
    // A job recorded compactly (history from the first sync) has only its index entry.
    const tracked: TrackedJob = stored ?? {
      job: { id: jobId, jobType, status, rawStatus: status } satisfies Job,
      status,
      version,
      firstSeenAt: 0,
      lastChangeAt: 0,
      lastFetchedAt: 0,
      progress: [],
    };
    if (vanished) tracked.vanishedAt = Number(vanished.split('|')[0]);
    return { indexValue, tracked };
  }

  /**
   * Saves a job through the compare-and-set. `expectedIndex` is the index value read before the
   * diff ('' for a new job). On `{ saved: false }` someone else wrote first: read and diff again.
   */
  async save(args: {
    jobType: string;
    expectedIndex: string;
    tracked: TrackedJob;
    transition?: Transition;
    /** Keep only the index entry (silent history from the first sync). */
    compact?: boolean;
    /**
     * Keep the job's vanished mark: the state comes from a fetch of a job the list no longer
     * shows, which says nothing of its coming back (only a poll that lists it again does).
     */
    keepVanished?: boolean;
    now: number;
  }): Promise<SaveOutcome> {
    const { tracked, transition } = args;
    const { vanishedAt: _vanished, ...snapshot } = tracked;
    const announce = transition !== undefined && !transition.silent;
    const result = (await this.scripts.gemwatchSaveJob(
      this.keys.jobs(),
      this.keys.statusIndex(args.jobType),
      this.keys.transitions(),
      this.keys.outbox(),
      this.keys.outboxData(),
      this.keys.vanished(),
      tracked.job.id,
      args.expectedIndex,
      formatIndex(tracked),
      args.compact ? '' : JSON.stringify(snapshot),
      transition ? JSON.stringify(transition) : '',
      String(args.now - this.options.transitionsDays * DAY_MS),
      announce ? transitionKey(transition) : '',
      String(args.now),
      args.keepVanished ? '1' : '',
    )) as number | string;
    if (result === 0) return { saved: false };
    return typeof result === 'string' ? { saved: true, streamId: result } : { saved: true };
  }

  /**
   * Records history in bulk (lua/record-history-2.lua): each job gets only its index entry
   * (`indexValue`, e.g. "finished|1"), and only when it has none yet, as `save` does with
   * `expectedIndex: ''` and `compact: true` for one job. Returns how many were recorded.
   */
  async recordHistory(jobType: string, entries: ReadonlyArray<{ id: string; indexValue: string }>): Promise<number> {
    if (entries.length === 0) return 0;
    const args = entries.flatMap(({ id, indexValue }) => [id, indexValue]);
    const recorded = await this.scripts.gemwatchRecordHistory(this.keys.statusIndex(jobType), this.keys.vanished(), ...args);
    return Number(recorded);
  }

  /**
   * Marks the job type's first sync as complete at `now` (epoch ms), unless it already is: the first
   * time set is kept, since every end after it is news and a later one would make news history.
   * Returns whether this call set it.
   */
  async markSynced(jobType: string, now: number): Promise<boolean> {
    return (await this.redis.set(this.keys.synced(jobType), String(now), 'NX')) === 'OK';
  }

  /** Whether the job type's first sync has completed (its flag is there, whatever it holds). */
  async isSynced(jobType: string): Promise<boolean> {
    return (await this.redis.exists(this.keys.synced(jobType))) === 1;
  }

  /**
   * When the job type's first sync completed (epoch ms), or undefined before it has. A flag some
   * older version set without a usable time reads as undefined, so every end counts as news.
   */
  async firstSyncAt(jobType: string): Promise<number | undefined> {
    const value = await this.redis.get(this.keys.synced(jobType));
    const ms = value === null ? Number.NaN : Number(value);
    return Number.isFinite(ms) && ms > 0 ? ms : undefined;
  }

  /** Counts one job recorded as history after the first sync, for the next poll's log line. */
  async countHistory(jobType: string): Promise<void> {
    await this.redis.incr(this.keys.historyCount(jobType));
  }

  /** Jobs recorded as history since the last call (the count is taken and reset at once). */
  async takeHistoryCount(jobType: string): Promise<number> {
    return Number((await this.redis.getdel(this.keys.historyCount(jobType))) ?? 0) || 0;
  }

  /** Transitions recorded between two instants (epoch ms, inclusive), oldest first. */
  async readTransitions(fromMs: number, toMs: number): Promise<Transition[]> {
    const out: Transition[] = [];
    let start = String(Math.max(0, Math.floor(fromMs)));
    const end = String(Math.floor(toMs));
    for (;;) {
      const page = await this.redis.xrange(this.keys.transitions(), start, end, 'COUNT', 1000);
      for (const [, fields] of page) {
        const json = fields[fields.indexOf('t') + 1];
        if (!json) continue;
        try {
          out.push(JSON.parse(json) as Transition);
        } catch {
          // A corrupt entry cannot be announced; skipping it keeps the rest readable.
        }
      }
      if (page.length < 1000) return out;
      start = `(${page[page.length - 1]![0]}`;
    }
  }

  /** Every job kept with a full snapshot (active jobs and those whose transitions gem-watch saw). */
  async listTracked(): Promise<TrackedJob[]> {
    const [all, vanished] = await Promise.all([this.redis.hgetall(this.keys.jobs()), this.redis.hgetall(this.keys.vanished())]);
    const out: TrackedJob[] = [];
    for (const [id, json] of Object.entries(all)) {
      const tracked = parseTracked(json);
      if (!tracked) continue;
      const gone = vanished[id];
      if (gone) tracked.vanishedAt = parseVanishedMark(gone).since;
      out.push(tracked);
    }
    return out;
  }

  /**
   * What the status page shows: every job recorded as queued, running or unknown, and the
   * `maxEnded` that ended most recently (newest entries of the transition stream first), with how
   * many ended jobs have a snapshot in all. Reads the status indexes, the stream's newest entries
   * and just those snapshots: the page reloads every 15 s, and every snapshot of a large account
   * is tens of MB that Redis would send in one reply (30,000: 200 ms here, 30 ms of Redis).
   */
  async pageJobs(jobTypes: readonly string[], maxEnded: number): Promise<{ jobs: TrackedJob[]; endedTotal: number }> {
    const [indexes, vanished, snapshots, newest] = await Promise.all([
      Promise.all(jobTypes.map((jobType) => this.readIndex(jobType))),
      this.redis.hgetall(this.keys.vanished()),
      this.redis.hlen(this.keys.jobs()),
      this.redis.xrevrange(this.keys.transitions(), '+', '-', 'COUNT', Math.max(1, maxEnded) * 4),
    ]);
    const active = new Set<string>();
    for (const index of indexes) for (const [id, value] of index) if (!isTerminal(parseIndex(value).status)) active.add(id);
    const ended = new Set<string>();
    for (const [, fields] of newest) {
      if (ended.size >= maxEnded) break;
      const json = fields[fields.indexOf('t') + 1];
      try {
        const transition = json ? (JSON.parse(json) as Transition) : undefined;
        if (transition && isTerminal(transition.to) && !active.has(transition.jobId)) ended.add(transition.jobId);
      } catch {
        // An unreadable entry shows nothing; the rest of the page still does.
      }
    }
    const ids = [...active, ...ended];
    const values = ids.length > 0 ? await this.redis.hmget(this.keys.jobs(), ...ids) : [];
    const jobs: TrackedJob[] = [];
    for (const [i, json] of values.entries()) {
      const tracked = json === null ? undefined : parseTracked(json);
      if (!tracked) continue;
      const gone = vanished[ids[i]!];
      if (gone) tracked.vanishedAt = parseVanishedMark(gone).since;
      jobs.push(tracked);
    }
    return { jobs, endedTotal: Math.max(snapshots - active.size, ended.size) };
  }

  /** Marks jobs as gone from the API (first time only). */
  async markVanished(jobIds: string[], jobType: string, now: number): Promise<void> {
    if (jobIds.length === 0) return;
    const pipeline = this.redis.pipeline();
    for (const id of jobIds) pipeline.hsetnx(this.keys.vanished(), id, `${now}|${jobType}`);
    await pipeline.exec();
  }

  /**
   * Marks a job the detail endpoint answered 404 for: vanished since its first mark (or now), and
   * known to be gone, so the poll stops asking for its details.
   */
  async markNotFound(jobId: string, jobType: string, now: number): Promise<void> {
    const mark = await this.redis.hget(this.keys.vanished(), jobId);
    const since = mark === null ? now : parseVanishedMark(mark).since;
    await this.redis.hset(this.keys.vanished(), jobId, `${Number.isFinite(since) ? since : now}|${jobType}|${NOT_FOUND_MARK}`);
  }

  /**
   * Jobs marked vanished whose mark is still there (they have not come back): since when, their
   * type, and whether the detail endpoint has answered 404 for them (`notFound`).
   */
  async vanishedIds(): Promise<Map<string, VanishedMark>> {
    const all = await this.redis.hgetall(this.keys.vanished());
    const out = new Map<string, VanishedMark>();
    for (const [id, value] of Object.entries(all)) out.set(id, parseVanishedMark(value));
    return out;
  }

  /** A job seen in the list again is no longer vanished. */
  async unmarkVanished(jobIds: string[]): Promise<void> {
    if (jobIds.length > 0) await this.redis.hdel(this.keys.vanished(), ...jobIds);
  }

  /**
   * Forgets jobs vanished longer than the retention. Returns how many. `vanished` is the marks as
   * the caller already read them (the poll has, a moment before), so the hash is not read twice;
   * they only choose the candidates: lua/forget-vanished-3.lua checks each mark again as it deletes,
   * so a job listed again since that read is kept.
   */
  async forgetVanished(
    now: number,
    retentionMs: number,
    vanished?: ReadonlyMap<string, VanishedMark>,
  ): Promise<number> {
    vanished ??= await this.vanishedIds();
    const byType = new Map<string, string[]>();
    for (const [id, { since, jobType }] of vanished) {
      if (now - since < retentionMs) continue;
      const ids = byType.get(jobType) ?? [];
      ids.push(id);
      byType.set(jobType, ids);
    }
    const cutoff = String(now - retentionMs);
    let count = 0;
    for (const [jobType, ids] of byType) {
      for (let start = 0; start < ids.length; start += FORGET_BATCH) {
        const batch = ids.slice(start, start + FORGET_BATCH);
        count += Number(
          await this.scripts.gemwatchForgetVanished(this.keys.vanished(), this.keys.jobs(), this.keys.statusIndex(jobType), cutoff, jobType, ...batch),
        );
      }
    }
    return count;
  }

  /** Outbox entries detected before `before` (epoch ms) and not yet acknowledged, oldest first. */
  async pendingOutbox(before: number, limit = 500): Promise<Array<{ member: string; transition: Transition }>> {
    const members = await this.redis.zrangebyscore(this.keys.outbox(), '-inf', before, 'LIMIT', 0, limit);
    if (members.length === 0) return [];
    const values = await this.redis.hmget(this.keys.outboxData(), ...members);
    const out: Array<{ member: string; transition: Transition }> = [];
    members.forEach((member, index) => {
      const json = values[index];
      if (!json) return;
      try {
        out.push({ member, transition: JSON.parse(json) as Transition });
      } catch {
        // Unreadable: left for an operator; never silently dropped.
      }
    });
    return out;
  }

  /** The transition's notification tasks exist: its outbox entry can go. */
  async ackOutbox(member: string): Promise<void> {
    await this.scripts.gemwatchAckOutbox(this.keys.outbox(), this.keys.outboxData(), member);
  }

  /**
   * Acknowledges an outbox entry if the notify task `taskId` of `queue` exists on the server this
   * connection writes to (see lua/ack-outbox-queued-3.lua). False when it does not: the entry is
   * kept for the sweeper.
   */
  async ackOutboxIfQueued(member: string, queue: string, taskId: string): Promise<boolean> {
    const answer = await this.scripts.gemwatchAckOutboxQueued(this.keys.outbox(), this.keys.outboxData(), this.keys.queueTask(queue, taskId), member);
    return Number(answer) !== -1;
  }

  /** How many transitions wait in the outbox. */
  async outboxSize(): Promise<number> {
    return this.redis.zcard(this.keys.outbox());
  }
}
