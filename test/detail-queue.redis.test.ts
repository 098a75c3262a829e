import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Config } from '../src/config/schema.js';
import { HttpServer } from '../src/observability/http-server.js';
import { Metrics } from '../src/telemetry/metrics.js';
import type { DetailTaskData } from '../src/queue/names.js';
import type { WatchPipeline } from '../src/queue/pipeline.js';
import { GemSimulator } from '../src/simulator/gem-simulator.js';
import { DetailWorkStore } from '../src/state/detail-work-store.js';
import { LogCapture, testConfig, testPipeline, waitFor } from './helpers/pipeline.js';
import { startRedis, type TestRedis } from './helpers/redis.js';

let redis: TestRedis;
const sim = new GemSimulator({ apiKey: 'detail-queue-key' });
const open: WatchPipeline[] = [];
const TYPE = 'ROAD_MATCHING';
/** Poll slots far from now, one second apart: each poll claims a newer slot than the last. */
const SLOT = Date.UTC(2030, 0, 1);

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
});

function pipeline(config: Config, overrides: Parameters<typeof testPipeline>[1] = {}, logs?: LogCapture): WatchPipeline {
  const created = testPipeline(config, overrides, logs?.logger);
  open.push(created);
  return created;
}

/** Detail tasks not finished: waiting, delayed for a retry, or running. */
async function pendingDetailTasks(p: WatchPipeline): Promise<Array<{ id: string; data: DetailTaskData }>> {
  const tasks = await p.detailQueue.getJobs(['waiting', 'prioritized', 'delayed', 'active', 'paused']);
  return tasks.filter(Boolean).map((task) => ({ id: task.id!, data: task.data }));
}

function poll(p: WatchPipeline, n: number): Promise<unknown> {
  return p.pollProcessor.process({ jobType: TYPE, slot: SLOT + n * 1_000 });
}

describe('detail queue', () => {
  it('keeps at most one pending detail task per job however many polls come before the fetches run', async () => {
    const config = testConfig(sim, redis.url);
    for (let i = 0; i < 20; i += 1) sim.upsertJob({ id: String(100 + i), status: i % 2 ? 'running' : 'queued', progress: 10 });
    const p = pipeline(config);
    await p.pollOnce();

    // No worker runs: this is a rate limit that lets nothing through, or a long GEM 429 pause.
    for (let n = 1; n <= 10; n += 1) await poll(p, n);

    const pending = await pendingDetailTasks(p);
    expect(pending).toHaveLength(20);
    expect(new Set(pending.map((task) => task.data.jobId)).size).toBe(20);
  });

  it('gives a pending task the newest poll’s news: the list’s word, or that the list no longer shows the job', async () => {
    const config = testConfig(sim, redis.url);
    sim.upsertJob({ id: '200', status: 'running', progress: 10 });
    const p = pipeline(config);
    await p.pollOnce();

    await poll(p, 1);
    let [task, ...others] = await pendingDetailTasks(p);
    expect(others).toEqual([]);
    expect(task!.data).toMatchObject({ jobId: '200', slot: SLOT + 1_000, listStatus: 'IN_PROGRESS' });

    sim.upsertJob({ id: '200', unlisted: true });
    await poll(p, 2);
    [task, ...others] = await pendingDetailTasks(p);
    expect(others).toEqual([]);
    expect(task!.id).toBe(`detail-200-${SLOT + 1_000}`);
    expect(task!.data).toEqual({ jobId: '200', jobType: TYPE, slot: SLOT + 2_000 });

    sim.upsertJob({ id: '200', unlisted: false, status: 'queued' });
    await poll(p, 3);
    [task, ...others] = await pendingDetailTasks(p);
    expect(others).toEqual([]);
    expect(task!.data).toMatchObject({ slot: SLOT + 3_000, listStatus: 'REQUESTED' });
  });

  it('queues nothing for a job whose fetch is running, and loses no change made meanwhile', async () => {
    const config = testConfig(sim, redis.url);
    sim.upsertJob({ id: '300', status: 'running', progress: 10 });
    let release: () => void = () => {};
    const released = new Promise<void>((resolve) => (release = resolve));
    let armed = false;
    let held = false;
    const p = pipeline(config, {
      afterDetailStep: async (step) => {
        // The first queued fetch has read "running" and is held there, as a slow answer would be.
        if (step !== 'fetched' || !armed) return;
        armed = false;
        held = true;
        await released;
      },
    });
    await p.pollOnce();
    armed = true;
    p.start();
    await poll(p, 1);
    await waitFor(() => held, 'the fetch to be running');

    try {
      sim.setStatus('300', 'finished');
      await poll(p, 2);
      const pending = await pendingDetailTasks(p);
      expect(pending.map((task) => task.id)).toEqual([`detail-300-${SLOT + 1_000}`]);
    } finally {
      release();
    }
    await waitFor(async () => (await pendingDetailTasks(p)).length === 0, 'the held fetch to complete');
    expect((await p.store.get('300', TYPE))?.tracked.status).toBe('running');

    // The first poll after the fetch asks again and records the end, once.
    await poll(p, 3);
    await waitFor(async () => (await p.store.get('300', TYPE))?.tracked.status === 'finished', 'the end recorded');
    const transitions = await p.store.readTransitions(0, Date.now() + 1_000);
    expect(transitions.filter((t) => t.jobId === '300' && t.to === 'finished')).toHaveLength(1);
  });

  it('adds no task for a job whose task waits for a retry, and asks again once that task failed for good', async () => {
    const config = testConfig(sim, redis.url);
    sim.upsertJob({ id: '400', status: 'running', progress: 10 });
    const p = pipeline(config);
    await p.pollOnce();
    sim.setStatus('400', 'finished');
    sim.setFaults({ rate: 1, kinds: ['serverError'], endpoints: ['detail'] });
    p.start();

    await poll(p, 1);
    await waitFor(async () => (await p.detailQueue.getJobCounts('delayed')).delayed === 1, 'the task to wait for its retry');
    await poll(p, 2);
    expect((await pendingDetailTasks(p)).map((task) => task.id)).toEqual([`detail-400-${SLOT + 1_000}`]);

    await waitFor(async () => (await p.detailQueue.getJobCounts('failed')).failed === 1, 'the task to fail for good', 30_000);
    sim.setFaults(undefined);
    await poll(p, 3);
    await waitFor(async () => (await p.store.get('400', TYPE))?.tracked.status === 'finished', 'the end recorded');
  });

  it('frees a job whose pending task no longer exists, so the next poll queues it again', async () => {
    const config = testConfig(sim, redis.url);
    sim.upsertJob({ id: '500', status: 'running', progress: 10 });
    const p = pipeline(config);
    await p.pollOnce();
    await poll(p, 1);
    // The task's hash is gone while its deduplication key stays (evicted, or deleted by hand).
    const client = redis.client();
    await client.del(`${config.redis.prefix}:gem-detail:detail-500-${SLOT + 1_000}`);
    await client.quit();

    await poll(p, 2);
    await poll(p, 3);
    expect(await p.detailQueue.getJob(`detail-500-${SLOT + 3_000}`)).toBeDefined();
  });
});

describe('detail backlog', () => {
  function slowConfig(): Config {
    const config = testConfig(sim, redis.url, { POLL_CRON: '* * * * * *' });
    return { ...config, poll: { ...config.poll, rateLimit: { max: 1, durationMs: 1_000 } } };
  }

  it('is named on /readyz (still 200) and the status page, and logged at most hourly with the setting to raise', async () => {
    const config = slowConfig();
    for (let i = 0; i < 5; i += 1) sim.upsertJob({ id: String(600 + i), status: 'running', progress: 10 });
    let now = Date.now();
    const logs = new LogCapture('warn');
    const metrics = new Metrics();
    const p = pipeline(config, { now: () => now, metrics }, logs);
    await p.pollOnce();

    await poll(p, 1);
    await poll(p, 2);
    const backlogLines = () => logs.lines.filter((line) => String(line.msg).startsWith('detail backlog'));
    expect(backlogLines()).toHaveLength(1);
    expect(backlogLines()[0]).toMatchObject({ fetchesPerPoll: 5, allowedPerPoll: 1 });
    expect(String(backlogLines()[0]!.msg)).toContain('Raise poll.rateLimit.max');
    now += 3_600_000;
    await poll(p, 3);
    expect(backlogLines()).toHaveLength(2);

    expect(await new DetailWorkStore(p.redis, p.keys).read([TYPE])).toEqual({ fetchesPerPoll: 5, allowedPerPoll: 1, jobTypes: 1 });
    const exposition = await metrics.registry.metrics();
    expect(exposition).toContain('gemwatch_detail_fetches_per_poll 5');
    expect(exposition).toContain('gemwatch_detail_fetches_allowed_per_poll 1');
    const server = new HttpServer({
      config,
      logger: logs.logger,
      metrics: new Metrics(),
      sources: p,
      credentials: { healthy: true, reason: '' },
      redis: p.redis,
      now: () => now,
    });
    const report = await server.readiness();
    expect(report.ready).toBe(true);
    const check = report.checks.find((entry) => entry.name === 'detail backlog');
    expect(check).toMatchObject({ ok: true, warning: true });
    expect(check!.detail).toContain('each poll asks for 5 detail fetches, more than the 1 that poll.rateLimit (1 per 1000 ms) allows');
    const page = await server.statusPage();
    expect(page).toContain('each poll asks for 5 detail fetches');
  });

  it('says nothing while the rate limit keeps up', async () => {
    const config = testConfig(sim, redis.url, { POLL_CRON: '* * * * * *' });
    sim.upsertJob({ id: '700', status: 'running', progress: 10 });
    const logs = new LogCapture('warn');
    const p = pipeline(config, {}, logs);
    await p.pollOnce();
    await poll(p, 1);
    expect(logs.lines.filter((line) => String(line.msg).startsWith('detail backlog'))).toEqual([]);
    const server = new HttpServer({ config, logger: logs.logger, metrics: new Metrics(), sources: p, credentials: { healthy: true, reason: '' }, redis: p.redis });
    const check = (await server.readiness()).checks.find((entry) => entry.name === 'detail backlog');
    expect(check).toMatchObject({ ok: true });
    expect(check!.warning).toBeUndefined();
    expect(check!.detail).toBe('each poll asks for 1 detail fetch; poll.rateLimit (20 per 1000 ms) allows 20 in the 1 s between polls');
  });
});
