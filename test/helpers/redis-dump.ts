import type { Redis } from 'ioredis';

/**
 * Every key and value stored under each of `prefixes` (keys `<prefix>:*`), whatever the key type,
 * as one text: what the secret-leak tests search for a secret that must never be stored.
 */
export async function dumpRedis(client: Redis, prefixes: readonly string[]): Promise<string> {
  const parts: string[] = [];
  for (const prefix of prefixes) {
    let cursor = '0';
    do {
      const [next, found] = await client.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 500);
      cursor = next;
      for (const key of found) {
        const type = await client.type(key);
        parts.push(key);
        if (type === 'string') parts.push((await client.get(key)) ?? '');
        else if (type === 'hash') parts.push(JSON.stringify(await client.hgetall(key)));
        else if (type === 'list') parts.push(JSON.stringify(await client.lrange(key, 0, -1)));
        else if (type === 'set') parts.push(JSON.stringify(await client.smembers(key)));
        else if (type === 'zset') parts.push(JSON.stringify(await client.zrange(key, 0, -1)));
        else if (type === 'stream') parts.push(JSON.stringify(await client.xrange(key, '-', '+')));
      }
    } while (cursor !== '0');
  }
  return parts.join('\n');
}
