import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { runChecks, type CheckResult } from '../src/check.js';
import type { Config } from '../src/config/schema.js';
import type { WatchPipeline } from '../src/queue/pipeline.js';
import { GemSimulator } from '../src/simulator/gem-simulator.js';
import { Keys } from '../src/state/keys.js';
import { QUEUE_NAMES } from '../src/queue/names.js';
import { LogCapture, testConfig, testPipeline, waitFor } from './helpers/pipeline.js';
import { uniquePrefix } from './helpers/redis.js';
import { runCli } from './helpers/run-cli.js';
import { startRedisCluster, startRedisSentinel, type TestCluster, type TestSentinel } from './helpers/redis-topologies.js';

const sim = new GemSimulator({ apiKey: 'topology-key' });
const open: WatchPipeline[] = [];

beforeAll(async () => {
  await sim.start();
});
afterAll(async () => {
  await sim.stop();
});
afterEach(async () => {
  await Promise.all(open.splice(0).map((pipeline) => pipeline.stop(5_000)));
  sim.clearJobs();
});

function pipeline(config: Config): WatchPipeline {
  const created = testPipeline(config, {}, new LogCapture('warn').logger);
  open.push(created);
  return created;
}

/** Notify task ids in the queue, whatever their state. */
async function notifyTaskIds(p: WatchPipeline): Promise<string[]> {
  const tasks = await p.notifyQueue.getJobs(['waiting', 'delayed', 'active', 'completed', 'failed', 'prioritized']);
  return tasks.map((task) => task.id!).sort();
}

/** A first sync, then a finished and a failed job: the transitions a pipeline must record once. */
async function finishAndFail(p: WatchPipeline, ids: [string, string]): Promise<string[]> {
  sim.upsertJob({ id: ids[0], status: 'running', progress: 10 });
  sim.upsertJob({ id: ids[1], status: 'queued' });
  await p.pollOnce();
  sim.setStatus(ids[0], 'finished');
  sim.setStatus(ids[1], 'failed');
  const found = await p.pollOnce();
  return found.map((t) => `${t.jobId}:${t.from}->${t.to}`).sort();
}

async function checkLines(config: Config): Promise<CheckResult[]> {
  const results: CheckResult[] = [];
  // The GEM part of check is not the point here; its lines are filtered out below.
  await runChecks(config, { send: false, results, logger: new LogCapture('silent').logger });
  return results.filter((result) => result.what === 'redis');
}

describe('on a Redis Cluster of three masters with a replica each', () => {
  let cluster: TestCluster;

  beforeAll(async () => {
    cluster = await startRedisCluster({ masters: 3, replicas: 1 });
  }, 120_000);
  afterAll(async () => {
    await cluster?.close();
  });

  /** Two masters that do not serve the slot of `prefix`: the seeds a new user might list. */
  async function seedsAwayFrom(prefix: string): Promise<number[]> {
    const owner = await cluster.masterOf(await cluster.slotOf(new Keys(prefix).jobs()));
    return (await cluster.masters()).filter((port) => port !== owner);
  }

  it('records a finished and a failed job once, enqueues their notify tasks, and keeps every key in the prefix slot, from two seeds that do not serve it', async () => {
    const prefix = `{${uniquePrefix('cl')}}`;
    const seeds = await seedsAwayFrom(prefix);
    expect(seeds).toHaveLength(2);
    const config = testConfig(sim, cluster.url(seeds), { GEM_WATCH_PREFIX: prefix });
    const p = pipeline(config);
    expect(await finishAndFail(p, ['c1', 'c2'])).toEqual(['c1:running->finished', 'c2:queued->failed']);
    expect(await p.pollOnce()).toEqual([]);
    expect(await notifyTaskIds(p)).toEqual([
      'notify-c1-v2-default-email-route',
      'notify-c1-v2-default-slack-default',
      'notify-c2-v2-default-email-route',
      'notify-c2-v2-default-slack-default',
    ]);

    const client = cluster.client();
    if (client.status !== 'ready') await new Promise((resolve) => client.once('ready', resolve));
    const slot = await cluster.slotOf(new Keys(prefix).jobs());
    const keys: string[] = [];
    for (const node of client.nodes('master')) keys.push(...(await node.keys(`${prefix}*`)));
    expect(keys.length).toBeGreaterThan(10);
    // BullMQ's keys (prefix:queue:...) and the state's alike.
    expect(keys.some((key) => key.startsWith(`${prefix}:${QUEUE_NAMES.notify}:`))).toBe(true);
    const slots = new Set(await Promise.all(keys.map((key) => cluster.slotOf(key))));
    expect([...slots]).toEqual([slot]);

    // A one-shot command on the same cluster, through the same seeds: it reads what the pipeline wrote.
    const status = await runCli(['status', '--all', '--json'], { PATH: process.env.PATH, HOME: process.env.HOME, LOG_LEVEL: 'warn', REDIS_URL: cluster.url(seeds), GEM_WATCH_PREFIX: prefix, GEM_JOB_TYPES: 'ROAD_MATCHING' });
    expect(status.code, status.stderr).toBe(0);
    expect(status.stdout).toContain('"c1"');
    expect(status.stdout).toContain('"c2"');
  });

  it('takes {gemwatch} as the prefix when none is given', async () => {
    const config = testConfig(sim, cluster.url(), { GEM_WATCH_PREFIX: undefined });
    expect(config.redis.prefix).toBe('{gemwatch}');
  });

  it('check reports the cluster, the slot of the prefix and every master', async () => {
    const config = testConfig(sim, cluster.url(cluster.ports.slice(0, 1)), { GEM_WATCH_PREFIX: '{gemwatch}' });
    const lines = await checkLines(config);
    const slot = await cluster.slotOf('{gemwatch}:jobs');
    const owner = await cluster.masterOf(slot);
    expect(lines[0]).toEqual({ verdict: 'ok', what: 'redis', detail: expect.stringMatching(new RegExp(`^topology: Redis Cluster of 3 master\\(s\\), cluster_state ok; prefix \\{gemwatch\\} is in slot ${slot}, served by 127\\.0\\.0\\.1:${owner}$`)) });
    expect(lines.filter((line) => /maxmemory-policy/.test(line.detail))).toHaveLength(3);
    expect(lines.filter((line) => /persistence: AOF on/.test(line.detail) && line.verdict === 'ok')).toHaveLength(3);
    expect(lines.filter((line) => /has no replica/.test(line.detail)), JSON.stringify(lines)).toEqual([]);
  });

  it('keeps recording once each across a CLUSTER FAILOVER of the master that serves the prefix slot', async () => {
    const prefix = `{${uniquePrefix('fo')}}`;
    const config = testConfig(sim, cluster.url(cluster.ports.slice(0, 2)), { GEM_WATCH_PREFIX: prefix });
    const p = pipeline(config);
    expect(await finishAndFail(p, ['f1', 'f2'])).toEqual(['f1:running->finished', 'f2:queued->failed']);
    const moved = await cluster.failover(await cluster.slotOf(new Keys(prefix).jobs()));
    expect(moved.to).not.toBe(moved.from);
    expect(await finishAndFail(p, ['f3', 'f4'])).toEqual(['f3:running->finished', 'f4:queued->failed']);
    expect(await p.pollOnce()).toEqual([]);
    expect(await notifyTaskIds(p)).toHaveLength(8);
  });
});

describe('on a primary and a replica watched by Sentinels that require a password', () => {
  let group: TestSentinel;
  const sentinelPassword = 'sentinel-topology-secret';

  beforeAll(async () => {
    group = await startRedisSentinel({ sentinels: 2, sentinelPassword });
  }, 120_000);
  afterAll(async () => {
    await group?.close();
  });

  it('records a finished and a failed job once each before and after SENTINEL FAILOVER', async () => {
    const config = testConfig(sim, group.url(), { REDIS_SENTINEL_PASSWORD: sentinelPassword });
    const p = pipeline(config);
    expect(await finishAndFail(p, ['s1', 's2'])).toEqual(['s1:running->finished', 's2:queued->failed']);
    const moved = await group.failover();
    expect(moved.to).toBe(group.dataPorts[1]);
    // Writes the old primary took between the promotion and its own demotion are lost (see
    // docs/reliability.md); this test is about following the failover, so it waits until the
    // pipeline's connection is on the new primary. The chaos scenario writes through the window.
    await waitFor(async () => /^role:master/m.test(await p.redis.info('replication')) && (p.redis as { stream?: { remotePort?: number } }).stream?.remotePort === moved.to, 'the state connection on the new primary');
    expect(await finishAndFail(p, ['s3', 's4'])).toEqual(['s3:running->finished', 's4:queued->failed']);
    expect(await p.pollOnce()).toEqual([]);
    expect(await notifyTaskIds(p)).toHaveLength(8);

    const status = await runCli(['status', '--all', '--json'], {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      LOG_LEVEL: 'warn',
      REDIS_URL: group.url(),
      REDIS_SENTINEL_PASSWORD: sentinelPassword,
      GEM_WATCH_PREFIX: config.redis.prefix,
      GEM_JOB_TYPES: 'ROAD_MATCHING',
    });
    expect(status.code, status.stderr).toBe(0);
    expect(status.stdout).toContain('"s4"');
  });

  it('check reports the primary the Sentinels name, its replicas, and its persistence', async () => {
    const config = testConfig(sim, group.url(), { REDIS_SENTINEL_PASSWORD: sentinelPassword });
    const primary = await group.primaryPort();
    const lines = await checkLines(config);
    expect(lines[0]!.verdict).toBe('ok');
    expect(lines[0]!.detail).toMatch(new RegExp(`^topology: Sentinel master "mymaster", primary at 127\\.0\\.0\\.1:${primary} \\(role master\\), 1 replica\\(s\\)`));
    expect(lines.some((line) => /persistence: AOF on/.test(line.detail))).toBe(true);
  });

  it('check says the Sentinels refused when REDIS_SENTINEL_PASSWORD is wrong', async () => {
    const config = testConfig(sim, group.url(), { REDIS_SENTINEL_PASSWORD: 'not-the-password' });
    const lines = await checkLines(config);
    expect(lines).toEqual([{ verdict: 'fail', what: 'redis', detail: expect.stringMatching(/^cannot use Redis: the Sentinels refused REDIS_SENTINEL_PASSWORD/) }]);
    expect(lines[0]!.detail).not.toContain('not-the-password');
  });
});
