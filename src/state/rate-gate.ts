import type { Redis } from 'ioredis';
import type { Keys } from './keys.js';

/**
 * A per-endpoint rate gate in Redis, shared by every replica: at most one message per interval to
 * one Slack webhook (Slack allows about one a second per webhook), and none at all before a
 * Retry-After the endpoint sent has passed. Time is Redis's own (`TIME`), so replicas with skewed
 * clocks agree. A caller that finds the gate shut is told how long to wait; the notify processor
 * then parks its task as delayed, which costs no attempt.
 */

/**
 * rate-gate-acquire-1
 * KEYS[1] gate key (value: epoch ms before which nothing may pass)
 * ARGV[1] interval in ms this pass reserves
 * Returns 0 when the caller may send now (and the gate now shuts for the interval), else the
 * milliseconds until it opens.
 */
const ACQUIRE = `
pcall(function() return redis.replicate_commands() end)
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local shutUntil = tonumber(redis.call('GET', KEYS[1]) or '0') or 0
if shutUntil > now then return shutUntil - now end
local interval = tonumber(ARGV[1])
if interval > 0 then redis.call('SET', KEYS[1], tostring(now + interval), 'PX', interval + 1000) end
return 0
`;

/**
 * rate-gate-hold-1
 * KEYS[1] gate key
 * ARGV[1] milliseconds from now during which nothing may pass
 * Extends the shut time, never shortens it. Returns the epoch ms (Redis clock) the gate opens.
 */
const HOLD = `
pcall(function() return redis.replicate_commands() end)
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local shutUntil = tonumber(redis.call('GET', KEYS[1]) or '0') or 0
local wanted = now + tonumber(ARGV[1])
if wanted > shutUntil then
  redis.call('SET', KEYS[1], tostring(wanted), 'PX', tonumber(ARGV[1]) + 1000)
  return wanted
end
return shutUntil
`;

export class RateGate {
  constructor(
    private readonly redis: Redis,
    private readonly keys: Keys,
  ) {}

  /**
   * Takes the endpoint's next slot: 0 when the caller may send now, else the milliseconds until
   * the gate opens (the caller waits and asks again). `intervalMs` 0 only honours holds.
   */
  async acquire(channel: string, target: string, intervalMs: number): Promise<number> {
    const result = await this.redis.eval(ACQUIRE, 1, this.keys.rateGate(channel, target), String(Math.max(0, Math.round(intervalMs))));
    return Number(result);
  }

  /** Shuts the endpoint's gate for `ms` from now (a Retry-After); never shortens an existing hold. */
  async hold(channel: string, target: string, ms: number): Promise<void> {
    await this.redis.eval(HOLD, 1, this.keys.rateGate(channel, target), String(Math.max(1, Math.ceil(ms))));
  }
}
