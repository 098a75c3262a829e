import { afterAll, beforeAll, describe, it } from 'vitest';
import { createRandom } from '../../src/simulator/random.js';
import { ChaosWorld } from './harness/chaos-world.js';
import { settleAndJudge } from './harness/scenario.js';
import { byScale, chaosSeed, scenarioTimeoutMs } from './harness/scale.js';

const SEED = chaosSeed(606);

describe('chaos 6: Slack 429/500 bursts and SMTP refusing for a while', () => {
  let world: ChaosWorld;

  beforeAll(async () => {
    world = await ChaosWorld.create({ name: 's6-delivery-outages', seed: SEED });
  });

  afterAll(async () => {
    await world?.close();
  });

  it('delivers everything later, once each', async () => {
    await world.startReplicas(1);
    await world.waitForFirstSync();
    const random = createRandom(SEED ^ 0x0c0ffee);
    const driver = world.driver();
    const jobs = byScale(16, 40);
    const flowing = driver.flow({ jobs, everyMs: 250 });

    const bursts = byScale(3, 8);
    let slack429 = 0;
    let slack500 = 0;
    let smtpRefused = 0;
    for (let i = 0; i < bursts; i += 1) {
      // Each burst starts once more transitions are out, so it hits messages in flight.
      const target = Math.ceil(((i + 1) * jobs) / (bursts + 2));
      await world.until(() => world.ledger.transitions.length >= target, 120_000, `transition ${target}`);
      const n429 = random.int(3, 8);
      const n500 = random.int(3, 8);
      const nSmtp = random.int(5, 15);
      world.slack.failNext(n429, { status: 429, retryAfterSec: random.int(1, 2) });
      world.slack.failNext(n500, { status: random.pick([500, 502, 503]) });
      // SMTP refuses every attempt for a while, at a random stage, with a temporary failure.
      world.smtp.refuseNext(nSmtp, { code: random.pick([421, 451, 452]), stage: random.pick(['mail', 'rcpt', 'data'] as const) });
      slack429 += n429;
      slack500 += n500;
      smtpRefused += nSmtp;
    }
    await flowing;

    await settleAndJudge(world, {
      id: 6,
      scenario: 'Slack 429/500 bursts, SMTP refusing',
      seed: SEED,
      notes: `${bursts} bursts: Slack ${slack429}×429 and ${slack500}×5xx, SMTP ${smtpRefused} refusals (421/451/452)`,
    });
  }, scenarioTimeoutMs());
});
