import type { RedisClient } from './connection.js';
import type { Keys } from './keys.js';
import { withScripts, type ScriptCommands } from './scripts.js';

/**
 * A per-endpoint rate gate in Redis, shared by every replica: at most one message per interval to
 * one Slack webhook (Slack allows about one a second per webhook), and none at all before a
 * Retry-After the endpoint sent has passed. Time is Redis's own (`TIME`), so replicas with skewed
 * clocks agree. A caller that finds the gate shut is told how long to wait; the notify processor
 * then parks its task as delayed, which costs no attempt. Scripts: lua/rate-gate-acquire-1.lua,
 * lua/rate-gate-hold-1.lua.
 */

export class RateGate {
  private readonly scripts: ScriptCommands;

  constructor(
    redis: RedisClient,
    private readonly keys: Keys,
  ) {
    this.scripts = withScripts(redis);
  }

  /**
   * Takes the endpoint's next slot: 0 when the caller may send now, else the milliseconds until
   * the gate opens (the caller waits and asks again). `intervalMs` 0 only honours holds.
   */
  async acquire(channel: string, target: string, intervalMs: number): Promise<number> {
    const result = await this.scripts.gemwatchRateGateAcquire(this.keys.rateGate(channel, target), String(Math.max(0, Math.round(intervalMs))));
    return Number(result);
  }

  /** Shuts the endpoint's gate for `ms` from now (a Retry-After); never shortens an existing hold. */
  async hold(channel: string, target: string, ms: number): Promise<void> {
    await this.scripts.gemwatchRateGateHold(this.keys.rateGate(channel, target), String(Math.max(1, Math.ceil(ms))));
  }
}
