import { Redis } from 'ioredis';
import { Keys } from './keys.js';

/**
 * Deletes every key under `prefix` (gem-watch's and BullMQ's) from the Redis at `url`, on a
 * connection of its own: for a demo run against a Redis it did not start, under a unique prefix.
 */
export async function forgetPrefix(url: string, prefix: string): Promise<void> {
  const redis = new Redis(url, { maxRetriesPerRequest: 1, lazyConnect: true });
  redis.on('error', () => {});
  try {
    await redis.connect();
    const pattern = new Keys(prefix).everything();
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 500);
      cursor = next;
      if (keys.length > 0) await redis.unlink(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}
