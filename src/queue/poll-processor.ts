import { getHeapStatistics } from 'node:v8';
import type { Job as BullJob, Queue } from 'bullmq';
import type { RedisClient } from '../state/connection.js';
import { diffJob } from '../domain/diff.js';
import type { GemClient } from '../gem/client.js';
import { canonicalStatus } from '../gem/normalize.js';
import { isTerminal, type Job } from '../domain/job.js';
import type { Logger } from '../telemetry/logger.js';
import type { Metrics } from '../telemetry/metrics.js';
import { errorText } from '../telemetry/redact.js';
import { RepeatFilter } from '../telemetry/repeat-filter.js';
import type { Keys } from '../state/keys.js';
import { describeDetailBacklog, DetailWorkStore } from '../state/detail-work-store.js';
import { PollHealthStore } from '../state/poll-health-store.js';
import { formatIndex, parseIndex, type StateStore } from '../state/state-store.js';
import type { Dispatcher } from './dispatcher.js';
import { isDetailReadDue, type DetailReadMark } from '../domain/detail-reads.js';
import { DetailReadStore } from '../state/detail-read-store.js';
import { detailDeduplicationId, detailTaskId, type DetailTaskData, type PollTaskData } from './names.js';

export interface PollProcessorOptions {
  client: GemClient;
  store: StateStore;
  redis: RedisClient;
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
   * Told each poll's outcome, with the poll's start (epoch ms): the polling health alert
   * (alerts/poll-health-watcher.ts). Its errors are logged, never fail the poll.
   */
  health?: {
    recordSuccess(jobType: string, startedAt: number): Promise<void>;
    recordFailure(jobType: string, error: unknown, startedAt: number): Promise<void>;
  };
  /** What the detail rate limit can do between two polls; without it no backlog is recorded. */
  detailBudget?: DetailBudget;
  /**
   * An active job whose list status has not changed is read again only this long after its last
   * read, or sooner when its expected end or a stuck/overdue threshold comes (domain/detail-reads.ts),
   * in milliseconds. `poll.progressEverySeconds` × 1000. Default 0: every poll reads every active job.
   */
  progressEveryMs?: number;
}

/** The detail fetches poll.rateLimit allows between two polls, and how to say so. */
export interface DetailBudget {
  /** Fetches allowed between two polls: `rateLimit.max × gap / rateLimit.durationMs`, rounded down. */
  allowedPerPoll: number;
  /** Shortest gap between two polls of the cron, in milliseconds (see `shortestCronGapMs`). */
  pollGapMs: number;
  /** The limit as configured, for people: `20 per 1000 ms`. */
  rateLimit: string;
  /** Job types polled: the detail work of one poll slot is the sum over them. */
  jobTypes: readonly string[];
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
  /** Active jobs listed with an unchanged status whose next detail read is not due yet. */
  deferred: number;
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
/** The outgrown-heap and detail-backlog warnings are repeated at most this often, in milliseconds. */
const HEAP_WARNING_EVERY_MS = 3_600_000;

/**
 * One poll of one job type: the list call, then a detail task only for jobs that need one (never
 * seen, listed as active though recorded as ended, recorded as active with a changed list word, or
 * whose read is due: see PollProcessorOptions.progressEveryMs). Ended jobs cost no call.
 * The first poll of a job type with empty state records terminal history silently instead of
 * announcing it.
 */
export class PollProcessor {
  private readonly now: () => number;
  private readonly heapLimitBytes: number;
  /** Entries of each job type's latest list this process read. */
  private readonly listed = new Map<string, number>();
  private heapWarnedAt = Number.NEGATIVE_INFINITY;
  private backlogWarnedAt = Number.NEGATIVE_INFINITY;
  private readonly detailWork: DetailWorkStore;
  private readonly pollHealth: PollHealthStore;
  private readonly detailReads: DetailReadStore;

  private readonly duplicateFilter: RepeatFilter;

  constructor(private readonly options: PollProcessorOptions) {
    this.now = options.now ?? Date.now;
    this.duplicateFilter = new RepeatFilter(3_600_000, this.now);
    this.heapLimitBytes = options.heapLimitBytes ?? getHeapStatistics().heap_size_limit;
    this.detailWork = new DetailWorkStore(options.redis, options.keys);
    this.pollHealth = new PollHealthStore(options.redis, options.keys);
    this.detailReads = new DetailReadStore(options.redis, options.keys);
  }

  async process(data: PollTaskData): Promise<PollPlan | { skipped: true }> {
    const { metrics } = this.options;
    // A poll task that waited behind newer ones (a replica that was stopped, a backlog) is skipped,
    // so missed ticks never pile up into a burst of API calls.
    if (!(await this.pollHealth.claimSlot(data.jobType, data.slot, 7 * 86_400_000))) {
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
      await Promise.all([this.pollHealth.recordSuccess(this.now()), this.checkDetailBudget(plan)]);
      await this.options.health?.recordSuccess(data.jobType, startedAt).catch((error: unknown) => this.options.logger.warn({ error: errorText(error) }, 'could not record the poll health'));
      return plan;
    } catch (error) {
      metrics.polls.labels(data.jobType, 'failed').inc();
      await this.pollHealth.recordFailure(this.now()).catch(() => {});
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
    const { client, store, logger, dispatcher } = this.options;
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

    const everyMs = this.options.progressEveryMs ?? 0;
    const [index, synced, vanishedBefore, history, marks] = await Promise.all([
      store.readIndex(jobType),
      store.isSynced(jobType),
      store.vanishedIds(),
      store.takeHistoryCount(jobType),
      everyMs > 0 ? this.detailReads.readAll(jobType) : new Map<string, DetailReadMark>(),
    ]);
    if (history > 0) {
      logger.info({ jobType, count: history }, 'jobs first seen already ended before the first sync were recorded as history, not announced');
    }
    // The flag is set only after the first sync's history is recorded, so a crash half-way through
    // resumes silently rather than announcing the rest of the history.
    const firstSync = !synced;
    const needDetail: Job[] = [];
    const silent: Job[] = [];
    const seen = new Set<string>();
    const back: string[] = [];
    let deferred = 0;
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
      const recordedEnded = isTerminal(canonicalStatus(parseIndex(stored).status));
      if (recordedEnded && isTerminal(job.status)) continue;
      // An active job whose list word is the one its last read was asked with only has progress
      // to tell: it is read when that is due (see PollProcessorOptions.progressEveryMs). A job
      // listed as active though recorded as ended is read at once, as is any change of the word,
      // and a job the list says ended while its details still said active is read every poll
      // until they agree (the list ahead of the details), as before.
      if (recordedEnded || isTerminal(job.status) || isDetailReadDue(marks.get(job.id), job.rawStatus, now, everyMs)) needDetail.push(job);
      else deferred += 1;
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
    await this.forgetReadMarks(jobType, index, marks);
    await store.markVanished(gone, jobType, now);
    await store.unmarkVanished(back);
    if (gone.length > 0) logger.info({ jobType, count: gone.length }, 'jobs gone from the list; marked vanished');
    // The marks read above, less the jobs that came back; marks added just now are too young to go.
    for (const id of back) vanishedBefore.delete(id);
    await store.forgetVanished(now, this.options.vanishedRetentionMs, vanishedBefore);

    // Set once: a replica that read the flag as missing at the same time keeps the first time, which
    // the detail worker compares ends with (a later one would turn news into history).
    if (!synced) await store.markSynced(jobType, now);
    return {
      jobType,
      needDetail,
      unlisted,
      recordedSilently: silent.length,
      vanished: gone.length,
      rejected: list.rejected.length,
      deferred,
      listed: listed.length,
      firstSync,
    };
  }

  /**
   * Removes the read marks of jobs the index no longer holds as active: the detail worker does not
   * remove a mark when it records an end (that would be one more command per transition), so the
   * polls do it, in one command for all of them.
   */
  private async forgetReadMarks(jobType: string, index: ReadonlyMap<string, string>, marks: ReadonlyMap<string, DetailReadMark>): Promise<void> {
    const done: string[] = [];
    for (const id of marks.keys()) {
      const entry = index.get(id);
      if (entry === undefined || isTerminal(canonicalStatus(parseIndex(entry).status))) done.push(id);
    }
    try {
      await this.detailReads.forget(jobType, done);
    } catch (error) {
      // Left for the next poll: a stale mark of an ended job decides nothing.
      this.options.logger.warn({ jobType, error: errorText(error) }, 'could not remove the read marks of ended jobs');
    }
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
   * Records this poll's detail work for /readyz and the status page and warns, at most hourly, when
   * the polls of one slot ask for more fetches than the rate limit allows before the next slot.
   * The queue stays bounded (one pending task per job) but each job is then read only every few
   * polls, so announcements come late; the fix is the operator's, so the line says which setting.
   */
  private async checkDetailBudget(plan: PollPlan): Promise<void> {
    const budget = this.options.detailBudget;
    if (!budget) return;
    const now = this.now();
    const fetches = plan.needDetail.length + plan.unlisted.length;
    try {
      const work = await this.detailWork.record(plan.jobType, fetches, budget.allowedPerPoll, now, budget.jobTypes);
      this.options.metrics.detailFetchesPerPoll.set(work.fetchesPerPoll);
      this.options.metrics.detailFetchesAllowedPerPoll.set(budget.allowedPerPoll);
      const backlog = describeDetailBacklog(work, budget.rateLimit, Math.round(budget.pollGapMs / 1000));
      if (backlog === undefined || now - this.backlogWarnedAt < HEAP_WARNING_EVERY_MS) return;
      this.backlogWarnedAt = now;
      this.options.logger.warn({ fetchesPerPoll: work.fetchesPerPoll, allowedPerPoll: work.allowedPerPoll, rateLimit: budget.rateLimit }, `detail backlog: ${backlog}`);
    } catch (error) {
      this.options.logger.warn({ error: errorText(error) }, 'could not record the detail work of a poll');
    }
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

  /**
   * Adds one detail task per job that needs one, at most one pending per job: a job whose task is
   * still waiting, delayed for a retry or running gets none (BullMQ deduplication; the add answers
   * the pending task's id). Otherwise, with more fetches per poll than the rate limit allows, or
   * while a GEM 429 pauses the queue, every poll added a task per active job and the queue grew
   * without bound (49 → 348 waiting in a minute with 15 jobs, a poll every 2 s and 1 fetch/s).
   *
   * Nothing is lost by not adding: the fetch reads the job's details when it runs, not when it was
   * queued, and every job the store does not hold as ended is asked for again by each poll, so a
   * change the pending or running fetch misses is fetched by the first poll after it completes
   * (or fails for good). A pending task that has not started takes this poll's news instead (the
   * list's word, or that the list no longer shows the job): a 404 is then judged against the
   * latest list. A crash between the add and that update leaves the older news, which the next
   * poll replaces. Retries of the poll task add nothing: the same slot's ids already exist.
   */
  private async enqueueDetails(plan: PollPlan, slot: number): Promise<void> {
    // In bulks of a bounded size: 5,500 tasks in one MULTI held all their commands and replies in
    // memory at once (the daemon's peak RSS at 50,000 jobs), and the first tasks can start sooner.
    const tasks = detailTasks(plan, slot);
    for (let start = 0; start < tasks.length; start += DETAIL_BATCH) {
      const bulk = tasks.slice(start, start + DETAIL_BATCH).map((data) => ({
        name: 'detail',
        data,
        opts: { jobId: detailTaskId(data), deduplication: { id: detailDeduplicationId(data.jobId) } },
      }));
      const added = await this.options.detailQueue.addBulk(bulk);
      const pending = added.filter((task, i) => task.id !== bulk[i]!.opts.jobId);
      if (pending.length > 0) await Promise.all(pending.map((task) => this.supersede(task)));
    }
  }

  /**
   * Gives a job's pending task this poll's news. `task` carries the pending task's id and this
   * poll's data. A task that finished in between takes the data harmlessly (BullMQ keeps it a
   * while) or is gone (updateData says so); either way its job is asked for again next poll. If the deduplication key points at a task that no longer exists at all (keys
   * evicted under a wrong maxmemory-policy, or deleted by hand), the key would block that job for
   * good: it is removed, compare-and-delete on the task id, so the next poll adds a task again. A
   * task that still exists keeps its key whatever failed, or the job could get a second task.
   */
  private async supersede(task: BullJob<DetailTaskData>): Promise<void> {
    const { detailQueue, logger } = this.options;
    try {
      await task.updateData(task.data);
    } catch (updateError) {
      try {
        if ((await detailQueue.getJob(task.id!)) === undefined) await task.removeDeduplicationKey();
        else logger.debug({ jobId: task.data.jobId, error: errorText(updateError) }, 'could not give a pending detail task the latest news; the next poll does');
      } catch (error) {
        logger.warn({ jobId: task.data.jobId, error: errorText(error) }, 'could not check a pending detail task; the next poll tries again');
      }
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
