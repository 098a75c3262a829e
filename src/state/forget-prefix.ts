import { createRedis, primaryNodes, type RedisTarget } from './connection.js';
import { Keys } from './keys.js';

/**
 * Deletes every key under `prefix` (gem-watch's and BullMQ's) from the Redis `target` names, on a
 * connection of its own: for a demo run against a Redis it did not start, under a unique prefix.
 * On a cluster each master is scanned, since SCAN answers for one node only.
 */
export async function forgetPrefix(target: RedisTarget, prefix: string): Promise<void> {
  const redis = createRedis(target, 'forget-prefix', {}, { maxRetriesPerRequest: 1, lazyConnect: true });
  try {
    await redis.connect();
    const pattern = new Keys(prefix).everything();
    for (const node of primaryNodes(redis)) {
      let cursor = '0';
      do {
        const [next, keys] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', 500);
        cursor = next;
        // One by one through the client, which routes each key to its slot's node.
        for (const key of keys) await redis.unlink(key);
      } while (cursor !== '0');
    }
  } finally {
    redis.disconnect();
  }
}
