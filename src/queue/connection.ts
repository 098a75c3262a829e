import { Redis, type RedisOptions } from 'ioredis';
import type { Logger } from '../observability/logger.js';
import { errorText } from '../observability/redact.js';

/**
 * A Redis connection for gem-watch and BullMQ. `maxRetriesPerRequest: null` is what BullMQ
 * requires of worker connections, and it makes commands wait out a Redis restart instead of failing;
 * reconnection backs off up to 2 s and never gives up. rediss:// URLs get TLS from ioredis itself.
 */
export function createRedis(url: string, logger: Logger, name: string, overrides: RedisOptions = {}): Redis {
  const redis = new Redis(url, {
    maxRetriesPerRequest: null,
    enableReadyCheck: true,
    connectionName: `gem-watch:${name}`,
    retryStrategy: (times) => Math.min(100 * 2 ** Math.min(times, 5), 2_000),
    reconnectOnError: (error) => error.message.startsWith('READONLY') || error.message.startsWith('LOADING'),
    ...overrides,
  });
  let down = false;
  redis.on('error', (error) => {
    // ioredis repeats the same error on every reconnect attempt: log the first of each outage.
    if (!down) logger.warn({ connection: name, error: errorText(error) }, 'redis connection error');
    down = true;
  });
  redis.on('ready', () => {
    if (down) logger.info({ connection: name }, 'redis connection restored');
    down = false;
  });
  return redis;
}
