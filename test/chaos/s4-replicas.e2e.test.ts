import { afterAll, beforeAll, describe, it } from 'vitest';
import { createRandom } from '../../src/simulator/random.js';
import { ChaosWorld } from './harness/chaos-world.js';
import { settleAndJudge } from './harness/scenario.js';
import { byScale, chaosSeed, scenarioTimeoutMs } from './harness/scale.js';

const SEED = chaosSeed(404);

describe('chaos 4: three replicas, one killed and restarted repeatedly', () => {
  let world: ChaosWorld;

  beforeAll(async () => {
    world = await ChaosWorld.create({ name: 's4-replicas', seed: SEED });
  });

  afterAll(async () => {
    await world?.close();
  });

  it('announces each transition exactly once', async () => {
    const [victim] = await world.startReplicas(3);
    await world.waitForFirstSync();
    const kills = byScale(3, 10);
    const random = createRandom(SEED ^ 0x0c0ffee);
    const driver = world.driver();
    const flowing = driver.flow({ jobs: byScale(12, 45), everyMs: 200 });

    for (let i = 0; i < kills; i += 1) {
      await new Promise((resolve) => setTimeout(resolve, random.int(500, 4_000)));
      await world.kill(victim!);
      await victim!.start();
    }
    await flowing;

    // Exactly once: a duplicate fails the scenario unless the crash window explains it (a SIGKILL
    // of the sender between its post and its marker), and such a one is reported apart.
    await settleAndJudge(world, {
      id: 4,
      scenario: '3 replicas, one killed repeatedly',
      seed: SEED,
      notes: `replica r1 SIGKILLed and restarted ${kills} times while r2 and r3 ran`,
      allowCrashWindow: true,
    });
  }, scenarioTimeoutMs());
});
