import type { RedisClient } from './connection.js';
import type { Keys } from './keys.js';

/**
 * Markers of stuck and overdue alerts already dispatched, one per (job, status version, condition):
 * `alert:job:<alert key>`, kept for longer than BullMQ keeps the alert's tasks.
 */
export class JobAlertMarks {
  constructor(
    private readonly redis: RedisClient,
    private readonly keys: Keys,
  ) {}

  /** Whether the alert named by `alertKey` (domain/overdue.ts jobAlertKey) was dispatched. */
  async isSent(alertKey: string): Promise<boolean> {
    return (await this.redis.exists(this.keys.jobAlertSent(alertKey))) === 1;
  }

  /** Marks the alert dispatched at `at` (epoch ms) to `destinations`, for `ttlMs`. */
  async markSent(alertKey: string, at: number, destinations: number, ttlMs: number): Promise<void> {
    await this.redis.set(this.keys.jobAlertSent(alertKey), JSON.stringify({ at, destinations }), 'PX', ttlMs);
  }
}
