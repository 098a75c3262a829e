import { getHeapStatistics } from 'node:v8';
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { diffJob } from '../domain/diff.js';
import type { GemClient } from '../gem/client.js';
import { canonicalStatus } from '../gem/normalize.js';
import { isTerminal, type Job } from '../gem/job.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import { errorText } from '../observability/redact.js';
import { RepeatFilter } from '../observability/repeat-filter.js';
import type { Keys } from '../state/keys.js';
import { formatIndex, parseIndex, type StateStore } from '../state/state-store.js';
import type { Dispatcher } from './dispatcher.js';
import { detailTaskId, type DetailTaskData, type PollTaskData } from './names.js';

export interface PollProcessorOptions {
  client: GemClient;
  store: StateStore;
  redis: Redis;
  keys: Keys;
  detailQueue: Queue<DetailTaskData>;
  dispatcher: Dispatcher;
  logger: Logger;
  metrics: Metrics;
  /** Progress samples kept per running job. */
  maxSamples: number;
  /** A vanished job is forgotten after this long, in milliseconds. */
  vanishedRetentionMs: number;
  /** Outbox entries older than this are dispatched again, in milliseconds. */
  outboxGraceMs: number;
  now?: () => number;
  /**
   * The V8 heap limit in bytes the account is measured against (see `HEAP_BYTES_PER_LISTED_JOB`).
   * Default: this process's own (`heap_size_limit`, set by `--max-old-space-size`).
   */
  heapLimitBytes?: number;
  /**
   * Told each poll's outcome, with the poll's start (epoch ms): the polling health alert (issue 8,
   * alerts/poll-health-watcher.ts). Its errors are logged, never fail the poll.
   */
  health?: {
    recordSuccess(jobType: string, startedAt: number): Promise<void>;
    recordFailure(jobType: string, error: unknown, startedAt: number): Promise<void>;
  };
}

/** What one poll of one job type decided. */
export interface PollPlan {
  jobType: string;
  /** Jobs whose details must be fetched. */
  needDetail: Job[];
  /**
   * Ids of jobs recorded as queued or running that the list no longer shows and the detail
   * endpoint has not answered 404 for: their details are fetched too, since a job that ends and
   * leaves the list between two polls would otherwise never be announced.
   */
  unlisted: string[];
  /** Terminal jobs recorded silently by the first sync. */
  recordedSilently: number;
  /** Jobs newly gone from the list. */
  vanished: number;
  /** Entries of the list that could not be read. */
  rejected: number;
  listed: number;
  firstSync: boolean;
}

const SILENT_BATCH = 500;
const DETAIL_BATCH = 500;

/**
 * Heap one listed job needs, as the README and the Dockerfile size NODE_OPTIONS: a poll parses its
 * list answer whole (~1 KB per entry while it runs), beside what the process keeps.
 */
const HEAP_BYTES_PER_LISTED_JOB = 2_048;
/** The outgrown-heap warning is repeated at most this often, in milliseconds. */
const HEAP_WARNING_EVERY_MS = 3_600_000;

// Marks the slot as the newest polled for its job type, unless a newer one already ran: a poll task
// that waited behind newer ones (a replica that was stopped, a backlog) is skipped, so missed ticks
// never pile up into a burst of API calls.
const CLAIM_SLOT_LUA = `
local newest = tonumber(redis.call('GET', KEYS[1]) or '0')
if tonumber(ARGV[1]) < newest then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1`;

/**
 * One poll of one job type: the list call, then a detail task only for jobs that need one (never
 * seen, not yet terminal, or listed as active though recorded as ended). Ended jobs cost no call.
 * The first poll of a job type with empty state records terminal history silently instead of
 * announcing it.
 */
export class PollProcessor {
  private readonly now: () => number;
  private readonly heapLimitBytes: number;
  /** Entries of each job type's latest list this process read. */
  private readonly listed = new Map<string, number>();
  private heapWarnedAt = Number.NEGATIVE_INFINITY;

  private readonly duplicateFilter: RepeatFilter;

  constructor(private readonly options: PollProcessorOptions) {
    this.now = options.now ?? Date.now;
    this.duplicateFilter = new RepeatFilter(3_600_000, this.now);
    this.heapLimitBytes = options.heapLimitBytes ?? getHeapStatistics().heap_size_limit;
  }

  async process(data: PollTaskData): Promise<PollPlan | { skipped: true }> {
    const { redis, keys, metrics } = this.options;
    const claimed = await redis.eval(CLAIM_SLOT_LUA, 1, keys.lastPollSlot(data.jobType), data.slot, 7 * 86_400_000);
    if (claimed === 0) {
      metrics.polls.labels(data.jobType, 'skipped').inc();
      this.options.logger.info({ jobType: data.jobType, slot: new Date(data.slot).toISOString() }, 'skipping a poll older than one already run');
      return { skipped: true };
    }
    const stopTimer = metrics.pollDuration.labels(data.jobType).startTimer();
    const startedAt = this.now();
    try {
      const plan = await this.plan(data.jobType);
      await this.enqueueDetails(plan, data.slot);
      metrics.polls.labels(data.jobType, 'ok').inc();
      metrics.lastPollSuccess.set(this.now() / 1000);
      await redis.hset(keys.pollHealth(), 'lastSuccess', String(this.now()));
      await this.options.health?.recordSuccess(data.jobType, startedAt).catch((error: unknown) => this.options.logger.warn({ error: errorText(error) }, 'could not record the poll health'));
      return plan;
    } catch (error) {
      metrics.polls.labels(data.jobType, 'failed').inc();
      await redis.hset(keys.pollHealth(), 'lastFailure', String(this.now())).catch(() => {});
      await this.options.health
        ?.recordFailure(data.jobType, error, startedAt)
        .catch((healthError: unknown) => this.options.logger.warn({ error: errorText(healthError) }, 'could not record the poll health'));
      throw error;
    } finally {
      stopTimer();
    }
  }

  /** The list call and the decision of what to fetch; records first-sync history and vanished jobs. */
  async plan(jobType: string): Promise<PollPlan> {
    const { client, store, redis, keys, logger, dispatcher } = this.options;
    const now = this.now();
    await dispatcher.sweep(now, this.options.outboxGraceMs);

    const list = await client.listJobs(jobType);
    if (list.rejected.length > 0) logger.warn({ jobType, rejected: list.rejected.slice(0, 10), count: list.rejected.length }, 'list entries not understood');
    if (list.warnings.length > 0) logger.debug({ jobType, warnings: list.warnings.slice(0, 10) }, 'list answer warnings');
    this.checkHeapBudget(jobType, list.jobs.length + list.rejected.length, now);
    const { jobs: listed, duplicates } = oneEntryPerId(list.jobs);
    if (duplicates.length > 0) {
      // A list that keeps naming the same ids twice would say so every poll: once an hour per type.
      const { log, held } = this.duplicateFilter.pass(jobType);
      if (log) {
        logger.warn(
          { jobType, count: duplicates.length, ids: duplicates.slice(0, 10), alsoSince: held },
          'the list answer names a job more than once; its details decide what it is',
        );
      }
    }

    const [index, synced, vanishedBefore, history] = await Promise.all([
      store.readIndex(jobType),
      redis.exists(keys.synced(jobType)),
      store.vanishedIds(),
      store.takeHistoryCount(jobType),
    ]);
    if (history > 0) {
      logger.info({ jobType, count: history }, 'jobs first seen already ended before the first sync were recorded as history, not announced');
    }
    // The flag is set only after the first sync's history is recorded, so a crash half-way through
    // resumes silently rather than announcing the rest of the history.
    const firstSync = synced === 0;
    const needDetail: Job[] = [];
    const silent: Job[] = [];
    const seen = new Set<string>();
    const back: string[] = [];
    for (const job of listed) {
      seen.add(job.id);
      if (vanishedBefore.has(job.id)) back.push(job.id);
      const stored = index.get(job.id);
      if (stored === undefined) {
        if (firstSync && isTerminal(job.status)) silent.push(job);
        else needDetail.push(job);
        continue;
      }
      // An end is final: a list that words it another way (it has no word for cancelled, so it may
      // well say FAILED) is no change, and asking would cost a call per such job every poll.
      if (!isTerminal(canonicalStatus(parseIndex(stored).status)) || !isTerminal(job.status)) needDetail.push(job);
    }

    await this.recordSilently(jobType, silent, now);

    const gone: string[] = [];
    const unlisted: string[] = [];
    for (const [id, entry] of index) {
      if (seen.has(id)) continue;
      const mark = vanishedBefore.get(id);
      if (mark === undefined) gone.push(id);
      // Not once GEM answered 404 for it, nor when this poll forgets it (a fetch would record it anew).
      const forgotten = mark !== undefined && now - mark.since >= this.options.vanishedRetentionMs;
      if (!mark?.notFound && !forgotten && !isTerminal(canonicalStatus(parseIndex(entry).status))) unlisted.push(id);
    }
    await store.markVanished(gone, jobType, now);
    await store.unmarkVanished(back);
    if (gone.length > 0) logger.info({ jobType, count: gone.length }, 'jobs gone from the list; marked vanished');
    // The marks read above, less the jobs that came back; marks added just now are too young to go.
    for (const id of back) vanishedBefore.delete(id);
    await store.forgetVanished(now, this.options.vanishedRetentionMs, vanishedBefore);

    // Set once: a replica that read the flag as missing at the same time keeps the first time, which
    // the detail worker compares ends with (a later one would turn news into history).
    if (synced === 0) await store.markSynced(jobType, now);
    return {
      jobType,
      needDetail,
      unlisted,
      recordedSilently: silent.length,
      vanished: gone.length,
      rejected: list.rejected.length,
      listed: listed.length,
      firstSync,
    };
  }

  /**
   * Warns, at most hourly, when the jobs listed over every job type this process polls need more
   * heap than V8 may take: past that a poll can end the process out of memory, and the fix is the
   * operator's (NODE_OPTIONS), so it is said before that happens.
   */
  private checkHeapBudget(jobType: string, entries: number, now: number): void {
    this.listed.set(jobType, entries);
    let total = 0;
    for (const count of this.listed.values()) total += count;
    const neededBytes = total * HEAP_BYTES_PER_LISTED_JOB;
    if (neededBytes <= this.heapLimitBytes || now - this.heapWarnedAt < HEAP_WARNING_EVERY_MS) return;
    this.heapWarnedAt = now;
    const mb = (bytes: number) => Math.ceil(bytes / 1_048_576);
    this.options.logger.warn(
      { listedJobs: total, heapNeededMb: mb(neededBytes), heapLimitMb: mb(this.heapLimitBytes) },
      `GEM lists ${total} jobs, which need about ${mb(neededBytes)} MB of heap, more than this process's limit of ${mb(this.heapLimitBytes)} MB: raise --max-old-space-size in NODE_OPTIONS (about ${HEAP_BYTES_PER_LISTED_JOB / 1_024} KB per job) before a poll runs out of memory`,
    );
  }

  /**
   * First sync: jobs that were already over when gem-watch first looked are history, recorded
   * compactly (index entry only) and never announced, and they cost no detail call.
   */
  private async recordSilently(jobType: string, jobs: Job[], now: number): Promise<void> {
    // One Lua call per batch rather than one per job: 50,000 jobs of history were 50,000 round
    // trips and the largest part of the first sync.
    for (let start = 0; start < jobs.length; start += SILENT_BATCH) {
      const entries: Array<{ id: string; indexValue: string }> = [];
      for (const job of jobs.slice(start, start + SILENT_BATCH)) {
        const result = diffJob(undefined, job, { now, maxSamples: this.options.maxSamples, silent: true });
        if (result.kind === 'transition') entries.push({ id: job.id, indexValue: formatIndex(result.tracked) });
      }
      await this.options.store.recordHistory(jobType, entries);
    }
  }

  private async enqueueDetails(plan: PollPlan, slot: number): Promise<void> {
    // In bulks of a bounded size: 5,500 tasks in one MULTI held all their commands and replies in
    // memory at once (the daemon's peak RSS at 50,000 jobs), and the first tasks can start sooner.
    const tasks = detailTasks(plan, slot);
    for (let start = 0; start < tasks.length; start += DETAIL_BATCH) {
      await this.options.detailQueue.addBulk(
        tasks.slice(start, start + DETAIL_BATCH).map((data) => ({ name: 'detail', data, opts: { jobId: detailTaskId(data) } })),
      );
    }
  }
}

/**
 * The list with one entry per id, and the ids it named more than once. GEM has answered one id as
 * IN_PROGRESS and SUCCESS in the same list: taking the ended entry made a first sync record a
 * running job as history, and its real end was never announced. Entries are merged so that the
 * detail endpoint decides: an entry that says the job is active (or in a word gem-watch does not
 * know) wins, so the job is read rather than recorded as ended; entries that all say it ended keep
 * the first, and cost no call for a job recorded as ended.
 */
export function oneEntryPerId(jobs: Job[]): { jobs: Job[]; duplicates: string[] } {
  // A set first: a list of 50,000 distinct ids (the usual case) is returned as it is, not copied.
  const ids = new Set<string>();
  const duplicates = new Set<string>();
  for (const job of jobs) {
    if (ids.has(job.id)) duplicates.add(job.id);
    else ids.add(job.id);
  }
  if (duplicates.size === 0) return { jobs, duplicates: [] };
  const byId = new Map<string, Job>();
  for (const job of jobs) {
    const kept = byId.get(job.id);
    if (kept === undefined || (isTerminal(kept.status) && !isTerminal(job.status))) byId.set(job.id, job);
  }
  return { jobs: [...byId.values()], duplicates: [...duplicates] };
}

/** The detail tasks a poll's plan asks for: the listed jobs that need one, then the unlisted active ones. */
export function detailTasks(plan: Pick<PollPlan, 'jobType' | 'needDetail' | 'unlisted'>, slot: number): DetailTaskData[] {
  return [
    ...plan.needDetail.map((job) => ({ jobId: job.id, jobType: plan.jobType, slot, listStatus: job.rawStatus.slice(0, 40) })),
    ...plan.unlisted.map((jobId) => ({ jobId, jobType: plan.jobType, slot })),
  ];
}
