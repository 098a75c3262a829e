import type { Redis } from 'ioredis';

/** Calls per Redis command name, from INFO commandstats. */
export type CommandCounts = Map<string, number>;

/** A point-in-time reading of the Redis server the daemon uses. */
export interface RedisSnapshot {
  commands: CommandCounts;
  /** used_memory, bytes. */
  usedMemory: number;
  /** used_cpu_user + used_cpu_sys of the server, seconds. */
  cpuSeconds: number;
}

/**
 * Commands the benchmark itself sends while measuring (INFO is how it reads the others); they are
 * left out of every delta so the figures are the daemon's alone.
 */
const OWN_COMMANDS = new Set(['info']);

function parseInfo(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon > 0 && !line.startsWith('#')) out.set(line.slice(0, colon), line.slice(colon + 1));
  }
  return out;
}

/** Reads commandstats, memory and CPU in one INFO round trip per section. */
export async function snapshotRedis(redis: Redis): Promise<RedisSnapshot> {
  const [stats, memory, cpu] = await Promise.all([redis.info('commandstats'), redis.info('memory'), redis.info('cpu')]);
  const commands: CommandCounts = new Map();
  for (const [key, value] of parseInfo(stats)) {
    if (!key.startsWith('cmdstat_')) continue;
    const name = key.slice('cmdstat_'.length);
    const calls = /(?:^|,)calls=(\d+)/.exec(value);
    if (calls) commands.set(name, Number(calls[1]));
  }
  const mem = parseInfo(memory);
  const cpuInfo = parseInfo(cpu);
  return {
    commands,
    usedMemory: Number(mem.get('used_memory')),
    cpuSeconds: Number(cpuInfo.get('used_cpu_user')) + Number(cpuInfo.get('used_cpu_sys')),
  };
}

/** Calls per command between two snapshots, without the benchmark's own commands. */
export function commandDelta(before: RedisSnapshot, after: RedisSnapshot): CommandCounts {
  const out: CommandCounts = new Map();
  for (const [name, calls] of after.commands) {
    if (OWN_COMMANDS.has(name)) continue;
    const delta = calls - (before.commands.get(name) ?? 0);
    if (delta > 0) out.set(name, delta);
  }
  return out;
}

export function totalCalls(counts: CommandCounts): number {
  let total = 0;
  for (const calls of counts.values()) total += calls;
  return total;
}

/** The `n` commands called most, as [name, calls]. */
export function topCommands(counts: CommandCounts, n: number): Array<[string, number]> {
  return [...counts.entries()].sort((a, b) => b[1] - a[1]).slice(0, n);
}

/** Bytes per kind of key, for "what holds the memory": a SCAN of the whole keyspace with MEMORY USAGE. */
export async function memoryByKeyKind(redis: Redis, classify: (key: string) => string): Promise<Map<string, { keys: number; bytes: number }>> {
  const out = new Map<string, { keys: number; bytes: number }>();
  let cursor = '0';
  // Bounded: at most 2,000 SCAN pages, far beyond the benchmark's key counts.
  for (let page = 0; page < 2_000; page += 1) {
    const [next, keys] = await redis.scan(cursor, 'COUNT', 1000);
    if (keys.length > 0) {
      const pipeline = redis.pipeline();
      // SAMPLES 0 measures every element of a hash or stream, exact rather than estimated.
      for (const key of keys) pipeline.memory('USAGE', key, 'SAMPLES', 0);
      const replies = (await pipeline.exec()) ?? [];
      keys.forEach((key, index) => {
        const bytes = Number(replies[index]?.[1] ?? 0);
        const kind = classify(key);
        const entry = out.get(kind) ?? { keys: 0, bytes: 0 };
        entry.keys += 1;
        entry.bytes += bytes;
        out.set(kind, entry);
      });
    }
    cursor = next;
    if (cursor === '0') break;
  }
  return out;
}
