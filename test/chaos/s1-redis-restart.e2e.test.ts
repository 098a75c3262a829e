import { afterAll, beforeAll, describe, it } from 'vitest';
import { ChaosWorld } from './harness/chaos-world.js';
import { settleAndJudge } from './harness/scenario.js';
import { byScale, chaosSeed, scenarioTimeoutMs } from './harness/scale.js';

const SEED = chaosSeed(101);

describe('chaos 1: Redis restarted mid-run (AOF on)', () => {
  let world: ChaosWorld;

  beforeAll(async () => {
    world = await ChaosWorld.create({ name: 's1-redis-restart', seed: SEED });
  });

  afterAll(async () => {
    await world?.close();
  });

  it('reconnects, loses nothing and repeats nothing', async () => {
    const [daemon] = await world.startReplicas(1);
    await world.waitForFirstSync();
    const driver = world.driver();
    const jobs = byScale(16, 40);
    const flowing = driver.flow({ jobs, everyMs: 250 });

    // Restart Redis while transitions are being detected and delivered: once a third of the jobs
    // have ended and some messages are out.
    await world.until(() => world.ledger.transitions.length >= Math.ceil(jobs / 3) && world.slack.accepted().length > 0, 120_000, 'a third of the transitions');
    const restarts = byScale(1, 3);
    for (let i = 0; i < restarts; i += 1) {
      // Down until the daemon has noticed (a reconnect refused), then up again at once: a restart
      // the daemon cannot sleep through, with no outage beyond that.
      const errors = daemon!.logs('redis connection error').length;
      const restored = daemon!.logs('redis connection restored').length;
      await world.redis.stop();
      await daemon!.waitFor(() => daemon!.logs('redis connection error').length > errors, 30_000, 'the daemon to notice Redis is gone');
      await world.redis.start();
      await daemon!.waitFor(() => daemon!.logs('redis connection restored').length > restored, 30_000, 'the daemon to reconnect');
      if (i + 1 < restarts) await world.until(() => world.ledger.transitions.length >= Math.ceil(((i + 2) * jobs) / (restarts + 2)), 120_000, 'more transitions');
    }
    await flowing;

    await settleAndJudge(world, {
      id: 1,
      scenario: 'Redis restarted mid-run (AOF on)',
      seed: SEED,
      notes: `${restarts} Redis restart(s) while ${jobs} jobs ran; daemon never exited`,
    });
  }, scenarioTimeoutMs());
});
