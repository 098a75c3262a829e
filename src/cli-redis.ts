import type { RedisClient } from './state/connection.js';
import { redisTarget, redisUrlHosts } from './config/redis-url.js';
import { createRedis } from './state/connection.js';
import { redisFailureText } from './telemetry/redis-failure.js';

/**
 * A one-shot command could not use Redis. The message is one line for the operator, naming the
 * host and port and what to check; never the password, never ioredis's internals.
 */
export class RedisUnavailableError extends Error {
  override readonly name = 'RedisUnavailableError';
  constructor(
    message: string,
    /** `unreachable`: no connection; `auth`: Redis refused or wants a password; `other`. */
    readonly reason: 'unreachable' | 'auth' | 'other',
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

const UNREACHABLE_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ECONNRESET', 'EPIPE']);

/**
 * Turns what ioredis reported into one line: unreachable (refused, unknown host, timeout), a
 * password refused (WRONGPASS, or `ERR invalid password` from Redis before 6) or required
 * (NOAUTH), else the scrubbed message.
 */
export function describeRedisFailure(error: unknown, url: string): RedisUnavailableError {
  const at = redisUrlHosts(url);
  const code = (error as { code?: unknown } | null)?.code;
  const message = error instanceof Error ? error.message : String(error);
  if (/^WRONGPASS|^ERR invalid password|^ERR AUTH/i.test(message)) {
    return new RedisUnavailableError(`Redis at ${at} refused the user name or password: check them in REDIS_URL`, 'auth', { cause: error });
  }
  if (/^NOAUTH/.test(message)) {
    return new RedisUnavailableError(`Redis at ${at} requires a password: give it in REDIS_URL (redis://:PASSWORD@${at})`, 'auth', { cause: error });
  }
  const reach = typeof code === 'string' && UNREACHABLE_CODES.has(code) ? code : /connect ETIMEDOUT|Connection is closed/i.test(message) ? 'no answer' : undefined;
  if (reach) return new RedisUnavailableError(`cannot reach Redis at ${at} (${reach}): is it running, and is REDIS_URL right?`, 'unreachable', { cause: error });
  return new RedisUnavailableError(`Redis at ${at}: ${redisFailureText(error)}`, 'other', { cause: error });
}

/**
 * Connects the Redis client of a one-shot command, and answers at once when Redis cannot be used:
 * such a command has nobody waiting for Redis to come back (unlike the daemon, which rides out an
 * outage). Connection errors are not logged: the command prints one line of its own instead.
 * Throws RedisUnavailableError.
 */
export async function connectCliRedis(settings: { url: string; sentinelPassword?: string }, name: string, options: { connectTimeoutMs?: number } = {}): Promise<RedisClient> {
  let lastError: unknown;
  const redis = createRedis(redisTarget(settings), name, {}, {
    lazyConnect: true,
    maxRetriesPerRequest: 1,
    connectTimeout: options.connectTimeoutMs ?? 5_000,
    // A failed connection ends the attempt: connect() below answers with the reason.
    retryStrategy: () => null,
  });
  redis.on('error', (error: unknown) => {
    lastError ??= error;
  });
  try {
    await redis.connect();
    // The ready check has run, but a server that requires no password for INFO still may for
    // our commands (ACLs): one PING shows it.
    await redis.ping();
  } catch (error) {
    redis.disconnect();
    throw describeRedisFailure(lastError ?? error, settings.url);
  }
  return redis;
}
