import { Redis } from 'ioredis';
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
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

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

const iso = (ms: number) => new Date(ms).toISOString();

/** Nine jobs that ended two days ago, as an account's history looks. */
function addHistory(first: number): void {
  for (let i = 0; i < 9; i += 1) {
    const at = Date.now() - 2 * DAY;
    sim.upsertJob({ id: String(first + i), status: i % 3 === 0 ? 'failed' : 'finished', createdAt: iso(at - HOUR), modifiedAt: iso(at) });
  }
}

describe('first sync from an empty or unreadable list', () => {
  it('announces no history when GEM answers an empty list first, and still announces what ends after it', async () => {
    const config = testConfig(sim, redis.url);
    const logs = new LogCapture('info');
    addHistory(100);
    // Running while GEM answered nothing: it ends after the first sync, so its end is news.
    sim.upsertJob({ id: '109', status: 'running', progress: 50, createdAt: iso(Date.now() - DAY), modifiedAt: iso(Date.now() - HOUR) });
    const p = pipeline(config, {}, logs);

    sim.failNext('emptyList', 1, 'list');
    expect(await p.pollOnce()).toEqual([]);

    sim.setStatus('109', 'finished');
    // A new job that starts and ends between two polls.
    sim.upsertJob({ id: '110', status: 'finished' });
    const found = await p.pollOnce();
    expect(found.map((t) => `${t.jobId}:${t.to}`).sort()).toEqual(['109:finished', '110:finished']);
    expect(await notifyTaskIds(p)).toEqual([
      'notify-109-v1-default-email-route',
      'notify-109-v1-default-slack-default',
      'notify-110-v1-default-email-route',
      'notify-110-v1-default-slack-default',
    ]);
    // The history is recorded (never fetched again) and said once, as a count, by the next poll.
    expect((await p.store.get('100', 'ROAD_MATCHING'))!.tracked.status).toBe('failed');
    const before = sim.counts.detail;
    expect(await p.pollOnce()).toEqual([]);
    expect(sim.counts.detail - before).toBe(0);
    expect(await p.pollOnce()).toEqual([]);
    expect(await notifyTaskIds(p)).toHaveLength(4);
    const history = logs.lines.filter((line) => String(line.msg).includes('ended before the first sync were recorded as history'));
    expect(history).toHaveLength(1);
    expect(history[0]).toMatchObject({ jobType: 'ROAD_MATCHING', count: 9 });
  });

  it('judges by the creation time when the detail answer has no modified time (the public example’s shape)', async () => {
    const config = testConfig(sim, redis.url);
    sim.detailShape = 'list';
    addHistory(200);
    const p = pipeline(config);
    sim.failNext('emptyList', 1, 'list');
    await p.pollOnce();

    sim.upsertJob({ id: '210', status: 'failed', message: 'input check failed' });
    const found = await p.pollOnce();
    expect(found.map((t) => `${t.jobId}:${t.to}`)).toEqual(['210:failed']);
  });

  it('announces the first jobs of a new account, whose first list is rightly empty', async () => {
    const config = testConfig(sim, redis.url);
    const p = pipeline(config);
    expect(await p.pollOnce()).toEqual([]);
    sim.upsertJob({ id: '300', status: 'running', progress: 10 });
    sim.upsertJob({ id: '301', status: 'finished' });
    expect((await p.pollOnce()).map((t) => `${t.jobId}:${t.to}`).sort()).toEqual(['300:running', '301:finished']);
    sim.setStatus('300', 'failed');
    expect((await p.pollOnce()).map((t) => `${t.jobId}:${t.from}->${t.to}`)).toEqual(['300:running->failed']);
  });

  it('keeps the first sync time of the first replica that set it', async () => {
    const config = testConfig(sim, redis.url);
    let clock = Date.now() - HOUR;
    const p = pipeline(config, { now: () => clock });
    await p.pollOnce();
    const raw = new Redis(redis.url);
    try {
      const key = p.store.keys.synced('ROAD_MATCHING');
      expect(Number(await raw.get(key))).toBe(clock);
      // A replica that read the flag as missing at the same time, setting it a little later.
      const first = clock;
      clock += HOUR;
      expect(await p.store.markSynced('ROAD_MATCHING', clock)).toBe(false);
      expect(Number(await raw.get(key))).toBe(first);
      expect(await p.store.firstSyncAt('ROAD_MATCHING')).toBe(first);
    } finally {
      raw.disconnect();
    }
  });
});

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
    // Both entries now say it ended, as recorded: no call, nothing more, and no warning each poll.
    const before = sim.counts.detail;
    expect(await p.pollOnce()).toEqual([]);
    expect(sim.counts.detail - before).toBe(0);
    expect(logs.lines.filter((line) => String(line.msg).includes('names a job more than once'))).toHaveLength(1);
  });
});

describe('a reused id is a new run', () => {
  it('announces the end of a new run of an id recorded as ended, under a new version', async () => {
    const config = testConfig(sim, redis.url);
    const logs = new LogCapture('info');
    sim.upsertJob({ id: '40', status: 'running', progress: 40, createdAt: iso(Date.now() - 2 * HOUR) });
    const p = pipeline(config, {}, logs);
    await p.pollOnce();
    sim.setStatus('40', 'finished');
    expect((await p.pollOnce()).map((t) => `${t.jobId}:${t.to}:v${t.version}`)).toEqual(['40:finished:v2']);

    // GEM runs the id again: created anew, running.
    sim.upsertJob({ id: '40', status: 'running', progress: 5, createdAt: iso(Date.now()), statistics: undefined, outputFile: undefined });
    const again = await p.pollOnce();
    expect(again.map((t) => `${t.jobId}:${t.from}->${t.to}:v${t.version}`)).toEqual(['40:finished->running:v3']);
    expect(logs.messages()).toContain('GEM runs a job id again (a new creation time): recorded as a new run');
    expect(logs.messages()).not.toContain('GEM answered an active status for a job recorded as ended; the recorded end is kept');
    const stored = (await p.store.get('40', 'ROAD_MATCHING'))!.tracked;
    expect(stored).toMatchObject({ status: 'running', version: 3, generation: 1 });

    sim.setStatus('40', 'failed');
    expect((await p.pollOnce()).map((t) => `${t.jobId}:${t.from}->${t.to}:v${t.version}`)).toEqual(['40:running->failed:v4']);
    expect(await notifyTaskIds(p)).toEqual([
      'notify-40-v2-default-email-route',
      'notify-40-v2-default-slack-default',
      'notify-40-v4-default-email-route',
      'notify-40-v4-default-slack-default',
    ]);
  });

  it('tells a new run of a first-sync history job by a creation after the first sync', async () => {
    const config = testConfig(sim, redis.url);
    let clock = Date.now() - 2 * HOUR;
    sim.upsertJob({ id: '41', status: 'finished', createdAt: iso(clock - DAY), modifiedAt: iso(clock - DAY + HOUR) });
    const p = pipeline(config, { now: () => clock });
    await p.pollOnce();
    clock = Date.now();

    // The old run read from a lagging backend (same creation, before the first sync): stale.
    sim.setStatus('41', 'running', { progress: 99 });
    expect(await p.pollOnce()).toEqual([]);
    expect((await p.store.get('41', 'ROAD_MATCHING'))!.tracked.status).toBe('finished');

    // A run created after the first sync cannot be the run recorded as history.
    sim.upsertJob({ id: '41', status: 'running', progress: 1, createdAt: iso(Date.now()) });
    expect((await p.pollOnce()).map((t) => `${t.jobId}:${t.from}->${t.to}:v${t.version}`)).toEqual(['41:finished->running:v2']);
    sim.setStatus('41', 'finished');
    expect((await p.pollOnce()).map((t) => `${t.jobId}:${t.to}:v${t.version}`)).toEqual(['41:finished:v3']);
    expect(await notifyTaskIds(p)).toEqual(['notify-41-v3-default-email-route', 'notify-41-v3-default-slack-default']);
  });
});
