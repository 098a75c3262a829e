import type { QueueOptions } from 'bullmq';
import { Redis, type RedisOptions } from 'ioredis';
import type { Logger } from '../telemetry/logger.js';
import { errorText } from '../telemetry/redact.js';

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
    if (!down) logger.warn({ connection: name, error: redisFailureText(error) }, 'redis connection error');
    down = true;
  });
  redis.on('ready', () => {
    if (down) logger.info({ connection: name }, 'redis connection restored');
    down = false;
  });
  return redis;
}

/** True for Redis's refusal of the credentials (or of their absence). */
export function isRedisAuthError(error: unknown): boolean {
  return /\b(WRONGPASS|NOAUTH)\b/.test(errorText(error));
}

/** True when Redis refused to SELECT the database REDIS_URL names (beyond its `databases`). */
export function isRedisDatabaseError(error: unknown): boolean {
  return /DB index is out of range/i.test(errorText(error));
}

/**
 * A Redis failure in words an operator can act on, naming REDIS_URL when the fix is there. Never
 * quotes the URL or the password: Redis's own texts for these cases hold neither.
 */
export function redisFailureText(error: unknown): string {
  const text = errorText(error);
  if (/\bWRONGPASS\b/.test(text)) return `Redis refused the user name or password in REDIS_URL (${text})`;
  if (/\bNOAUTH\b/.test(text)) return `Redis requires a password and REDIS_URL gives none (${text})`;
  if (/DB index is out of range/i.test(text)) return `the database number in REDIS_URL is beyond what this Redis has (its "databases" setting) (${text})`;
  return text;
}

/**
 * Entries kept in each queue's event stream. Nothing in gem-watch reads the stream (no
 * QueueEvents); BullMQ's default of 10,000 was ~1 MB of Redis per queue. Each `new Queue` writes
 * this setting into the queue's meta, so every Queue gem-watch opens must take it from here.
 */
export const QUEUE_EVENTS_MAX_LEN = 1_000;

/** Options every gem-watch Queue is opened with: connection, key prefix, event stream cap. */
export function queueOptions(connection: Redis, prefix: string): QueueOptions {
  return { connection, prefix, streams: { events: { maxLen: QUEUE_EVENTS_MAX_LEN } } };
}
