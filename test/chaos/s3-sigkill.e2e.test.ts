import { afterAll, beforeAll, describe, it } from 'vitest';
import { createRandom } from '../../src/simulator/random.js';
import { ChaosWorld } from './harness/chaos-world.js';
import { settleAndJudge } from './harness/scenario.js';
import { byScale, chaosSeed, scenarioTimeoutMs } from './harness/scale.js';

const SEED = chaosSeed(303);

describe('chaos 3: SIGKILL of the daemon at random moments', () => {
  let world: ChaosWorld;

  beforeAll(async () => {
    world = await ChaosWorld.create({ name: 's3-sigkill', seed: SEED });
  });

  afterAll(async () => {
    await world?.close();
  });

  it('announces every transition; duplicates only in the documented crash window', async () => {
    const [daemon] = await world.startReplicas(1);
    await world.waitForFirstSync();
    const kills = byScale(4, 20);
    const random = createRandom(SEED ^ 0x0c0ffee);
    const driver = world.driver();
    const flowing = driver.flow({ jobs: kills * 3, everyMs: 200 });

    let afterPost = 0;
    for (let i = 0; i < kills; i += 1) {
      if (random.next() < 0.5) {
        // A seeded moment in the daemon's life: anywhere from just after start to a few polls later.
        await new Promise((resolve) => setTimeout(resolve, random.int(200, 3_000)));
      } else {
        // Right after Slack accepted a post, give or take a few ms: the moment between the post and
        // the delivered marker, the one window the protocol leaves (if no post comes, any moment).
        const seen = world.slack.accepted().length;
        await world.slack.waitFor(() => world.slack.accepted().length > seen, 10_000).catch(() => undefined);
        await new Promise((resolve) => setTimeout(resolve, random.int(0, 15)));
        afterPost += 1;
      }
      await world.kill(daemon!);
      await daemon!.start();
    }
    await flowing;

    await settleAndJudge(world, {
      id: 3,
      scenario: `SIGKILL ×${kills}`,
      seed: SEED,
      notes: `${kills} SIGKILLs at seeded moments (${kills - afterPost} at 0.2–3 s into a life, ${afterPost} within 15 ms of a Slack post), restarted each time`,
      allowCrashWindow: true,
    });
  }, scenarioTimeoutMs());
});
