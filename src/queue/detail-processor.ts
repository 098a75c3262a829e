import { diffJob } from '../domain/diff.js';
import type { Transition } from '../domain/transition.js';
import type { GemClient } from '../gem/client.js';
import { isGemNotFoundError } from '../gem/errors.js';
import { isTerminal, type Job } from '../domain/job.js';
import type { Logger } from '../telemetry/logger.js';
import type { Metrics } from '../telemetry/metrics.js';
import type { StateStore } from '../state/state-store.js';
import type { TrackedJob } from '../domain/tracked-job.js';
import { errorText } from '../telemetry/redact.js';
import { RepeatFilter } from '../telemetry/repeat-filter.js';
import type { Dispatcher } from './dispatcher.js';
import type { DetailTaskData } from './names.js';
import { earliestAhead, expectedEndAhead, listStatusWord } from '../domain/detail-reads.js';
import type { DetailReadStore } from '../state/detail-read-store.js';

/** Steps between detecting and dispatching, named so tests can crash the process at each one. */
export type DetailStep = 'fetched' | 'diffed' | 'saved' | 'enqueued' | 'dispatched';

export interface DetailProcessorOptions {
  client: GemClient;
  store: StateStore;
  dispatcher: Dispatcher;
  logger: Logger;
  metrics: Metrics;
  maxSamples: number;
  now?: () => number;
  /** Test seam: awaited after each step; a throw here is a crash at that line. */
  afterStep?: (step: DetailStep, jobId: string) => void | Promise<void>;
  /**
   * Evaluates an active job's snapshot after each fetch: stuck and overdue alerts
   * (alerts/job-alert-watcher.ts). Its errors are logged, never fail the task: the next poll
   * evaluates again.
   */
  jobAlerts?: {
    check(tracked: TrackedJob, now: number): Promise<unknown>;
    /** The next moment a fresh sample can meet a stuck or overdue condition (domain/overdue.ts). */
    nextCheckAt?(tracked: TrackedJob, now: number): number | undefined;
  };
  /**
   * Where each read of an active job is recorded for the polls, which read such a job again only
   * when that is due (PollProcessorOptions.progressEveryMs). Without it nothing is recorded: every
   * poll reads every active job. A failure to record is logged; the job is then read next poll.
   */
  detailReads?: Pick<DetailReadStore, 'record'>;
  /**
   * Slack app mode's liveProgress (queue/live-progress.ts): progress updates of a running job's
   * message, after a fetch that recorded no transition. Its errors are logged, never fail the task.
   */
  liveProgress?: { check(tracked: TrackedJob, now: number): Promise<unknown> };
}

const MAX_CONFLICTS = 5;

/**
 * One job's detail fetch, diff and save. The detail endpoint is the source of truth (the list may
 * lag it). The save is a compare-and-set; on conflict (another replica saved first) the stored state
 * is read again and the diff redone, so only one writer ever records a given transition.
 */
export class DetailProcessor {
  private readonly now: () => number;
  private readonly notFoundFilter: RepeatFilter;
  private readonly unknownStatusFilter: RepeatFilter;

  constructor(private readonly options: DetailProcessorOptions) {
    this.now = options.now ?? Date.now;
    this.notFoundFilter = new RepeatFilter(60_000, this.now);
    this.unknownStatusFilter = new RepeatFilter(3_600_000, this.now);
  }

  /** Returns the transition recorded, if this call recorded one. */
  async process(data: DetailTaskData): Promise<Transition | undefined> {
    const { client, store, dispatcher, logger, metrics, afterStep } = this.options;
    // A job the list no longer shows (a task without the list's word): a 404 ends it, and its
    // vanished mark stays whatever its details say (only a poll that lists it again ends the mark).
    const unlisted = data.listStatus === undefined;
    let detail;
    try {
      detail = await client.getJob(data.jobId, data.jobType);
    } catch (error) {
      if (!isGemNotFoundError(error)) throw error;
      if (unlisted) {
        logger.info({ jobId: data.jobId, jobType: data.jobType }, 'job gone from the list no longer exists (404); not asked for again');
        await store.markNotFound(data.jobId, data.jobType, this.now());
        return undefined;
      }
      // The list shows the job and the detail endpoint does not know it: the detail path is wrong
      // (GEM's own pages disagree on it) far more often than GEM contradicts itself. Nothing of
      // this job can be announced until that is fixed, so it is said loudly, once a minute per job
      // type; the next poll asks again (a retry now would only repeat the 404).
      const { log, held } = this.notFoundFilter.pass(data.jobType);
      if (log) {
        logger.warn(
          { jobId: data.jobId, jobType: data.jobType, listStatus: data.listStatus, alsoSince: held },
          'the detail endpoint answers 404 for a job the list shows: check GEM_DETAIL_PATH (gem-watch check tries it)',
        );
      }
      return undefined;
    }
    const job = { ...detail.job, jobType: data.jobType };
    if (detail.warnings.length > 0) logger.warn({ jobId: job.id, warnings: detail.warnings }, 'detail answer partly not understood');
    if (job.status === 'unknown') {
      // Such a job is active to gem-watch and fetched every poll: one line an hour per word, not
      // one a minute per job.
      const rawStatus = job.rawStatus.slice(0, 80);
      const { log, held } = this.unknownStatusFilter.pass(rawStatus);
      if (log) logger.warn({ jobId: job.id, rawStatus, alsoSince: held }, 'job has a status gem-watch does not know; stored as unknown');
    }
    await afterStep?.('fetched', job.id);

    // For an unlisted job the mark is no change to diff, and the save keeps it.
    for (let attempt = 0; attempt < MAX_CONFLICTS; attempt += 1) {
      const now = this.now();
      const stored = await store.get(job.id, data.jobType);
      const previous = unlisted ? withoutVanished(stored?.tracked) : stored?.tracked;
      // Whether a job first seen already ended is news or history is decided here, not in the poll:
      // the list carries no modified time (only `requested_at`), the detail answer does, and every
      // such job is read anyway. The first sync time is the `synced` flag's value in Redis, set
      // once by whichever replica completed the first sync, so it survives restarts and every
      // replica compares with the same instant. It is read only for the few answers it can decide.
      const firstSyncAt = needsFirstSyncTime(previous, job.status) ? await store.firstSyncAt(data.jobType) : undefined;
      const result = diffJob(previous, job, { now, maxSamples: this.options.maxSamples, firstSyncAt });
      if (result.kind === 'history') {
        // Compact, as the first sync records history: index entry only, no stream entry, no outbox.
        const outcome = await store.save({ jobType: data.jobType, expectedIndex: stored?.indexValue ?? '', tracked: result.tracked, compact: true, now });
        if (!outcome.saved) continue;
        // Counted for the next poll's one log line: after an empty first answer these come by the
        // hundred, one detail task each.
        await store.countHistory(data.jobType);
        logger.debug({ jobId: job.id, jobType: data.jobType, modifiedAt: job.modifiedAt ?? null }, 'job ended before the first sync; recorded as history');
        return undefined;
      }
      if (result.kind === 'unchanged') {
        if (stored) {
          await Promise.all([this.checkJobAlerts(stored.tracked, now), this.recordRead(data, stored.tracked, now)]);
          await this.checkLiveProgress(stored.tracked, now);
        }
        return undefined;
      }
      if (result.kind === 'stale') {
        logger.warn(
          { jobId: job.id, jobType: data.jobType, recorded: stored?.tracked.status, answered: job.rawStatus.slice(0, 80) },
          'GEM answered an active status for a job recorded as ended; the recorded end is kept',
        );
        return undefined;
      }
      const transition = result.kind === 'transition' ? result.transition : undefined;
      await afterStep?.('diffed', job.id);
      const outcome = await store.save({
        jobType: data.jobType,
        expectedIndex: stored?.indexValue ?? '',
        tracked: result.tracked,
        transition,
        keepVanished: unlisted,
        now,
      });
      if (!outcome.saved) continue;
      await Promise.all([this.checkJobAlerts(result.tracked, now), this.recordRead(data, result.tracked, now)]);
      if (!transition) {
        // New progress samples: the transition's own update is the rest.
        await this.checkLiveProgress(result.tracked, now);
        return undefined;
      }

      metrics.transitions.labels(transition.to).inc();
      if (previous && transition.generation !== previous.generation) {
        logger.info(
          { jobId: job.id, jobType: data.jobType, generation: transition.generation, recordedCreatedAt: previous.job.createdAt ?? null, createdAt: job.createdAt ?? null },
          'GEM runs a job id again (a new creation time): recorded as a new run',
        );
      }
      logger.info(
        { jobId: job.id, jobType: data.jobType, from: transition.from ?? null, to: transition.to, version: transition.version },
        'job status changed',
      );
      await afterStep?.('saved', job.id);
      await dispatcher.dispatch(transition);
      await afterStep?.('dispatched', job.id);
      return transition;
    }
    throw new Error(`job ${job.id}: state kept changing under ${MAX_CONFLICTS} attempts to save it`);
  }

  /**
   * Records the read of an active job, with the next moment a fresh sample can tell something: its
   * expected end, or a stuck/overdue threshold. Ended jobs get none (the polls remove their marks).
   */
  private async recordRead(data: DetailTaskData, tracked: TrackedJob, now: number): Promise<void> {
    const { detailReads, jobAlerts, logger } = this.options;
    if (!detailReads || isTerminal(tracked.status)) return;
    const eventAt = earliestAhead(now, expectedEndAhead(tracked, now), jobAlerts?.nextCheckAt?.(tracked, now));
    try {
      await detailReads.record(data.jobType, data.jobId, {
        readAt: now,
        ...(eventAt === undefined ? {} : { eventAt }),
        listStatus: data.listStatus === undefined ? '' : listStatusWord(data.listStatus),
      });
    } catch (error) {
      logger.warn({ jobId: data.jobId, error: errorText(error) }, 'could not record a detail read; the next poll reads the job again');
    }
  }

  private async checkLiveProgress(tracked: TrackedJob, now: number): Promise<void> {
    if (!this.options.liveProgress || tracked.status !== 'running') return;
    try {
      await this.options.liveProgress.check(tracked, now);
    } catch (error) {
      this.options.logger.warn({ jobId: tracked.job.id, error: errorText(error) }, 'could not queue a progress update of a job\'s Slack message; the next poll tries again');
    }
  }

  private async checkJobAlerts(tracked: TrackedJob, now: number): Promise<void> {
    if (!this.options.jobAlerts || (tracked.status !== 'queued' && tracked.status !== 'running')) return;
    try {
      await this.options.jobAlerts.check(tracked, now);
    } catch (error) {
      this.options.logger.warn({ jobId: tracked.job.id, error: errorText(error) }, 'could not evaluate stuck/overdue alerts for a job; the next poll tries again');
    }
  }
}

/**
 * Whether the diff may need the first sync time: a job never seen that GEM says ended (news or
 * history), or an answer for a job recorded as ended (a new run of a reused id is told by a
 * creation after the first sync when the recorded run's creation time is not kept).
 */
function needsFirstSyncTime(previous: TrackedJob | undefined, status: Job['status']): boolean {
  return previous === undefined ? isTerminal(status) : isTerminal(previous.status);
}

function withoutVanished(tracked: TrackedJob | undefined): TrackedJob | undefined {
  if (tracked?.vanishedAt === undefined) return tracked;
  const { vanishedAt: _vanishedAt, ...rest } = tracked;
  return rest;
}
