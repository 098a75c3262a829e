import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Config } from '../src/config/schema.js';
import type { DetailStep } from '../src/queue/detail-processor.js';
import type { WatchPipeline } from '../src/queue/pipeline.js';
import { GemSimulator } from '../src/simulator/gem-simulator.js';
import { LogCapture, testConfig, testPipeline, waitFor } from './helpers/pipeline.js';
import { startRedis, type TestRedis } from './helpers/redis.js';

let redis: TestRedis;
const sim = new GemSimulator({ apiKey: 'pipeline-key' });
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
});

function pipeline(config: Config, overrides: Parameters<typeof testPipeline>[1] = {}, logs?: LogCapture): WatchPipeline {
  const created = testPipeline(config, overrides, logs?.logger);
  open.push(created);
  return created;
}

/** Notify task ids in the queue, whatever their state. */
async function notifyTaskIds(p: WatchPipeline): Promise<string[]> {
  const tasks = await p.notifyQueue.getJobs(['waiting', 'delayed', 'active', 'completed', 'failed', 'prioritized']);
  return tasks.map((task) => task.id!).sort();
}

describe('watch pipeline', () => {
  it('records history silently on the first sync, then announces running→finished and queued→failed once each', async () => {
    const config = testConfig(sim, redis.url);
    sim.upsertJob({ id: '1', status: 'finished' });
    sim.setStatus('1', 'finished');
    sim.upsertJob({ id: '2', status: 'failed', message: 'old failure' });
    sim.upsertJob({ id: '3', status: 'running', progress: 10 });
    sim.upsertJob({ id: '4', status: 'queued' });
    const p = pipeline(config);

    const first = await p.pollOnce();
    expect(first.map((t) => `${t.jobId}:${t.to}`).sort()).toEqual(['3:running', '4:queued']);
    expect(await notifyTaskIds(p)).toEqual([]);

    sim.setStatus('3', 'finished');
    sim.setStatus('4', 'failed');
    const second = await p.pollOnce();
    expect(second.map((t) => `${t.jobId}:${t.from}->${t.to}`).sort()).toEqual(['3:running->finished', '4:queued->failed']);
    expect(await notifyTaskIds(p)).toEqual([
      'notify-3-v2-default-email-route',
      'notify-3-v2-default-slack-default',
      'notify-4-v2-default-email-route',
      'notify-4-v2-default-slack-default',
    ]);
    const task = (await p.notifyQueue.getJob('notify-3-v2-default-slack-default'))!;
    expect(task.data.transition!.job.statistics!.roadsMatchedPct).toBe(sim.getJob('3')!.statistics!.roadsMatchedPct);

    // Nothing new: nothing more.
    expect(await p.pollOnce()).toEqual([]);
    expect(await notifyTaskIds(p)).toHaveLength(4);
    expect(await p.store.countByStatus(['ROAD_MATCHING'])).toEqual(new Map([['finished', 2], ['failed', 2]]));
  });

  it('updates progress without announcing it, keeping samples for the ETA', async () => {
    const config = testConfig(sim, redis.url);
    sim.upsertJob({ id: '10', status: 'running', progress: 5 });
    const p = pipeline(config);
    await p.pollOnce();
    sim.setStatus('10', 'running', { progress: 35 });
    expect(await p.pollOnce()).toEqual([]);
    sim.setStatus('10', 'running', { progress: 60 });
    await p.pollOnce();
    const stored = await p.store.get('10', 'ROAD_MATCHING');
    expect(stored!.tracked.job.progress).toBe(60);
    expect(stored!.tracked.progress.map(([, progress]) => progress)).toEqual([5, 35, 60]);
    expect(await notifyTaskIds(p)).toEqual([]);
  });

  it('announces a job first seen already finished after the first sync, and not one that vanishes', async () => {
    const config = testConfig(sim, redis.url);
    sim.upsertJob({ id: '20', status: 'running' });
    const p = pipeline(config);
    await p.pollOnce();

    sim.upsertJob({ id: '21', status: 'finished' });
    sim.setStatus('21', 'finished');
    sim.removeJob('20');
    const found = await p.pollOnce();
    expect(found.map((t) => `${t.jobId}:${t.to}`)).toEqual(['21:finished']);
    expect(await notifyTaskIds(p)).toEqual(['notify-21-v1-default-email-route', 'notify-21-v1-default-slack-default']);
    expect((await p.store.vanishedIds()).has('20')).toBe(true);
  });

  it('announces a job that ends and leaves the list between two polls, and stops asking once GEM answers 404', async () => {
    const config = testConfig(sim, redis.url);
    sim.upsertJob({ id: '50', status: 'running', progress: 70 });
    sim.upsertJob({ id: '51', status: 'running', progress: 10 });
    const p = pipeline(config);
    await p.pollOnce();

    sim.setStatus('50', 'finished', { unlisted: true });
    sim.setStatus('51', 'running', { progress: 20, unlisted: true });
    const found = await p.pollOnce();
    expect(found.map((t) => `${t.jobId}:${t.from}->${t.to}`)).toEqual(['50:running->finished']);
    expect(await notifyTaskIds(p)).toEqual(['notify-50-v2-default-email-route', 'notify-50-v2-default-slack-default']);
    // Still running though unlisted: its details are read every poll, like any active job's.
    expect((await p.store.get('51', 'ROAD_MATCHING'))!.tracked.job.progress).toBe(20);

    sim.removeJob('51');
    let before = sim.counts.detail;
    await p.pollOnce();
    expect(sim.counts.detail - before).toBe(1);
    expect((await p.store.vanishedIds()).get('51')).toMatchObject({ notFound: true });
    before = sim.counts.detail;
    expect(await p.pollOnce()).toEqual([]);
    expect(sim.counts.detail - before).toBe(0);
  });

  it('reads an unlisted job GEM still runs every poll, keeps its vanished mark, and forgets it after the retention', async () => {
    const config = testConfig(sim, redis.url);
    let now = Date.parse('2026-01-01T00:00:00Z');
    sim.upsertJob({ id: '52', status: 'running', progress: 10 });
    const p = pipeline(config, { now: () => now });
    await p.pollOnce();
    const gone = now;
    sim.setStatus('52', 'running', { progress: 20, unlisted: true });
    await p.pollOnce();
    now += 86_400_000;
    sim.setStatus('52', 'running', { progress: 30, unlisted: true });
    await p.pollOnce();
    expect((await p.store.get('52', 'ROAD_MATCHING'))!.tracked.job.progress).toBe(30);
    expect((await p.store.vanishedIds()).get('52')).toMatchObject({ since: gone, notFound: false });

    now = gone + config.retention.vanishedDays * 86_400_000;
    const before = sim.counts.detail;
    expect(await p.pollOnce()).toEqual([]);
    expect(sim.counts.detail - before).toBe(0);
    expect((await p.store.readIndex('ROAD_MATCHING')).has('52')).toBe(false);
    expect(await p.store.vanishedIds()).toEqual(new Map());
  });

  it('asks GEM for no other path when a listed job id is . or .., and says which ids it left out instead of blaming GEM_DETAIL_PATH', async () => {
    const config = testConfig(sim, redis.url);
    const logs = new LogCapture();
    const paths: string[] = [];
    sim.onRequest = (endpoint) => paths.push(endpoint);
    try {
      sim.upsertJob({ id: '.', status: 'running' });
      sim.upsertJob({ id: '..', status: 'running' });
      sim.upsertJob({ id: '56', status: 'running' });
      const p = pipeline(config, {}, logs);
      expect((await p.pollOnce()).map((t) => t.jobId)).toEqual(['56']);
      await p.pollOnce();
      // Each poll: one list call and the detail call of job 56; never /gem/jobs/ or /gem/.
      expect(paths).toEqual(['list', 'detail', 'list', 'detail']);
      expect(logs.messages().filter((msg) => msg.includes('GEM_DETAIL_PATH'))).toEqual([]);
      const left = logs.lines.find((line) => line.msg === 'list entries not understood');
      expect(left).toMatchObject({ level: 40, count: 2 });
      expect(String(left!.rejected)).toContain('job id "." is not used: it is only dots');
      expect([...(await p.store.readIndex('ROAD_MATCHING')).keys()]).toEqual(['56']);
    } finally {
      sim.onRequest = undefined;
    }
  });

  it('says to check GEM_DETAIL_PATH when the detail endpoint answers 404 for a listed job, and asks again next poll', async () => {
    const config = testConfig(sim, redis.url);
    const logs = new LogCapture();
    sim.upsertJob({ id: '55', status: 'running', progress: 30 });
    const p = pipeline(config, {}, logs);
    sim.failNext(404, 1, 'detail');
    expect(await p.pollOnce()).toEqual([]);
    const warning = logs.lines.find((line) => String(line.msg).includes('GEM_DETAIL_PATH'));
    expect(warning).toMatchObject({ level: 40, jobId: '55', listStatus: 'IN_PROGRESS' });
    expect((await p.store.vanishedIds()).has('55')).toBe(false);
    expect((await p.pollOnce()).map((t) => `${t.jobId}:${t.to}`)).toEqual(['55:running']);
  });

  it('gives the status page every active job and only the most recently ended ones, with the count of all', async () => {
    const config = testConfig(sim, redis.url);
    for (const id of ['80', '81', '82', '83', '84']) sim.upsertJob({ id, status: 'running', progress: 10 });
    const p = pipeline(config);
    await p.pollOnce();
    for (const id of ['80', '81', '82', '83']) {
      sim.setStatus(id, id === '81' ? 'failed' : 'finished');
      await p.pollOnce();
    }
    const { jobs, endedTotal } = await p.store.pageJobs(['ROAD_MATCHING'], 2);
    expect(jobs.map((tracked) => `${tracked.job.id}:${tracked.status}`)).toEqual(['84:running', '83:finished', '82:finished']);
    expect(endedTotal).toBe(4);
  });

  it('forgets a vanished job after the retention, but not one that came back to the list', async () => {
    const config = testConfig(sim, redis.url);
    const firstSeen = Date.parse('2026-01-01T00:00:00Z');
    let now = firstSeen;
    sim.upsertJob({ id: '40', status: 'running' });
    sim.upsertJob({ id: '41', status: 'running' });
    const p = pipeline(config, { now: () => now });
    await p.pollOnce();
    sim.removeJob('40');
    const back = sim.getJob('41')!;
    sim.removeJob('41');
    await p.pollOnce();
    expect([...(await p.store.vanishedIds()).keys()].sort()).toEqual(['40', '41']);
    // Gone from the list: no longer counted as running in the metrics.
    expect(await p.store.countByStatus(['ROAD_MATCHING'])).toEqual(new Map());

    sim.upsertJob(back);
    now += (config.retention.vanishedDays + 1) * 86_400_000;
    await p.pollOnce();
    expect(await p.store.vanishedIds()).toEqual(new Map());
    expect((await p.store.readIndex('ROAD_MATCHING')).has('40')).toBe(false);
    // Kept, not forgotten and seen anew: its history still starts at the first poll.
    expect((await p.store.get('41', 'ROAD_MATCHING'))!.tracked.firstSeenAt).toBe(firstSeen);
  });

  it('keeps a vanished job that another replica sees listed again between this poll reading the marks and forgetting, and announces nothing again', async () => {
    const config = testConfig(sim, redis.url);
    let now = Date.parse('2026-01-01T00:00:00Z');
    sim.upsertJob({ id: '42', status: 'running' });
    const a = pipeline(config, { now: () => now });
    const b = pipeline(config, { now: () => now });
    await a.pollOnce();
    sim.setStatus('42', 'finished');
    expect((await a.pollOnce()).map((t) => `${t.jobId}:${t.to}`)).toEqual(['42:finished']);
    const back = sim.getJob('42')!;
    sim.removeJob('42');
    await a.pollOnce();
    expect((await a.store.vanishedIds()).has('42')).toBe(true);

    // A's poll has listed (without 42) and read the marks; before it forgets, B lists 42 again.
    now += (config.retention.vanishedDays + 1) * 86_400_000;
    const forget = a.store.forgetVanished.bind(a.store);
    a.store.forgetVanished = async (...args) => {
      sim.upsertJob(back);
      await b.pollOnce();
      return forget(...args);
    };
    await a.pollOnce();
    expect(await a.store.readIndex('ROAD_MATCHING')).toEqual(new Map([['42', 'finished|2']]));
    expect(await a.store.vanishedIds()).toEqual(new Map());
    // Remembered, so not first seen again: no second announcement of its end.
    expect(await a.pollOnce()).toEqual([]);
    expect(await notifyTaskIds(a)).toEqual(['notify-42-v2-default-email-route', 'notify-42-v2-default-slack-default']);
  });

  it('does not forget a vanished job whose status changed within the retention, so its delivery markers are gone before it is', async () => {
    const config = testConfig(sim, redis.url);
    let now = Date.parse('2026-01-01T00:00:00Z');
    sim.upsertJob({ id: '43', status: 'running' });
    const p = pipeline(config, { now: () => now });
    await p.pollOnce();
    const gone = now;
    sim.setStatus('43', 'running', { unlisted: true });
    await p.pollOnce();
    // Ends a day before the retention runs out, read while unlisted: announced, mark kept.
    now = gone + (config.retention.vanishedDays - 1) * 86_400_000;
    sim.setStatus('43', 'finished', { unlisted: true });
    expect((await p.pollOnce()).map((t) => `${t.jobId}:${t.to}`)).toEqual(['43:finished']);
    const ended = now;

    now = gone + config.retention.vanishedDays * 86_400_000;
    await p.pollOnce();
    expect((await p.store.readIndex('ROAD_MATCHING')).get('43')).toBe('finished|2');
    now = ended + config.retention.vanishedDays * 86_400_000;
    await p.pollOnce();
    expect((await p.store.readIndex('ROAD_MATCHING')).has('43')).toBe(false);
    expect(await p.store.vanishedIds()).toEqual(new Map());
  });

  it('stores and logs an unknown status instead of failing', async () => {
    const config = testConfig(sim, redis.url);
    const logs = new LogCapture();
    sim.upsertJob({ id: '30', status: 'running' });
    const p = pipeline(config, {}, logs);
    await p.pollOnce();
    sim.upsertJob({ id: '30', rawStatusOverride: 'PAUSED_BY_OPERATOR' });
    const found = await p.pollOnce();
    expect(found.map((t) => t.to)).toEqual(['unknown']);
    expect((await p.store.get('30', 'ROAD_MATCHING'))!.tracked.job.rawStatus).toBe('PAUSED_BY_OPERATOR');
    expect(logs.messages()).toContain('job has a status gem-watch does not know; stored as unknown');
    expect(await notifyTaskIds(p)).toEqual([]);
    // Still unknown, so fetched again; said once an hour, not every poll.
    const before = sim.counts.detail;
    await p.pollOnce();
    expect(sim.counts.detail - before).toBe(1);
    expect(logs.messages().filter((message) => message.includes('does not know'))).toHaveLength(1);
  });

  it('keeps a recorded end when GEM answers running again, so the end is announced once', async () => {
    const config = testConfig(sim, redis.url);
    const logs = new LogCapture();
    sim.upsertJob({ id: '35', status: 'running', progress: 40 });
    const p = pipeline(config, {}, logs);
    await p.pollOnce();
    sim.setStatus('35', 'finished');
    expect((await p.pollOnce()).map((t) => `${t.from}->${t.to}`)).toEqual(['running->finished']);

    // A lagging backend: list and detail say running again for a poll, then finished.
    sim.setStatus('35', 'running', { progress: 90 });
    expect(await p.pollOnce()).toEqual([]);
    expect((await p.store.get('35', 'ROAD_MATCHING'))!.tracked.status).toBe('finished');
    expect(logs.messages()).toContain('GEM answered an active status for a job recorded as ended; the recorded end is kept');
    sim.setStatus('35', 'finished');
    expect(await p.pollOnce()).toEqual([]);
    expect(await notifyTaskIds(p)).toEqual(['notify-35-v2-default-email-route', 'notify-35-v2-default-slack-default']);
  });

  it('asks no more for a cancelled job that the list, which has no word for it, calls FAILED', async () => {
    const config = testConfig(sim, redis.url);
    sim.upsertJob({ id: '37', status: 'running', progress: 40 });
    const p = pipeline(config);
    await p.pollOnce();
    sim.setStatus('37', 'cancelled', { listStatusOverride: 'FAILED' });
    expect((await p.pollOnce()).map((t) => `${t.from}->${t.to}`)).toEqual(['running->cancelled']);
    const before = sim.counts.detail;
    expect(await p.pollOnce()).toEqual([]);
    expect(sim.counts.detail - before).toBe(0);
    expect((await p.store.get('37', 'ROAD_MATCHING'))!.tracked.status).toBe('cancelled');
  });

  it('warns once an hour when the account lists more jobs than the heap limit allows, and not below it', async () => {
    const config = testConfig(sim, redis.url);
    for (let i = 0; i < 6; i += 1) sim.upsertJob({ id: String(3000 + i), status: 'finished' });
    let now = Date.parse('2026-11-29T12:00:00Z');
    const outgrown = (logs: LogCapture) => logs.lines.filter((line) => String(line.msg).includes('raise --max-old-space-size'));

    const roomy = new LogCapture();
    await pipeline(config, { heapLimitBytes: 6 * 2_048, now: () => now }, roomy).pollOnce();
    expect(outgrown(roomy)).toEqual([]);

    const tight = new LogCapture();
    const p = pipeline(config, { heapLimitBytes: 5 * 2_048, now: () => now }, tight);
    await p.pollOnce();
    expect(outgrown(tight)).toHaveLength(1);
    expect(outgrown(tight)[0]).toMatchObject({ level: 40, listedJobs: 6, heapLimitMb: 1 });
    now += 30 * 60_000;
    await p.pollOnce();
    expect(outgrown(tight)).toHaveLength(1);
    now += 31 * 60_000;
    await p.pollOnce();
    expect(outgrown(tight)).toHaveLength(2);
  });

  it('makes at most job types + active detail calls with 1,000 terminal jobs and 5 active ones', async () => {
    const config = testConfig(sim, redis.url);
    for (let i = 0; i < 1000; i += 1) sim.upsertJob({ id: String(1000 + i), status: i % 10 === 0 ? 'failed' : 'finished' });
    for (let i = 0; i < 5; i += 1) sim.upsertJob({ id: String(5000 + i), status: 'running', progress: i });
    const p = pipeline(config);
    await p.pollOnce();
    const before = { ...sim.counts };
    await p.pollOnce();
    expect(sim.counts.list - before.list).toBe(1);
    expect(sim.counts.detail - before.detail).toBeLessThanOrEqual(config.gem.jobTypes.length + 5);
  });

  it('queues a detail task for every job that needs one, however many bulks that takes', async () => {
    const config = testConfig(sim, redis.url);
    for (let i = 0; i < 1_203; i += 1) sim.upsertJob({ id: String(20_000 + i), status: i % 2 === 0 ? 'queued' : 'running' });
    const p = pipeline(config);
    const plan = await p.pollProcessor.process({ jobType: 'ROAD_MATCHING', slot: 60_000 });
    expect(plan).toMatchObject({ listed: 1_203 });
    const tasks = await p.detailQueue.getJobs(['waiting', 'prioritized', 'delayed', 'active', 'completed', 'failed']);
    expect(new Set(tasks.map((task) => task.data.jobId)).size).toBe(1_203);
  });

  it('waits out a detail 429 with Retry-After: 0 without spending the task’s attempts', async () => {
    const config = testConfig(sim, redis.url);
    sim.upsertJob({ id: '700', status: 'running', progress: 50 });
    const p = pipeline(config);
    await p.pollOnce();
    sim.setStatus('700', 'finished');
    sim.setFaults({ rate: 1, kinds: ['rateLimited'], endpoints: ['detail'], retryAfterSec: 0 });
    p.start();
    const slot = Date.now() + 60_000;
    await p.pollProcessor.process({ jobType: 'ROAD_MATCHING', slot });
    const refused = sim.counts.byStatus[429] ?? 0;
    await waitFor(() => (sim.counts.byStatus[429] ?? 0) > refused, 'a 429 from the detail endpoint');
    sim.setFaults(undefined);
    await waitFor(async () => (await p.store.get('700', 'ROAD_MATCHING'))?.tracked.status === 'finished', 'the end recorded');
    const [task] = await p.detailQueue.getJobs(['completed']);
    expect(task?.data.jobId).toBe('700');
    // Started more than once (refused, then let through), but only the success counts as an attempt.
    expect(task?.attemptsStarted).toBeGreaterThan(1);
    expect(task?.attemptsMade).toBe(1);
  });

  it('fails a detail task at once, with one attempt and one clear error line, when GEM answers 400', async () => {
    const config = testConfig(sim, redis.url);
    const logs = new LogCapture('warn');
    sim.upsertJob({ id: '710', status: 'running', progress: 50 });
    const p = pipeline(config, {}, logs);
    await p.pollOnce();
    // One 400: a retry would be let through, so the task ends either failed (not retried) or
    // completed (retried), and the test waits for whichever comes.
    sim.failNext(400, 1, 'detail');
    p.start();
    const before = sim.counts.detail;
    await p.pollProcessor.process({ jobType: 'ROAD_MATCHING', slot: Date.now() + 60_000 });
    await waitFor(async () => (await p.detailQueue.getJobs(['failed', 'completed'])).length === 1, 'the detail task ended');
    const [task] = await p.detailQueue.getJobs(['failed']);
    expect(task?.data.jobId).toBe('710');
    expect(task?.attemptsMade).toBe(1);
    expect(task?.failedReason).toBe('GEM detail call refused (400)');
    expect(sim.counts.detail - before).toBe(1);
    await waitFor(() => logs.lines.some((line) => line.queue === 'gem-detail'), 'the failure logged');
    const failures = logs.lines.filter((line) => line.queue === 'gem-detail');
    expect(failures).toEqual([
      expect.objectContaining({ level: 50, task: task!.id, attempt: 1, reason: 'clientError', status: 400, msg: 'task failed for good: not retryable, so not retried' }),
    ]);
  });

  it('fails a poll task at once when GEM refuses the list call with a 400', async () => {
    const config = testConfig(sim, redis.url);
    const logs = new LogCapture('warn');
    const p = pipeline(config, {}, logs);
    sim.failNext(400, 1, 'list');
    p.start();
    const before = sim.counts.list;
    await p.scheduler.tick(new Date());
    await waitFor(async () => (await p.pollQueue.getJobs(['failed', 'completed'])).length === 1, 'the poll task ended');
    const [task] = await p.pollQueue.getJobs(['failed']);
    expect(task?.attemptsMade).toBe(1);
    expect(task?.failedReason).toBe('GEM list call refused (400)');
    expect(sim.counts.list - before).toBe(1);
    expect(logs.lines.filter((line) => line.queue === 'gem-poll')).toEqual([
      expect.objectContaining({ level: 50, reason: 'clientError', status: 400, msg: 'task failed for good: not retryable, so not retried' }),
    ]);
  });

  it('still retries a detail task that GEM answers 503, and records the end on the next attempt', async () => {
    const config = testConfig(sim, redis.url);
    sim.upsertJob({ id: '720', status: 'running', progress: 50 });
    const p = pipeline(config);
    await p.pollOnce();
    sim.setStatus('720', 'finished');
    sim.failNext(503, 1, 'detail');
    p.start();
    await p.pollProcessor.process({ jobType: 'ROAD_MATCHING', slot: Date.now() + 60_000 });
    await waitFor(async () => (await p.store.get('720', 'ROAD_MATCHING'))?.tracked.status === 'finished', 'the end recorded');
    await waitFor(async () => (await p.detailQueue.getCompletedCount()) === 1, 'the detail task completed');
    const [task] = await p.detailQueue.getJobs(['completed']);
    expect(task?.attemptsMade).toBe(2);
  });

  it('gives one task per transition when the same poll runs twice and two pipelines poll one Redis at once', async () => {
    const config = testConfig(sim, redis.url);
    for (let i = 0; i < 20; i += 1) sim.upsertJob({ id: String(600 + i), status: 'running', progress: 50 });
    const a = pipeline(config);
    const b = pipeline(config);
    await a.pollOnce();
    for (let i = 0; i < 20; i += 1) sim.setStatus(String(600 + i), i % 2 ? 'failed' : 'finished');

    a.start();
    b.start();
    const slot = new Date(Date.now() + 60_000);
    await Promise.all([a.scheduler.tick(slot), b.scheduler.tick(slot), a.scheduler.tick(slot)]);
    // The same poll replayed: processed directly by both, besides the queued one.
    await Promise.all([
      a.pollProcessor.plan('ROAD_MATCHING').then((plan) => Promise.all(plan.needDetail.map((job) => a.detailProcessor.process({ jobId: job.id, jobType: 'ROAD_MATCHING', slot: 1 })))),
      b.pollProcessor.plan('ROAD_MATCHING').then((plan) => Promise.all(plan.needDetail.map((job) => b.detailProcessor.process({ jobId: job.id, jobType: 'ROAD_MATCHING', slot: 2 })))),
    ]);
    await waitFor(async () => (await notifyTaskIds(a)).length >= 40, '40 notify tasks');
    await waitFor(async () => {
      const counts = await a.detailQueue.getJobCounts('waiting', 'active', 'delayed');
      return (counts.waiting ?? 0) + (counts.active ?? 0) + (counts.delayed ?? 0) === 0;
    }, 'detail queue drained');
    const ids = await notifyTaskIds(a);
    expect(ids).toHaveLength(40);
    expect(new Set(ids).size).toBe(40);
    const transitions = await a.store.readTransitions(0, Date.now() + 1000);
    const terminal = transitions.filter((t) => t.to === 'finished' || t.to === 'failed');
    expect(terminal).toHaveLength(20);
  });

  it('records a transition once when another replica saves it between our read and our save', async () => {
    const config = testConfig(sim, redis.url);
    sim.upsertJob({ id: '50', status: 'running', progress: 40 });
    const other = pipeline(config);
    await other.pollOnce();
    sim.setStatus('50', 'finished');

    let interleaved = false;
    let others: unknown;
    const slow = pipeline(config, {
      afterDetailStep: async (step) => {
        if (step === 'diffed' && !interleaved) {
          interleaved = true;
          // Our diff is made from what we read; the other replica records the same change before we save.
          others = await other.detailProcessor.process({ jobId: '50', jobType: 'ROAD_MATCHING', slot: 1 });
        }
      },
    });
    const mine = await slow.detailProcessor.process({ jobId: '50', jobType: 'ROAD_MATCHING', slot: 2 });
    const results = [mine, others];
    expect(results.filter(Boolean)).toHaveLength(1);
    const transitions = await slow.store.readTransitions(0, Date.now() + 1000);
    expect(transitions.filter((t) => t.jobId === '50' && t.to === 'finished')).toHaveLength(1);
    expect(await notifyTaskIds(slow)).toHaveLength(2);
  });

  it.each<DetailStep>(['fetched', 'saved', 'enqueued', 'dispatched'])(
    'gives exactly one task per destination when the process dies after the %s step',
    async (step) => {
      const config = testConfig(sim, redis.url, {});
      const zeroGrace = { ...config, poll: { ...config.poll, outboxGraceMs: 0 } };
      sim.upsertJob({ id: '70', status: 'running', progress: 90 });
      const first = pipeline(zeroGrace);
      await first.pollOnce();
      sim.setStatus('70', 'finished');

      let crashed = false;
      const crashing = pipeline(zeroGrace, {
        afterDetailStep: (at) => {
          if (at === step && !crashed) {
            crashed = true;
            throw new Error(`crash after ${at}`);
          }
        },
      });
      await expect(crashing.pollOnce()).rejects.toThrow(`crash after ${step}`);

      // A restarted process polls again: the outbox sweep or the fresh diff finishes the job.
      const restarted = pipeline(zeroGrace);
      await restarted.pollOnce();
      await restarted.pollOnce();
      expect(await notifyTaskIds(restarted)).toEqual(['notify-70-v2-default-email-route', 'notify-70-v2-default-slack-default']);
      expect(await restarted.store.outboxSize()).toBe(0);
    },
  );

  it('keeps every key under the prefix', async () => {
    const config = testConfig(sim, redis.url);
    sim.upsertJob({ id: '80', status: 'running' });
    const p = pipeline(config);
    await p.pollOnce();
    sim.setStatus('80', 'finished');
    await p.pollOnce();
    const client = redis.client();
    const keys = await client.keys(`*`);
    await client.quit();
    const ours = keys.filter((key) => key.includes(config.redis.prefix));
    expect(ours.length).toBeGreaterThan(3);
    for (const key of ours) expect(key.startsWith(`${config.redis.prefix}:`)).toBe(true);
  });
});
