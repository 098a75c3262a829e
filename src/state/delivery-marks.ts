import type { RedisClient } from './connection.js';
import { GatheringStore, type SentGathering } from './gathering-store.js';
import { execReplies, takeLockWith } from './holder-lock.js';
import type { Keys } from './keys.js';
import { withScripts, type ScriptCommands } from './scripts.js';

/**
 * The delivery lock and the delivered marker of notify tasks (protocol: docs/architecture.md,
 * "Delivery and its crash window"): `delivering:<task>` lets one sender at a time work on a task,
 * `delivered:<task>` says a send succeeded, so a retry or a replay does not send again.
 *
 * Order on the connection carries the protocol, so every method issues its commands before its
 * first await: a marker write followed by a release leaves in that order, and Redis applies them
 * in that order.
 */

/** A task's lock taken (with the marker read in the same round trip), or held by another sender. */
export type DeliveryLock = { locked: true; marker: string | null } | { locked: false; ttlMs: number };

/** What a delivered marker is written with besides the task's own. */
export interface MarkExtras {
  /** Tasks this message delivered too (a group's members): each gets a marker `{ …, via }`. */
  covers?: ReadonlyArray<{ taskId: string }>;
  /** The gathering the message sent: its members and bookkeeping are removed with the markers. */
  gathering?: SentGathering;
}

export class DeliveryMarks {
  private readonly scripts: ScriptCommands;
  private readonly gatherings: GatheringStore;

  constructor(
    private readonly redis: RedisClient,
    private readonly keys: Keys,
  ) {
    this.scripts = withScripts(redis);
    this.gatherings = new GatheringStore(redis, keys);
  }

  /**
   * Takes the task's lock for `ttlMs` as `holder` and reads its marker in the same round trip,
   * after the lock on the same connection: a holder writes its marker before it releases, so a
   * marker written by anyone is seen here once the lock is ours. (Without the lock the read is
   * simply not used.) Held by another: how long its lock still lasts (ms; ≤ 0 when unknown).
   */
  async lock(taskId: string, holder: string, ttlMs: number): Promise<DeliveryLock> {
    const lock = await takeLockWith(this.redis, this.keys.deliveryLock(taskId), holder, ttlMs, this.redis.get(this.keys.delivered(taskId)));
    return lock.locked ? { locked: true, marker: lock.value } : lock;
  }

  /** Releases the task's lock if `holder` still owns it (lua/release-lock-1.lua). */
  async release(taskId: string, holder: string): Promise<void> {
    await this.scripts.gemwatchReleaseLock(this.keys.deliveryLock(taskId), holder);
  }

  /** Whether the task's delivered marker is there. */
  async isDelivered(taskId: string): Promise<boolean> {
    return (await this.redis.exists(this.keys.delivered(taskId))) === 1;
  }

  /**
   * Writes the task's delivered marker (`record` as JSON) for `ttlMs` and releases the task's lock
   * if `holder` still owns it, as one script (lua/mark-delivered-2.lua): the marker is in before
   * the lock goes, by atomicity. One command where a plain delivery's marker and release were two.
   */
  markAndRelease(taskId: string, holder: string, record: Record<string, unknown>, ttlMs: number): Promise<unknown> {
    return this.scripts.gemwatchMarkDelivered(this.keys.delivered(taskId), this.keys.deliveryLock(taskId), JSON.stringify(record), String(Math.max(1, Math.round(ttlMs))), holder);
  }

  /**
   * Writes the task's delivered marker (`record` as JSON) for `ttlMs`, with a group's members'
   * markers and its gathering's cleanup as one MULTI. The commands are queued on the connection
   * before this returns, so a command issued after it goes behind.
   */
  mark(taskId: string, record: Record<string, unknown>, ttlMs: number, { covers, gathering }: MarkExtras = {}): Promise<unknown> {
    if (!covers && !gathering) return this.redis.set(this.keys.delivered(taskId), JSON.stringify(record), 'PX', ttlMs);
    // A group message delivers its members too: their markers, its own and the gathering's
    // cleanup land in one MULTI, so a replayed member finds its marker whatever happens next.
    const multi = this.redis.multi().set(this.keys.delivered(taskId), JSON.stringify(record), 'PX', ttlMs);
    for (const member of covers ?? []) multi.set(this.keys.delivered(member.taskId), JSON.stringify({ ...record, via: taskId }), 'PX', ttlMs);
    if (gathering) this.gatherings.forget(multi, gathering);
    return multi.exec().then(execReplies);
  }
}
