import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRandom } from '../../src/simulator/random.js';
import { ChaosWorld } from './harness/chaos-world.js';
import { settleAndJudge } from './harness/scenario.js';
import { byScale, chaosSeed, scenarioTimeoutMs } from './harness/scale.js';

const SEED = chaosSeed(909);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Chaos 9: more detail work than the rate limit allows. Every job is active at once, the poll runs
 * every second and the detail rate limit lets one call a second through, so each poll asks for far
 * more fetches than can run before the next one. The detail queue must stay bounded (at most one
 * pending task per job, so never more waiting than there are active jobs), /readyz must name the
 * backlog while staying 200, and every end must still be announced once.
 */
describe('chaos 9: more detail work than the rate limit', () => {
  let world: ChaosWorld;

  beforeAll(async () => {
    // progressEverySeconds 0 reads every active job at every poll, as before adaptive reads: with the
    // default (300 s) a poll asks only for the jobs whose list status changed, fewer than one call a
    // second here, and the backlog this scenario is about would not arise at full scale.
    world = await ChaosWorld.create({
      name: 's9-detail-backlog',
      seed: SEED,
      config: { poll: { rateLimit: { max: 1, durationMs: 1_000 }, progressEverySeconds: 0 } },
    });
  });

  afterAll(async () => {
    await world?.close();
  });

  it('keeps the detail queue bounded and announces every end once', async () => {
    const replicas = await world.startReplicas(byScale(1, 2));
    await world.waitForFirstSync();
    const activeJobs = byScale(20, 50);
    const durationMs = byScale(20_000, 120_000);
    const stepMs = 250;
    const random = createRandom(SEED ^ 0xbac);
    const driver = world.driver();
    const ids = Array.from({ length: activeJobs }, () => driver.createJob().id);
    for (const id of ids) driver.advance(id);

    // Sampled all along, the settling included: the bound must hold at every moment.
    let maxWaiting = 0;
    let maxPending = 0;
    let samples = 0;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const counts = await world.detailCounts().catch(() => undefined);
        if (counts) {
          const waiting = (counts.waiting ?? 0) + (counts.prioritized ?? 0) + (counts.delayed ?? 0) + (counts.paused ?? 0);
          maxWaiting = Math.max(maxWaiting, waiting);
          maxPending = Math.max(maxPending, waiting + (counts.active ?? 0));
          samples += 1;
        }
        await sleep(200);
      }
    })();

    try {
      // A job needs about three steps from 0% to its end: spread the ends over the whole duration.
      const advanceChance = (3 * stepMs) / durationMs;
      const until = Date.now() + durationMs;
      let readyz: { status: number; body: unknown } | undefined;
      while (Date.now() < until) {
        world.assertNoUnexpectedExit();
        for (const id of ids) if (random.next() < advanceChance) driver.advance(id);
        if (readyz === undefined && Date.now() > until - durationMs / 2) readyz = await world.readyzReport(replicas[0]!);
        await sleep(stepMs);
      }
      while (driver.jobsActive > 0) {
        for (const id of ids) driver.advance(id);
        await sleep(stepMs);
      }

      expect(readyz?.status, '/readyz stays 200 during a detail backlog').toBe(200);
      const checks = (readyz?.body as { checks?: Array<{ name: string; ok: boolean; warning?: boolean; detail: string }> } | undefined)?.checks ?? [];
      const backlog = checks.find((check) => check.name === 'detail backlog');
      expect(backlog, '/readyz names the detail backlog').toMatchObject({ ok: true, warning: true });
      expect(backlog!.detail).toContain('poll.rateLimit.max');
      const logged = world.lines().filter((line) => String(line.json?.msg ?? '').startsWith('detail backlog'));
      expect(logged.length, 'the backlog is logged, at most once an hour per replica').toBeGreaterThan(0);
      expect(logged.length).toBeLessThanOrEqual(world.replicas.reduce((sum, replica) => sum + replica.lives, 0));

      expect(maxWaiting, 'waiting detail tasks never exceed the active jobs').toBeLessThanOrEqual(activeJobs);
      expect(maxPending, 'nor do pending ones, the running one included').toBeLessThanOrEqual(activeJobs);
      // Not a vacuous bound: the fetches really did fall behind the polls.
      expect(maxWaiting).toBeGreaterThanOrEqual(activeJobs / 2);

      await settleAndJudge(world, {
        id: 9,
        scenario: 'more detail work than the rate limit',
        seed: SEED,
        notes:
          `${activeJobs} jobs active at once, a poll every second reading every active job (progressEverySeconds 0), detail rate limit 1 call/s for ${durationMs / 1000} s ` +
          `(${world.replicas.length} replica${world.replicas.length === 1 ? '' : 's'}): at most ${maxWaiting} detail tasks waiting ` +
          `(${maxPending} with the running one; bound ${activeJobs}) over ${samples} samples; /readyz 200 naming the backlog`,
      });
    } finally {
      sampling = false;
      await sampler;
    }

    // The settling too: the last fetches never let the queue grow past the bound.
    expect(samples).toBeGreaterThan(10);
    expect(maxPending).toBeLessThanOrEqual(activeJobs);
  }, scenarioTimeoutMs());
});
