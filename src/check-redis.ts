import type { Cluster, Redis } from 'ioredis';
import { redisTarget } from './config/redis-url.js';
import type { Config } from './config/schema.js';
import { createRedis, isCluster, primaryNodes } from './state/connection.js';
import { Keys } from './state/keys.js';
import { isRedisAuthError, isRedisDatabaseError, redisFailureText } from './telemetry/redis-failure.js';

const MIN_REDIS = [6, 2];

/** How `check` prints one finding (see check.ts). */
export type CheckLine = (verdict: 'ok' | 'warn' | 'fail', what: string, detail: string, setting?: boolean) => void;

/** `field:value` lines of an INFO answer. */
function infoFields(info: string): Map<string, string> {
  const fields = new Map<string, string>();
  for (const line of info.split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon > 0 && !line.startsWith('#')) fields.set(line.slice(0, colon), line.slice(colon + 1).trim());
  }
  return fields;
}

function address(node: Redis): string {
  const { host, port } = node.options;
  return `${host ?? '?'}:${port ?? '?'}`;
}

/** Persistence of one primary in words, and whether a restart would lose gem-watch's state. */
async function persistence(node: Redis, fields: Map<string, string>): Promise<{ text: string; none: boolean }> {
  const aof = fields.get('aof_enabled') === '1';
  // INFO does not say whether snapshots are scheduled; CONFIG may be refused on managed services.
  let save: string | undefined;
  try {
    const answer = (await node.config('GET', 'save')) as string[];
    save = answer[1] ?? '';
  } catch {
    save = undefined;
  }
  const rdb = save === undefined ? undefined : save.trim() !== '';
  const parts = [aof ? `AOF on (appendfsync ${fields.get('aof_fsync') ?? (await appendfsync(node)) ?? '?'})` : 'AOF off', rdb === undefined ? 'RDB schedule unknown (CONFIG GET refused)' : rdb ? `RDB snapshots (save ${save})` : 'RDB snapshots off'];
  return { text: parts.join(', '), none: !aof && rdb === false };
}

async function appendfsync(node: Redis): Promise<string | undefined> {
  try {
    return ((await node.config('GET', 'appendfsync')) as string[])[1];
  } catch {
    return undefined;
  }
}

/** Version, eviction policy and persistence of one primary, one line each. */
async function checkPrimary(node: Redis, label: string, line: CheckLine): Promise<void> {
  const fields = infoFields(await node.info());
  const version = fields.get('redis_version') ?? '0';
  const policy = fields.get('maxmemory_policy') ?? 'unknown';
  const [major = 0, minor = 0] = version.split('.').map(Number);
  const oldRedis = major < MIN_REDIS[0]! || (major === MIN_REDIS[0] && minor < MIN_REDIS[1]!);
  line(oldRedis ? 'fail' : 'ok', 'redis', `${label}version ${version}${oldRedis ? ' (gem-watch needs 6.2 or later)' : ''}`);
  line(
    policy === 'noeviction' ? 'ok' : 'warn',
    'redis',
    policy === 'noeviction' ? `${label}maxmemory-policy noeviction` : `${label}maxmemory-policy ${policy}: Redis may evict queue and state keys; set noeviction`,
  );
  const kept = await persistence(node, fields);
  line(
    kept.none ? 'warn' : 'ok',
    'redis',
    kept.none ? `${label}persistence: ${kept.text}: a restart empties the queues and the state (the next poll then records every job silently as a first sync)` : `${label}persistence: ${kept.text}`,
  );
}

/** Replicas a primary reports in INFO replication, as `host:port` (online ones only). */
function replicasOf(fields: Map<string, string>): string[] {
  const out: string[] = [];
  for (const [key, value] of fields) {
    if (!/^slave\d+$/.test(key)) continue;
    const ip = /ip=([^,]+)/.exec(value)?.[1];
    const port = /port=(\d+)/.exec(value)?.[1];
    if (/state=online/.test(value)) out.push(`${ip}:${port}`);
  }
  return out;
}

async function checkCluster(redis: Cluster, config: Config, line: CheckLine): Promise<Redis[]> {
  const masters = primaryNodes(redis);
  const clusterInfo = infoFields((await redis.cluster('INFO')) as string);
  const state = clusterInfo.get('cluster_state') ?? 'unknown';
  // A key of the prefix, e.g. {gemwatch}:jobs: every key of the deployment hashes as it does.
  const slot = Number(await redis.cluster('KEYSLOT', new Keys(config.redis.prefix).jobs()));
  const shards = (await redis.cluster('SLOTS')).map(([from, to, ...nodes]) => ({ from, to, master: nodes[0] }));
  const owner = shards.find(({ from, to }) => slot >= from && slot <= to)?.master;
  const ownerText = owner ? `${owner[0]}:${owner[1]}` : 'no node (the slot is not served)';
  line(
    state === 'ok' && owner ? 'ok' : 'fail',
    'redis',
    `topology: Redis Cluster of ${masters.length} master(s), cluster_state ${state}; prefix ${config.redis.prefix} is in slot ${slot}, served by ${ownerText}`,
  );
  // CLUSTER SLOTS leaves out a replica that has not yet reported a replication offset: the node
  // table says who replicates whom.
  const table = ((await redis.cluster('NODES')) as string)
    .split('\n')
    .filter((row) => row.trim() !== '')
    .map((row) => row.split(' '));
  const ownerSlots = new Map<string, string[]>();
  for (const { from, to, master } of shards) {
    if (!master) continue;
    const id = String(master[2]);
    ownerSlots.set(id, [...(ownerSlots.get(id) ?? []), from === to ? `${from}` : `${from}-${to}`]);
  }
  for (const [id, ranges] of ownerSlots) {
    const replicas = table.filter((fields) => fields[3] === id && !/fail/.test(fields[2] ?? ''));
    if (replicas.length > 0) continue;
    const row = table.find((fields) => fields[0] === id);
    const at = row?.[1]?.replace(/@.*$/, '') ?? id;
    const servesPrefix = shards.some(({ from, to, master }) => master && String(master[2]) === id && from <= slot && slot <= to);
    line('warn', 'redis', `cluster master ${at} (slots ${ranges.join(', ')}) has no replica: if it fails, its slots stay down until it returns${servesPrefix ? ', and gem-watch with them' : ''}`);
  }
  return masters;
}

/**
 * The Redis part of `gem-watch check`: the topology REDIS_URL names (one server; a cluster with its
 * masters and the slot of the prefix; a Sentinel-managed primary with its replicas), then version,
 * maxmemory-policy and persistence of every primary. A missing replica is a warning: the daemon runs,
 * but a failure of that node stops it (or, with no persistence, loses its state).
 */
export async function checkRedis(config: Config, line: CheckLine): Promise<void> {
  const target = redisTarget(config.redis);
  const redis = createRedis(target, 'check', {}, { lazyConnect: true, maxRetriesPerRequest: 0, connectTimeout: 5_000, retryStrategy: () => null });
  // ioredis reports a refused AUTH (or the NOAUTH of the ready check) only as an `error` event and
  // then rejects connect() with "Connection is closed.", and a refused SELECT (a database beyond the
  // server's count) only as an event before carrying on in database 0: keep the event to say so.
  let refusal: unknown;
  redis.on('error', (error: unknown) => {
    refusal ??= error;
  });
  try {
    await redis.connect();
    await redis.ping();
    if (refusal !== undefined) throw refusal;
    let primaries: Redis[];
    if (isCluster(redis)) {
      primaries = await checkCluster(redis, config, line);
    } else {
      const fields = infoFields(await redis.info('replication'));
      const role = fields.get('role') ?? 'unknown';
      const replicas = replicasOf(fields);
      const where = `${redis.stream?.remoteAddress ?? '?'}:${redis.stream?.remotePort ?? '?'}`;
      if (target.mode === 'sentinel') {
        line(role === 'master' ? 'ok' : 'fail', 'redis', `topology: Sentinel master "${target.masterName}", primary at ${where} (role ${role}), ${replicas.length} replica(s)${replicas.length ? ` (${replicas.join(', ')})` : ''}`);
        if (replicas.length === 0) line('warn', 'redis', 'the Sentinel master has no replica online: Sentinel has nothing to promote if the primary fails');
      } else {
        line(role === 'master' ? 'ok' : 'warn', 'redis', `topology: one server at ${where} (role ${role}), ${replicas.length} replica(s)${role === 'master' ? '' : ': a replica refuses writes; point REDIS_URL at the primary'}`);
      }
      primaries = [redis];
    }
    for (const node of primaries) await checkPrimary(node, primaries.length > 1 ? `${address(node)}: ` : '', line);
  } catch (error) {
    const cause = refusal ?? error;
    line('fail', 'redis', `cannot use Redis: ${redisFailureText(cause)}`, isRedisAuthError(cause) || isRedisDatabaseError(cause));
  } finally {
    redis.disconnect();
  }
}
