import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChaosWorld, until } from './harness/chaos-world.js';
import { settleAndJudge } from './harness/scenario.js';
import { byScale, chaosSeed, scenarioTimeoutMs } from './harness/scale.js';

const SEED = chaosSeed(202);

describe('chaos 2: Redis down for a while', () => {
  let world: ChaosWorld;

  beforeAll(async () => {
    world = await ChaosWorld.create({ name: 's2-redis-outage', seed: SEED });
  });

  afterAll(async () => {
    await world?.close();
  });

  it('stays up, says so on /readyz, and catches up afterwards', async () => {
    const [daemon] = await world.startReplicas(1);
    await world.waitForFirstSync();
    // /readyz belongs to the HTTP server of issue 7; where the daemon serves it, it must be 200
    // before the outage, 503 during it and 200 again after.
    const readyzServed = ChaosWorld.httpServerExists() && (await world.readyz(daemon!)) !== 'absent';
    if (readyzServed) await until(async () => (await world.readyz(daemon!)) === 200, 60_000, '/readyz 200 before the outage');

    const driver = world.driver();
    const jobs = byScale(16, 40);
    const flowing = driver.flow({ jobs, everyMs: 300 });
    await until(() => world.ledger.transitions.length >= Math.ceil(jobs / 4) && world.slack.accepted().length > 0, 120_000, 'a quarter of the transitions');

    const outageMs = byScale(10_000, 30_000);
    const readyzDuring: Array<number | 'absent'> = [];
    await world.redis.stop();
    const downSince = Date.now();
    // The outage lasts `outageMs`: this is the fault's duration, not an assertion on time. Meanwhile
    // the daemon must stay up and /readyz must turn 503.
    while (Date.now() - downSince < outageMs) {
      world.assertNoUnexpectedExit();
      if (readyzServed) readyzDuring.push(await world.readyz(daemon!));
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    expect(daemon!.running, 'the daemon is still running after the outage').toBe(true);
    await world.redis.start();
    if (readyzServed) {
      expect(readyzDuring, '/readyz during the outage').toContain(503);
      expect(readyzDuring.filter((status) => status === 200), '/readyz never 200 while Redis is down (after the first probe)').toEqual(
        readyzDuring.slice(0, 1).filter((status) => status === 200),
      );
      await until(async () => (await world.readyz(daemon!)) === 200, 60_000, '/readyz 200 after the outage');
    }
    await flowing;

    await settleAndJudge(world, {
      id: 2,
      scenario: `Redis down ${outageMs / 1000} s`,
      seed: SEED,
      notes: `daemon stayed up; ${readyzServed ? `/readyz 503 during the outage (${readyzDuring.filter((s) => s === 503).length}/${readyzDuring.length} probes), 200 after` : '/readyz not served by this build (HTTP server absent)'}`,
    });
  }, scenarioTimeoutMs());
});
