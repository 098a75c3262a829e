import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChaosWorld } from './harness/chaos-world.js';
import { settleAndJudge } from './harness/scenario.js';
import { byScale, chaosSeed, scenarioTimeoutMs } from './harness/scale.js';

const SEED = chaosSeed(505);

describe('chaos 5: API chaos', () => {
  let world: ChaosWorld;

  beforeAll(async () => {
    world = await ChaosWorld.create({ name: 's5-api-chaos', seed: SEED });
  });

  afterAll(async () => {
    await world?.close();
  });

  it('announces every transition once the API heals, and the daemon never exits', async () => {
    const [daemon] = await world.startReplicas(1);
    await world.waitForFirstSync();
    const chaosMs = byScale(15_000, 60_000);
    const driver = world.driver();
    const flowing = driver.flow({ jobs: byScale(16, 40), everyMs: chaosMs / byScale(30, 100) });

    world.sim.setFaults({ rate: 0.4, kinds: ['serverError', 'rateLimited', 'timeout', 'malformed', 'slow'], slowMs: 1_500, retryAfterSec: 1 });
    const before = { ...world.sim.counts.byStatus };
    const since = Date.now();
    // The chaos lasts `chaosMs` (the fault's duration); the daemon must stay up through it.
    while (Date.now() - since < chaosMs) {
      world.assertNoUnexpectedExit();
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    world.sim.setFaults(undefined);
    const during = Object.fromEntries(Object.entries(world.sim.counts.byStatus).map(([status, n]) => [status, n - (before[status] ?? 0)]));
    expect(daemon!.running).toBe(true);
    await flowing;

    const faults = ['429', '500', '503'].map((status) => `${status}×${during[status] ?? 0}`).join(', ');
    await settleAndJudge(world, {
      id: 5,
      scenario: `API chaos ${chaosMs / 1000} s`,
      seed: SEED,
      notes: `40% of API calls faulted (5xx, 429, timeouts, malformed JSON, slow): ${faults} and more; daemon never exited`,
    });
  }, scenarioTimeoutMs());
});
