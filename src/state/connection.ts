import { Redis, type RedisOptions } from 'ioredis';

/**
 * What a connection tells its owner about outages. ioredis repeats the same error on every
 * reconnect attempt: `onDown` hears the first of each outage only, `onRestored` its end.
 */
export interface ConnectionEvents {
  /** The first error of an outage (or of a connection that never came up). */
  onDown?: (error: Error) => void;
  /** Ready again after an outage. */
  onRestored?: () => void;
}

/**
 * A Redis connection for gem-watch and BullMQ. `maxRetriesPerRequest: null` is what BullMQ
 * requires of worker connections, and it makes commands wait out a Redis restart instead of failing;
 * reconnection backs off up to 2 s and never gives up. rediss:// URLs get TLS from ioredis itself.
 */
export function createRedis(url: string, name: string, events: ConnectionEvents = {}, overrides: RedisOptions = {}): Redis {
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
    if (!down) events.onDown?.(error);
    down = true;
  });
  redis.on('ready', () => {
    if (down) events.onRestored?.();
    down = false;
  });
  return redis;
}
