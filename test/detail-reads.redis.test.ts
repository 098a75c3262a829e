import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Config } from '../src/config/schema.js';
import type { WatchPipeline } from '../src/queue/pipeline.js';
import { GemSimulator } from '../src/simulator/gem-simulator.js';
import { DetailReadStore } from '../src/state/detail-read-store.js';
import { testConfig, testPipeline } from './helpers/pipeline.js';
import { startRedis, type TestRedis } from './helpers/redis.js';

/**
 * Adaptive detail reads (poll.progressEverySeconds): an active job whose list status has not changed
 * is read only when its read is due. Real Redis and the GEM simulator; the pipeline's clock is the
 * test's, moved between polls, never waited for.
 */

const MIN = 60_000;
let redis: TestRedis;
const sim = new GemSimulator({ apiKey: 'detail-reads-key' });
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
});

function world(env: NodeJS.ProcessEnv = { POLL_PROGRESS_EVERY_SECONDS: '300' }): { p: WatchPipeline; config: Config; clock: { now: number } } {
  const config = testConfig(sim, redis.url, env);
  const clock = { now: Date.parse('2026-03-02T08:00:00Z') };
  const p = testPipeline(config, { now: () => clock.now });
  open.push(p);
  return { p, config, clock };
}

/** Detail calls one poll makes. */
async function detailCalls(p: WatchPipeline): Promise<number> {
  const before = sim.counts.detail;
  await p.pollOnce();
  return sim.counts.detail - before;
}

describe('adaptive detail reads', () => {
  it('reads a running job whose list status is unchanged once per progressEverySeconds, keeping its progress samples', async () => {
    sim.upsertJob({ id: 'a1', status: 'running', progress: 1 });
    const { p, clock } = world();
    const t0 = clock.now;
    const calls: number[] = [];
    // A poll a minute for 15 minutes; the progress moves 1% a minute, so the expected end lies
    // far beyond the window (about 100 minutes) and only the 5-minute rule makes a read due.
    for (let minute = 0; minute <= 15; minute += 1) {
      clock.now = t0 + minute * MIN;
      sim.setStatus('a1', 'running', { progress: 1 + minute });
      calls.push(await detailCalls(p));
    }
    expect(calls).toEqual([1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1]);
    const stored = (await p.store.get('a1', 'ROAD_MATCHING'))!.tracked;
    expect(stored.progress).toEqual([
      [t0, 1],
      [t0 + 5 * MIN, 6],
      [t0 + 10 * MIN, 11],
      [t0 + 15 * MIN, 16],
    ]);
    const mark = (await new DetailReadStore(p.redis, p.keys).readAll('ROAD_MATCHING')).get('a1');
    expect(mark).toMatchObject({ readAt: t0 + 15 * MIN, listStatus: 'IN_PROGRESS' });
  });

  it('reads a job at the next poll when its list status changes, and announces its end once', async () => {
    sim.upsertJob({ id: 'b1', status: 'queued' });
    sim.upsertJob({ id: 'b2', status: 'running', progress: 40 });
    const { p, clock } = world();
    const t0 = clock.now;
    expect(await detailCalls(p)).toBe(2);
    clock.now = t0 + MIN;
    expect(await detailCalls(p)).toBe(0);

    clock.now = t0 + 2 * MIN;
    sim.setStatus('b1', 'running', { progress: 5 });
    const before = sim.counts.detail;
    const started = await p.pollOnce();
    expect(sim.counts.detail - before).toBe(1);
    expect(started.map((t) => `${t.jobId}:${t.from}->${t.to}`)).toEqual(['b1:queued->running']);

    clock.now = t0 + 3 * MIN;
    sim.setStatus('b2', 'finished');
    const ended = await p.pollOnce();
    expect(ended.map((t) => `${t.jobId}:${t.from}->${t.to}`)).toEqual(['b2:running->finished']);
    clock.now = t0 + 4 * MIN;
    expect(await p.pollOnce()).toEqual([]);
    // The ended job's read mark is gone; the running one's stays.
    const marks = await new DetailReadStore(p.redis, p.keys).readAll('ROAD_MATCHING');
    expect([...marks.keys()]).toEqual(['b1']);
  });

  it('reads a new job and a job gone from the list at once, every poll, as before', async () => {
    sim.upsertJob({ id: 'c1', status: 'running', progress: 10 });
    const { p, clock } = world();
    const t0 = clock.now;
    await p.pollOnce();
    clock.now = t0 + MIN;
    sim.upsertJob({ id: 'c2', status: 'running', progress: 3 });
    sim.setStatus('c1', 'running', { progress: 20, unlisted: true });
    expect(await detailCalls(p)).toBe(2);
    clock.now = t0 + 2 * MIN;
    sim.setStatus('c1', 'running', { progress: 30, unlisted: true });
    // c1 is unlisted: read every poll; c2 is listed, unchanged and not due.
    expect(await detailCalls(p)).toBe(1);
    expect((await p.store.get('c1', 'ROAD_MATCHING'))!.tracked.job.progress).toBe(30);
  });

  it('finds an end the list has not shown yet at the next due read at the latest', async () => {
    sim.upsertJob({ id: 'd1', status: 'running', progress: 50 });
    const { p, clock } = world();
    const t0 = clock.now;
    await p.pollOnce();
    // GEM's details say finished; its list still says IN_PROGRESS (the list lags the details).
    clock.now = t0 + MIN;
    sim.setStatus('d1', 'finished', { listStatusOverride: 'IN_PROGRESS' });
    for (const minute of [1, 2, 3, 4]) {
      clock.now = t0 + minute * MIN;
      expect(await p.pollOnce()).toEqual([]);
    }
    clock.now = t0 + 5 * MIN;
    const found = await p.pollOnce();
    expect(found.map((t) => `${t.jobId}:${t.to}`)).toEqual(['d1:finished']);
  });

  it('reads a job the list says ended every poll while its details still say running', async () => {
    sim.upsertJob({ id: 'd2', status: 'running', progress: 50 });
    const { p, clock } = world();
    const t0 = clock.now;
    await p.pollOnce();
    // The list is ahead of the details: it says SUCCESS, the detail answer still IN_PROGRESS.
    sim.setStatus('d2', 'running', { progress: 60, listStatusOverride: 'SUCCESS' });
    for (const minute of [1, 2]) {
      clock.now = t0 + minute * MIN;
      expect(await detailCalls(p)).toBe(1);
    }
    clock.now = t0 + 3 * MIN;
    sim.setStatus('d2', 'finished');
    expect((await p.pollOnce()).map((t) => `${t.jobId}:${t.to}`)).toEqual(['d2:finished']);
  });

  it('reads a job sooner when its expected end from the progress history comes', async () => {
    sim.upsertJob({ id: 'e1', status: 'running', progress: 10 });
    // Reads due every hour, but the pace (40% in 4 minutes) puts the end at t0 + 9 min.
    const { p, clock } = world({ POLL_PROGRESS_EVERY_SECONDS: '3600' });
    const t0 = clock.now;
    await p.pollOnce();
    clock.now = t0 + 4 * MIN;
    sim.setStatus('e1', 'running', { progress: 50, listStatusOverride: 'RUNNING_FAST' });
    // A word change in the list is a change: read at once (and the pace becomes known).
    expect(await detailCalls(p)).toBe(1);
    const calls: number[] = [];
    for (const minute of [5, 6, 7, 8, 9, 10, 11, 12]) {
      clock.now = t0 + minute * MIN;
      calls.push(await detailCalls(p));
    }
    // Due at the expected end (t0 + 9 min) and not before; the next threshold (overdue) is later.
    expect(calls).toEqual([0, 0, 0, 0, 1, 0, 0, 0]);
  });

  it('with progressEverySeconds 0 reads every active job every poll, as before', async () => {
    sim.upsertJob({ id: 'f1', status: 'running', progress: 10 });
    sim.upsertJob({ id: 'f2', status: 'queued' });
    const { p, clock } = world({ POLL_PROGRESS_EVERY_SECONDS: '0' });
    for (let i = 0; i < 3; i += 1) {
      clock.now += 10_000;
      expect(await detailCalls(p)).toBe(2);
    }
    expect((await new DetailReadStore(p.redis, p.keys).readAll('ROAD_MATCHING')).size).toBe(0);
  });

  it('tolerates read marks it cannot parse, and a daemon that keeps none: such jobs are read at once', async () => {
    sim.upsertJob({ id: 'g1', status: 'running', progress: 10 });
    sim.upsertJob({ id: 'g2', status: 'running', progress: 10 });
    const { p, clock } = world();
    await p.pollOnce();
    await p.redis.hset(p.keys.detailReads('ROAD_MATCHING'), 'g1', 'not a mark');
    await p.redis.hdel(p.keys.detailReads('ROAD_MATCHING'), 'g2');
    clock.now += MIN;
    expect(await detailCalls(p)).toBe(2);
    clock.now += MIN;
    expect(await detailCalls(p)).toBe(0);
  });
});
