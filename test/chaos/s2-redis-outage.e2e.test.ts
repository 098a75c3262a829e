import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChaosWorld } from './harness/chaos-world.js';
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
    const [daemon, crashing] = await world.startReplicas(2);
    await world.waitForFirstSync();
    // /readyz exists only in builds with the HTTP server; where the daemon serves it, it must be 200
    // before the outage, 503 during it and 200 again after.
    const readyzServed = ChaosWorld.httpServerExists() && (await world.readyz(daemon!)) !== 'absent';
    if (readyzServed) await world.until(async () => (await world.readyz(daemon!)) === 200, 60_000, '/readyz 200 before the outage');

    const driver = world.driver();
    const jobs = byScale(16, 40);
    const flowing = driver.flow({ jobs, everyMs: 300 });
    await world.until(() => world.ledger.transitions.length >= Math.ceil(jobs / 4) && world.slack.accepted().length > 0, 120_000, 'a quarter of the transitions');

    const outageMs = byScale(10_000, 30_000);
    const readyzDuring: Array<number | 'absent'> = [];
    await world.redis.stop();
    const downSince = Date.now();
    // The outage lasts `outageMs`: this is the fault's duration, not an assertion on time. Meanwhile
    // r1 must stay up and its /readyz must say 503. A quarter of the way in r2 crashes and is
    // restarted into the outage (as an orchestrator would): it must come up without Redis, answer
    // its probes, and catch up afterwards like r1.
    let restarted = false;
    while (Date.now() - downSince < outageMs || !restarted) {
      world.assertNoUnexpectedExit();
      if (!restarted && Date.now() - downSince >= outageMs / 4) {
        await world.kill(crashing!);
        await crashing!.start(60_000, null);
        if (readyzServed) await world.until(async () => (await world.readyz(crashing!)) === 503, 30_000, '/readyz 503 from the replica restarted during the outage');
        restarted = true;
        continue;
      }
      if (readyzServed) readyzDuring.push(await world.readyz(daemon!));
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    expect(daemon!.running && crashing!.running, 'both replicas are running after the outage').toBe(true);
    await world.redis.start();
    if (readyzServed) {
      expect(readyzDuring, '/readyz during the outage').toContain(503);
      expect(readyzDuring.filter((status) => status === 200), '/readyz never 200 while Redis is down (after the first probe)').toEqual(
        readyzDuring.slice(0, 1).filter((status) => status === 200),
      );
      for (const replica of [daemon!, crashing!]) await world.until(async () => (await world.readyz(replica)) === 200, 60_000, `/readyz 200 from ${replica.name} after the outage`);
    }
    await flowing;

    // r2's SIGKILL may land while a message it sent waits for Redis to take its delivered marker:
    // the documented crash window, stretched by the outage. Such a duplicate is counted apart.
    await settleAndJudge(world, {
      allowCrashWindow: true,
      id: 2,
      scenario: `Redis down ${outageMs / 1000} s`,
      seed: SEED,
      notes: `2 replicas: r1 stayed up, r2 SIGKILLed and restarted into the outage came up without Redis (/readyz 503) and caught up; ${readyzServed ? `/readyz 503 during the outage (${readyzDuring.filter((s) => s === 503).length}/${readyzDuring.length} probes), 200 after` : '/readyz not served by this build (HTTP server absent)'}`,
    });
  }, scenarioTimeoutMs());
});
