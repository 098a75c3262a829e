import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Config } from '../src/config/schema.js';
import type { WatchPipeline } from '../src/queue/pipeline.js';
import { GemSimulator } from '../src/simulator/gem-simulator.js';
import { LogCapture, testConfig, testPipeline } from './helpers/pipeline.js';
import { startRedis, type TestRedis } from './helpers/redis.js';

// The edges of the first sync and of job identity: a first list that says nothing, a list that
// names one id twice, and an id GEM reuses for a new run. Real redis-server, the GEM simulator.

let redis: TestRedis;
const sim = new GemSimulator({ apiKey: 'sync-edges-key' });
const open: WatchPipeline[] = [];

beforeAll(async () => {
  redis = await startRedis();
  await sim.start();
});
afterAll(async () => {
  await sim.stop();
  await redis.close();
});
afterEach(async () => {
  await Promise.all(open.splice(0).map((pipeline) => pipeline.stop(2_000)));
  sim.clearJobs();
  sim.setFaults(undefined);
  sim.detailShape = 'doc';
});

function pipeline(config: Config, overrides: Parameters<typeof testPipeline>[1] = {}, logs?: LogCapture): WatchPipeline {
  const created = testPipeline(config, overrides, logs?.logger);
  open.push(created);
  return created;
}

async function notifyTaskIds(p: WatchPipeline): Promise<string[]> {
  const tasks = await p.notifyQueue.getJobs(['waiting', 'delayed', 'active', 'completed', 'failed', 'prioritized']);
  return tasks.map((task) => task.id!).sort();
}

describe('one entry per id', () => {
  it('merges a list that names one job twice, running and ended, and announces its real end', async () => {
    const config = testConfig(sim, redis.url);
    const logs = new LogCapture('warn');
    sim.upsertJob({ id: '7', status: 'running', progress: 30 });
    // A second list entry for job 7 that says SUCCESS (its detail is never asked: its id is 7).
    sim.upsertJob({ id: '7-echo', status: 'finished', extra: { job_id: 7 } });
    const p = pipeline(config, {}, logs);

    expect((await p.pollOnce()).map((t) => `${t.jobId}:${t.to}`)).toEqual(['7:running']);
    const warned = logs.lines.filter((line) => String(line.msg).includes('names a job more than once'));
    expect(warned).toHaveLength(1);
    expect(warned[0]).toMatchObject({ jobType: 'ROAD_MATCHING', count: 1, ids: ['7'] });

    sim.setStatus('7', 'finished');
    expect((await p.pollOnce()).map((t) => `${t.jobId}:${t.from}->${t.to}`)).toEqual(['7:running->finished']);
    expect(await notifyTaskIds(p)).toEqual(['notify-7-v2-default-email-route', 'notify-7-v2-default-slack-default']);
    // Both entries now say it ended, as recorded: no call, nothing more.
    const before = sim.counts.detail;
    expect(await p.pollOnce()).toEqual([]);
    expect(sim.counts.detail - before).toBe(0);
  });
});

