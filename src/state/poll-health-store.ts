import type { RedisClient } from './connection.js';
import type { Keys } from './keys.js';
import { withScripts, type ScriptCommands } from './scripts.js';

/** Fields of the poll health hash holding when a job type's failing spell began: `failingSince:<type>`. */
const FAILING_SINCE = 'failingSince:';

/**
 * The polls' bookkeeping shared by every replica: the newest slot polled per job type
 * (`poll:slot:<type>`), and the poll health hash `poll:health`: the last success and failure
 * (epoch ms, read by /readyz and the status page) and each job type's failing spell
 * (`failingSince:<type>`, lua/poll-health-fail-1.lua and lua/poll-health-clear-1.lua).
 */
export class PollHealthStore {
  private readonly scripts: ScriptCommands;

  constructor(
    private readonly redis: RedisClient,
    private readonly keys: Keys,
  ) {
    this.scripts = withScripts(redis);
  }

  /**
   * Claims `slot` (epoch ms) as the newest polled for the job type, kept `keepMs`
   * (lua/claim-poll-slot-1.lua). False when a newer slot already ran: this one is skipped.
   */
  async claimSlot(jobType: string, slot: number, keepMs: number): Promise<boolean> {
    return (await this.scripts.gemwatchClaimPollSlot(this.keys.lastPollSlot(jobType), slot, keepMs)) !== 0;
  }

  /** Records when a poll last succeeded, epoch ms. */
  async recordSuccess(at: number): Promise<void> {
    await this.redis.hset(this.keys.pollHealth(), 'lastSuccess', String(at));
  }

  /** Records when a poll last failed, epoch ms. */
  async recordFailure(at: number): Promise<void> {
    await this.redis.hset(this.keys.pollHealth(), 'lastFailure', String(at));
  }

  /** When a poll last succeeded (epoch ms, as stored), or null before any has. */
  async lastSuccess(): Promise<string | null> {
    return this.redis.hget(this.keys.pollHealth(), 'lastSuccess');
  }

  /**
   * A poll of `jobType` that started at `startedAt` succeeded: ends the type's failing spell unless
   * a failure newer than this success began it. Answers how many of `jobTypes` are still failing;
   * a spell of a type not among them is dropped.
   */
  async endFailingSpell(jobType: string, startedAt: number, jobTypes: readonly string[]): Promise<number> {
    return Number(await this.scripts.gemwatchPollHealthClear(this.keys.pollHealth(), FAILING_SINCE + jobType, String(startedAt), ...jobTypes));
  }

  /**
   * A poll of `jobType` that started at `startedAt` failed: begins the type's failing spell unless
   * one is going on. Answers the earliest start (epoch ms) of any spell of `jobTypes`, NaN when
   * none; a spell of a type not among them is dropped.
   */
  async recordFailingSpell(jobType: string, startedAt: number, jobTypes: readonly string[]): Promise<number> {
    return Number(await this.scripts.gemwatchPollHealthFail(this.keys.pollHealth(), FAILING_SINCE + jobType, String(startedAt), ...jobTypes));
  }
}
