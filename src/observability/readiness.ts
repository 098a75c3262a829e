import type { Queue } from 'bullmq';
import type { RedisClient } from '../state/connection.js';
import cron from 'node-cron';
import { shortestCronGapMs } from '../queue/poll-scheduler.js';
import { DetailWorkStore, describeDetailWork } from '../state/detail-work-store.js';
import type { Keys } from '../state/keys.js';
import { PollHealthStore } from '../state/poll-health-store.js';
import type { StatusPageCheck } from '../templates/status-page.js';
import { errorText, scrub } from '../telemetry/redact.js';
import { withTimeout } from './with-timeout.js';

/** The credential health as this replica knows it; CredentialHealth fits. */
export interface CredentialState {
  readonly healthy: boolean;
  readonly reason: string;
}

/** What /readyz answers (200 when ready, else 503), and what the status page shows at its top. */
export interface ReadinessReport {
  ready: boolean;
  checks: StatusPageCheck[];
}

/** What readiness reads of the `poll` section: the schedule and the detail calls it allows. */
export interface ReadinessPollSettings {
  /** node-cron expression of the poll: its longest gap sets how old the last poll may be. */
  cron: string;
  /** At most `max` detail calls per `durationMs` ms across replicas: the detail backlog's measure. */
  rateLimit: { max: number; durationMs: number };
}

/** What the readiness checks read: the server's Redis client, the pipeline's parts and its lifecycle. */
export interface ReadinessOptions {
  settings: {
    poll: ReadinessPollSettings;
    jobTypes: readonly string[];
  };
  keys: Keys;
  detailQueue: Queue;
  /** True when every worker this process started is running (true when it runs none). */
  workersRunning(): boolean;
  credentials: CredentialState;
  /** The probe client: made when the server starts, so it is asked for at each check. */
  redis(): RedisClient | undefined;
  /** Epoch ms the server started: a deployment that never polled is judged from then. */
  startedAt(): number;
  /** True once shutdown has begun. */
  stopping(): boolean;
  /** Timeout of each Redis read of a check, in milliseconds. Default 1,000. */
  pingTimeoutMs?: number;
  now(): number;
}

/** How many poll intervals may pass without a successful poll before /readyz says not ready. */
const POLL_INTERVALS_ALLOWED = 3;

/**
 * The longest gap between two consecutive runs of a node-cron expression, in milliseconds: the
 * poll interval, taken conservatively for uneven schedules (`0 8-18 * * 1-5` counts its 62-hour
 * weekend gap) so readiness never fails only because the schedule is uneven. Sampling the next runs
 * would need thousands to reach the weekend of a dense schedule, so it is worked out in two parts:
 * the longest gap within a day, from the second, minute and hour fields; and the longest gap
 * between matching days, from the next runs of the schedule's first time of day (one a matching
 * day), less the day's span. Daylight-saving shifts are ignored: an hour, well inside the three
 * intervals readiness allows.
 */
export function cronIntervalMs(expression: string): number {
  const fields = cron.parse(expression);
  const times = [
    ...new Set(fields.hour.flatMap((hour) => fields.minute.flatMap((minute) => fields.second.map((second) => hour * 3600 + minute * 60 + second)))),
  ].sort((a, b) => a - b);
  let longestSec = 0;
  for (let i = 1; i < times.length; i++) longestSec = Math.max(longestSec, times[i]! - times[i - 1]!);
  const first = times[0] ?? 0;
  const span = (times[times.length - 1] ?? 0) - first;
  const dayFields = expression.trim().split(/\s+/).slice(-3).join(' ');
  const firstOfDay = `${first % 60} ${Math.floor(first / 60) % 60} ${Math.floor(first / 3600)} ${dayFields}`;
  const task = cron.createTask(firstOfDay, () => {}, { name: 'gem-watch-interval-probe' });
  try {
    const days = task.getNextRuns(64).map((date) => date.getTime());
    for (let i = 1; i < days.length; i++) longestSec = Math.max(longestSec, (days[i]! - days[i - 1]!) / 1000 - span);
  } finally {
    void task.destroy();
  }
  return longestSec > 0 ? longestSec * 1000 : 60_000;
}

/**
 * The checks behind /readyz, each with a reason: Redis reachable, workers running, a recent
 * successful poll, the detail backlog (a warning only) and credentials accepted. Every reason is
 * scrubbed, since the ops listener serves them without a token.
 */
export class ReadinessChecks {
  private readonly pollIntervalMs: number;
  /** Shortest gap between two polls: the detail backlog is measured against it. */
  private readonly pollGapMs: number;

  constructor(private readonly options: ReadinessOptions) {
    this.pollIntervalMs = cronIntervalMs(options.settings.poll.cron);
    this.pollGapMs = shortestCronGapMs(options.settings.poll.cron);
  }

  private get timeoutMs(): number {
    return this.options.pingTimeoutMs ?? 1_000;
  }

  /** A Redis PING through the probe client, within the ping timeout. */
  async ping(): Promise<{ ok: boolean; detail: string }> {
    try {
      const answer = await withTimeout(this.options.redis()!.ping(), this.timeoutMs, 'Redis PING');
      return { ok: answer === 'PONG', detail: answer === 'PONG' ? 'PING answered' : `unexpected answer ${String(answer).slice(0, 40)}` };
    } catch (error) {
      return { ok: false, detail: `unreachable: ${errorText(error)}` };
    }
  }

  /** Every readiness check, each with a reason; ready when all pass. */
  async report(): Promise<ReadinessReport> {
    const { credentials } = this.options;
    const checks: StatusPageCheck[] = [];
    if (this.options.stopping()) checks.push({ name: 'lifecycle', ok: false, detail: 'shutting down' });

    const redis = await this.ping();
    checks.push({ name: 'redis', ...redis });

    const workers = this.options.workersRunning();
    checks.push({ name: 'workers', ok: workers, detail: workers ? 'running' : 'a worker of this process is not running' });

    // Two independent reads: side by side, so a probe waits for one round trip rather than two.
    checks.push(...(await Promise.all([this.pollCheck(redis.ok), this.detailBacklogCheck(redis.ok)])));

    checks.push({
      name: 'credentials',
      ok: credentials.healthy,
      detail: credentials.healthy ? 'accepted by GEM' : `refused by GEM${credentials.reason ? `: ${scrub(credentials.reason)}` : ''}`,
    });
    return { ready: checks.every((check) => check.ok), checks };
  }

  private async pollCheck(redisOk: boolean): Promise<StatusPageCheck> {
    const maxAgeMs = POLL_INTERVALS_ALLOWED * this.pollIntervalMs;
    const limit = `${Math.round(maxAgeMs / 1000)} s (${POLL_INTERVALS_ALLOWED} poll intervals)`;
    if (!redisOk) return { name: 'poll', ok: false, detail: 'unknown: Redis unreachable' };
    let lastSuccess: number;
    try {
      const raw = await withTimeout(new PollHealthStore(this.options.redis()!, this.options.keys).lastSuccess(), this.timeoutMs, 'Redis HGET');
      lastSuccess = raw === null ? Number.NaN : Number(raw);
    } catch (error) {
      return { name: 'poll', ok: false, detail: `unknown: ${errorText(error)}` };
    }
    const now = this.options.now();
    if (!Number.isFinite(lastSuccess)) {
      // A fresh deployment has never polled: give it the same allowance from this process's start.
      const waited = now - this.options.startedAt();
      return waited <= maxAgeMs
        ? { name: 'poll', ok: true, detail: `no successful poll yet; started ${Math.round(waited / 1000)} s ago, allowed ${limit}` }
        : { name: 'poll', ok: false, detail: `no successful poll in the ${Math.round(waited / 1000)} s since start; allowed ${limit}` };
    }
    const age = now - lastSuccess;
    return {
      name: 'poll',
      ok: age <= maxAgeMs,
      detail: `last successful poll ${Math.max(0, Math.round(age / 1000))} s ago; allowed ${limit}`,
    };
  }

  /**
   * The detail work of a poll against what poll.rateLimit allows between polls. Always ok: a
   * backlog is named (a warning, with the setting to raise) but leaves /readyz at 200. The queue
   * stays bounded and every job is still read, only less often than every poll; this replica is
   * not what is wrong, and another replica would share the same limit, so a 503 (an orchestrator
   * taking replicas out of service or restarting them) would cure nothing and hide the message.
   */
  private async detailBacklogCheck(redisOk: boolean): Promise<StatusPageCheck> {
    if (!redisOk) return { name: 'detail backlog', ok: true, detail: 'unknown: Redis unreachable' };
    const { settings, keys, detailQueue } = this.options;
    try {
      const work = await withTimeout(new DetailWorkStore(this.options.redis()!, keys).read(settings.jobTypes), this.timeoutMs, 'Redis HMGET');
      const { max, durationMs } = settings.poll.rateLimit;
      const { backlog, text } = describeDetailWork(work, `${max} per ${durationMs} ms`, Math.round(this.pollGapMs / 1000));
      if (!backlog) return { name: 'detail backlog', ok: true, detail: text };
      const waiting = await withTimeout(detailQueue.getJobCounts('waiting', 'prioritized'), this.timeoutMs, 'detail queue').catch(() => undefined);
      const queued = waiting === undefined ? '' : ` (${(waiting.waiting ?? 0) + (waiting.prioritized ?? 0)} detail tasks waiting, at most one per job)`;
      return { name: 'detail backlog', ok: true, warning: true, detail: `${text}${queued}` };
    } catch (error) {
      return { name: 'detail backlog', ok: true, detail: `unknown: ${errorText(error)}` };
    }
  }
}
