import type { RedisClient } from './connection.js';

/**
 * A lock held by a named holder (`SET key holder PX ttl NX`), taken together with a read that
 * rides in the same round trip, behind the SET on the one connection: a holder writes what it
 * must before it releases, so once the lock is ours the read sees every earlier holder's writes.
 * Released with lua/release-lock-1.lua (compare-and-delete), by the store that owns the key.
 */

/** The lock taken with the read's value, or held by another for `ttlMs` more (≤ 0 when unknown). */
export type HeldLock<T> = { locked: true; value: T } | { locked: false; ttlMs: number };

export async function takeLockWith<T>(redis: RedisClient, lockKey: string, holder: string, ttlMs: number, read: Promise<T>): Promise<HeldLock<T>> {
  const [locked, value] = await Promise.all([redis.set(lockKey, holder, 'PX', ttlMs, 'NX'), read]);
  // A SET applied by Redis whose reply was lost (a restart, a network blip) is sent again by
  // ioredis after reconnecting and then answers nil: the lock is ours all the same.
  if (locked !== 'OK' && (await redis.get(lockKey)) !== holder) return { locked: false, ttlMs: await redis.pttl(lockKey) };
  return { locked: true, value };
}

/** A MULTI's replies, or the first command's error (or a discarded MULTI) thrown. */
export function execReplies(replies: Array<[Error | null, unknown]> | null): Array<[Error | null, unknown]> {
  const failure = replies?.find(([error]) => error);
  if (!replies || failure) throw failure?.[0] ?? new Error('MULTI was discarded');
  return replies;
}
