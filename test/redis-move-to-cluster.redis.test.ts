import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runChecks, type CheckResult } from '../src/check.js';
import type { Config } from '../src/config/schema.js';
import type { WatchPipeline } from '../src/queue/pipeline.js';
import { GemSimulator } from '../src/simulator/gem-simulator.js';
import { LogCapture, testConfig, testPipeline } from './helpers/pipeline.js';
import { startRedis, type TestRedis } from './helpers/redis.js';
import { startRedisCluster, type TestCluster } from './helpers/redis-topologies.js';

/**
 * The move the README describes under "Managed and clustered Redis": from one server with the
 * prefix `gemwatch` to a Redis Cluster with `{gemwatch}`, carrying the state by renaming the keys
 * and importing them with redis-cli.
 */
const sim = new GemSimulator({ apiKey: 'move-key' });
let single: TestRedis;
let cluster: TestCluster;

beforeAll(async () => {
  await sim.start();
  single = await startRedis();
  cluster = await startRedisCluster({ masters: 3 });
}, 120_000);
afterAll(async () => {
  await sim.stop();
  await single?.close();
  await cluster?.close();
});

function pipeline(config: Config): WatchPipeline {
  return testPipeline(config, {}, new LogCapture('warn').logger);
}

async function notifyTaskIds(p: WatchPipeline): Promise<string[]> {
  const tasks = await p.notifyQueue.getJobs(['waiting', 'delayed', 'active', 'completed', 'failed', 'prioritized']);
  return tasks.map((task) => task.id!).sort();
}

describe('moving a deployment from one server to a Redis Cluster', () => {
  it('keeps the state, the queued announcements and the first sync when the keys are renamed to {gemwatch} and imported', async () => {
    sim.upsertJob({ id: 'm1', status: 'running' });
    sim.upsertJob({ id: 'm2', status: 'finished' });
    sim.setStatus('m2', 'finished');
    const before = pipeline(testConfig(sim, single.url, { GEM_WATCH_PREFIX: 'gemwatch' }));
    await before.pollOnce();
    sim.setStatus('m1', 'finished');
    expect((await before.pollOnce()).map((t) => `${t.jobId}:${t.to}`)).toEqual(['m1:finished']);
    const queued = await notifyTaskIds(before);
    expect(queued).toHaveLength(2);
    await before.stop(2_000);

    // 1. With every daemon stopped: rename gemwatch:* to {gemwatch}:* on the old server.
    const client = single.client();
    const keys = await client.keys('gemwatch:*');
    for (const key of keys) await client.rename(key, `{gemwatch}${key.slice('gemwatch'.length)}`);
    expect(await client.keys('gemwatch:*')).toEqual([]);
    client.disconnect();
    // 2. Copy every key into the cluster (all of them hash to the slot of {gemwatch}).
    const imported = spawnSync('redis-cli', ['--cluster', 'import', `127.0.0.1:${cluster.ports[0]}`, '--cluster-from', `127.0.0.1:${single.port}`, '--cluster-copy', '--cluster-replace'], { encoding: 'utf8', timeout: 60_000 });
    expect(imported.status, imported.stdout + imported.stderr).toBe(0);

    // 3. The daemon on the cluster, default prefix: nothing is announced again, the first sync is
    // not repeated, the queued announcements are still there, and new changes are announced.
    const config = testConfig(sim, cluster.url(), { GEM_WATCH_PREFIX: undefined });
    expect(config.redis.prefix).toBe('{gemwatch}');
    const after = pipeline(config);
    try {
      expect(await after.pollOnce()).toEqual([]);
      expect(await notifyTaskIds(after)).toEqual(queued);
      sim.upsertJob({ id: 'm3', status: 'running' });
      expect((await after.pollOnce()).map((t) => `${t.jobId}:${t.from ?? 'new'}->${t.to}`)).toEqual(['m3:new->running']);
      sim.setStatus('m3', 'failed');
      expect((await after.pollOnce()).map((t) => `${t.jobId}:${t.from}->${t.to}`)).toEqual(['m3:running->failed']);
    } finally {
      await after.stop(2_000);
    }
  });

  it('check warns for every master of a cluster without replicas, naming the one that serves the prefix', async () => {
    const results: CheckResult[] = [];
    await runChecks(testConfig(sim, cluster.url([cluster.ports[1]!]), { GEM_WATCH_PREFIX: undefined }), { send: false, results, logger: new LogCapture('silent').logger });
    const warnings = results.filter((result) => result.what === 'redis' && /has no replica/.test(result.detail));
    expect(warnings).toHaveLength(3);
    expect(warnings.every((warning) => warning.verdict === 'warn')).toBe(true);
    const owner = await cluster.masterOf(await cluster.slotOf('{gemwatch}:jobs'));
    expect(warnings.filter((warning) => warning.detail.endsWith('and gem-watch with them')).map((warning) => warning.detail)).toEqual([expect.stringContaining(`cluster master 127.0.0.1:${owner} (slots `)]);
  });
});
