import type { RedisClient } from './connection.js';
import type { Keys } from './keys.js';

/** The detail work the polls ask for, against what the detail rate limit can do between two polls. */
export interface DetailWork {
  /** Detail fetches the latest poll of each job type asked for, summed over the job types. */
  fetchesPerPoll: number;
  /** Detail fetches `poll.rateLimit` allows between two polls (0 when no poll has reported yet). */
  allowedPerPoll: number;
  /** Job types whose latest poll reported. */
  jobTypes: number;
}

/**
 * Each job type's latest detail work, in the hash `poll:detail-work` (job type → `fetches|allowed|at`),
 * so that every replica's /readyz and status page see the sum over job types polled by any replica.
 * A job type no longer configured is left out of the sum.
 */
export class DetailWorkStore {
  constructor(
    private readonly redis: RedisClient,
    private readonly keys: Keys,
  ) {}

  /**
   * Records one poll's count for its job type and answers the sum over `jobTypes`. The two
   * commands are issued together, so on the auto-pipelined state connection they leave in the
   * same write as the poll's other bookkeeping: no round trip of their own.
   */
  async record(jobType: string, fetches: number, allowedPerPoll: number, at: number, jobTypes: readonly string[]): Promise<DetailWork> {
    const key = this.keys.detailWork();
    const [, values] = await Promise.all([this.redis.hset(key, jobType, `${fetches}|${allowedPerPoll}|${at}`), this.redis.hmget(key, ...jobTypes)]);
    return sum(values);
  }

  /** The sum over `jobTypes` of each one's latest poll. */
  async read(jobTypes: readonly string[]): Promise<DetailWork> {
    if (jobTypes.length === 0) return { fetchesPerPoll: 0, allowedPerPoll: 0, jobTypes: 0 };
    return sum(await this.redis.hmget(this.keys.detailWork(), ...jobTypes));
  }
}

function sum(values: Array<string | null>): DetailWork {
  let fetchesPerPoll = 0;
  let allowedPerPoll = 0;
  let latest = Number.NEGATIVE_INFINITY;
  let jobTypes = 0;
  for (const value of values) {
    const [fetches, allowed, at] = (value ?? '').split('|').map(Number);
    if (value === null || !Number.isFinite(fetches) || !Number.isFinite(allowed) || !Number.isFinite(at)) continue;
    jobTypes += 1;
    fetchesPerPoll += fetches!;
    // Every replica runs one configuration; after a change the newest poll's figure is the one in force.
    if (at! >= latest) {
      latest = at!;
      allowedPerPoll = allowed!;
    }
  }
  return { fetchesPerPoll, allowedPerPoll, jobTypes };
}

/**
 * What the backlog means and which setting to raise, or undefined while the rate limit keeps up.
 * `rateLimit` names the limit as configured (`20 per 1000 ms`) and `pollGapSec` the gap between
 * two polls it was measured against.
 */
export function describeDetailBacklog(work: DetailWork, rateLimit: string, pollGapSec: number): string | undefined {
  if (work.allowedPerPoll <= 0 || work.fetchesPerPoll <= work.allowedPerPoll) return undefined;
  const polls = Math.ceil(work.fetchesPerPoll / work.allowedPerPoll);
  return (
    `each poll asks for ${fetches(work.fetchesPerPoll)}, more than the ${work.allowedPerPoll} that poll.rateLimit ` +
    `(${rateLimit}) allows in the ${pollGapSec} s between polls: a job's changes are read about once every ${polls} polls. ` +
    'Raise poll.rateLimit.max (if GEM allows it) or poll less often (POLL_CRON)'
  );
}

/** The detail work against the rate limit, in words: the backlog when there is one. */
export function describeDetailWork(work: DetailWork, rateLimit: string, pollGapSec: number): { backlog: boolean; text: string } {
  const backlog = describeDetailBacklog(work, rateLimit, pollGapSec);
  if (backlog !== undefined) return { backlog: true, text: backlog };
  if (work.jobTypes === 0) return { backlog: false, text: 'no poll has reported its detail work yet' };
  return {
    backlog: false,
    text: `each poll asks for ${fetches(work.fetchesPerPoll)}; poll.rateLimit (${rateLimit}) allows ${work.allowedPerPoll} in the ${pollGapSec} s between polls`,
  };
}

function fetches(count: number): string {
  return `${count} detail fetch${count === 1 ? '' : 'es'}`;
}
