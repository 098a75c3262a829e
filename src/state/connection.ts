import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';

/**
 * A connection gem-watch and BullMQ use: one server (directly or through Sentinels) or a Redis
 * Cluster. Both speak the same commands; a Cluster routes each by its key's slot and follows MOVED
 * and ASK. Code that must reach every node (SCAN, INFO) asks `clusterNodes`.
 */
export type RedisClient = Redis | Cluster;

/** A host and port of a cluster seed or a Sentinel. */
export interface RedisHostPort {
  host: string;
  port: number;
}

/**
 * What to connect to: REDIS_URL as config/redis-url.ts parses it (config/ sits below state/ and
 * imports nothing, so the parser's result is accepted here by its shape), with the Sentinels'
 * password beside it.
 */
export type RedisTarget =
  | { mode: 'standalone'; url: string }
  | { mode: 'cluster'; nodes: RedisHostPort[]; username?: string; password?: string; tls: boolean }
  | { mode: 'sentinel'; sentinels: RedisHostPort[]; masterName: string; username?: string; password?: string; tls: boolean; sentinelPassword?: string };

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

/** True when the client is a Redis Cluster client. */
export function isCluster(redis: RedisClient): redis is Cluster {
  return (redis as { isCluster?: boolean }).isCluster === true;
}

/**
 * The data nodes behind a client: the masters of a cluster (each owns some slots), or the client
 * itself. For commands that answer about one node (INFO, CONFIG GET, SCAN).
 */
export function primaryNodes(redis: RedisClient): Redis[] {
  return isCluster(redis) ? redis.nodes('master') : [redis];
}

/** Options a Cluster takes itself; the rest go to the connection of each node (`redisOptions`). */
const CLUSTER_LEVEL = new Set(['enableOfflineQueue', 'enableReadyCheck', 'lazyConnect', 'enableAutoPipelining', 'retryStrategy', 'scripts']);

function clusterOptions(base: RedisOptions, tls: boolean, credentials: { username?: string; password?: string }): ClusterOptions {
  const redisOptions: Record<string, unknown> = { ...credentials, ...(tls ? { tls: {} } : {}) };
  const options: ClusterOptions = {
    // A slot map is refreshed on MOVED at once; this also notices a failover nobody hit yet.
    slotsRefreshInterval: 5_000,
    // The cluster is retried as long as a single server would be (ioredis gives up after the
    // first attempt when the seeds are unreachable unless told otherwise).
    clusterRetryStrategy: (times) => Math.min(100 * 2 ** Math.min(times, 5), 2_000),
    // After a failover the old master answers for a moment before the map is updated.
    retryDelayOnFailover: 200,
    retryDelayOnClusterDown: 300,
    retryDelayOnTryAgain: 200,
  };
  // Managed services (ElastiCache, Azure) announce nodes by IP but sign their certificate for the
  // host name: keep the name the operator gave so TLS checks it against the certificate.
  if (tls) options.dnsLookup = (address, callback) => callback(null, address);
  for (const [key, value] of Object.entries(base)) {
    if (key === 'retryStrategy') {
      options.clusterRetryStrategy = value as ClusterOptions['clusterRetryStrategy'];
    } else if (CLUSTER_LEVEL.has(key)) {
      (options as Record<string, unknown>)[key] = value;
    } else {
      redisOptions[key] = value;
    }
  }
  options.redisOptions = redisOptions as ClusterOptions['redisOptions'];
  return options;
}

/**
 * A Redis connection for gem-watch and BullMQ, of the topology REDIS_URL names.
 * `maxRetriesPerRequest: null` is what BullMQ requires of worker connections, and it makes commands
 * wait out a Redis restart or a failover instead of failing; reconnection backs off up to 2 s and
 * never gives up. rediss:// URLs get TLS from ioredis itself; the +cluster and +sentinel forms get it
 * here. A server that became a replica (a failover) answers READONLY: that reconnects, and through
 * Sentinel the reconnection asks for the new primary.
 */
export function createRedis(target: RedisTarget, name: string, events: ConnectionEvents = {}, overrides: RedisOptions = {}): RedisClient {
  const base: RedisOptions = {
    maxRetriesPerRequest: null,
    enableReadyCheck: true,
    connectionName: `gem-watch:${name}`,
    retryStrategy: (times) => Math.min(100 * 2 ** Math.min(times, 5), 2_000),
    reconnectOnError: (error) => error.message.startsWith('READONLY') || error.message.startsWith('LOADING'),
    ...overrides,
  };
  let redis: RedisClient;
  if (target.mode === 'standalone') {
    redis = new Redis(target.url, base);
  } else if (target.mode === 'sentinel') {
    redis = new Redis({
      ...base,
      sentinels: target.sentinels,
      name: target.masterName,
      ...(target.username ? { username: target.username } : {}),
      ...(target.password ? { password: target.password } : {}),
      ...(target.sentinelPassword ? { sentinelPassword: target.sentinelPassword } : {}),
      ...(target.tls ? { tls: {}, enableTLSForSentinelMode: true, sentinelTLS: {} } : {}),
      // Hears +switch-master from the Sentinels and moves at once, instead of when the old primary
      // first refuses a write or drops the connection.
      failoverDetector: true,
      // Asked again as long as the data connection would be; a one-shot command (retryStrategy
      // null) gives up on the Sentinels as at once as on a server.
      sentinelRetryStrategy: overrides.retryStrategy ?? ((times) => Math.min(100 * 2 ** Math.min(times, 5), 2_000)),
    });
  } else {
    const credentials = { ...(target.username ? { username: target.username } : {}), ...(target.password ? { password: target.password } : {}) };
    redis = new Cluster(target.nodes, clusterOptions(base, target.tls, credentials));
  }
  let down = false;
  redis.on('error', (error: Error) => {
    if (!down) events.onDown?.(error);
    down = true;
  });
  redis.on('ready', () => {
    if (down) events.onRestored?.();
    down = false;
  });
  return redis;
}
