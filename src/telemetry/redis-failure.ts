import type { Logger } from './logger.js';
import { errorText } from './redact.js';

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
  // ioredis's words when no Sentinel gave a primary: unreachable, refusing REDIS_SENTINEL_PASSWORD,
  // or not knowing the master name. Its last error names the Sentinels' refusal, not the URL's.
  if (/All sentinels are unreachable/i.test(text)) {
    if (/\b(WRONGPASS|NOAUTH)\b/.test(text)) return `the Sentinels refused REDIS_SENTINEL_PASSWORD, or require one and it is not set (${text})`;
    return `no Sentinel named a primary: check the Sentinel hosts and the master name in REDIS_URL, and REDIS_SENTINEL_PASSWORD if the Sentinels require one (${text})`;
  }
  if (/\bWRONGPASS\b/.test(text)) return `Redis refused the user name or password in REDIS_URL (${text})`;
  if (/\bNOAUTH\b/.test(text)) return `Redis requires a password and REDIS_URL gives none (${text})`;
  if (/DB index is out of range/i.test(text)) return `the database number in REDIS_URL is beyond what this Redis has (its "databases" setting) (${text})`;
  if (/Failed to refresh slots cache|None of startup nodes is available/i.test(text)) {
    return `no cluster node answered with the slot map: check the seed hosts in REDIS_URL (${text})`;
  }
  if (/CLUSTERDOWN/.test(text)) return `the Redis Cluster is down (a slot has no master) (${text})`;
  return text;
}

/**
 * The log lines of a connection's outages, for state/connection.ts's `createRedis`: a warning at the
 * first error of each outage, a line when it is over.
 */
export function connectionLog(logger: Logger, name: string): { onDown: (error: Error) => void; onRestored: () => void } {
  return {
    onDown: (error) => logger.warn({ connection: name, error: redisFailureText(error) }, 'redis connection error'),
    onRestored: () => logger.info({ connection: name }, 'redis connection restored'),
  };
}
