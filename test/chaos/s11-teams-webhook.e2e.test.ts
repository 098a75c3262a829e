import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRandom } from '../../src/simulator/random.js';
import { ChaosWorld } from './harness/chaos-world.js';
import { settleAndJudge } from './harness/scenario.js';
import { byScale, chaosSeed, scenarioTimeoutMs } from './harness/scale.js';

const SEED = chaosSeed(1_111);

/**
 * Chaos 11: Teams and the signed webhook under faults, beside Slack. Two replicas deliver to the
 * Workflows sink and to a receiver that verifies every signature with `standardwebhooks`, while
 * both answer in bursts of 429 (with Retry-After) and 5xx, drop connections and hang, and one
 * replica is SIGKILLed mid-flow. Every transition must reach each channel; the copies a kill admits
 * are counted as the crash window. On the webhook every copy of one delivery carries the same
 * `webhook-id`, which the scenario checks too: a receiver that deduplicates by it takes each once.
 */
describe('chaos 11: Teams and the signed webhook under 429s, 5xx, dropped connections and a SIGKILL', () => {
  let world: ChaosWorld;

  beforeAll(async () => {
    world = await ChaosWorld.create({ name: 's11-teams-webhook', seed: SEED, channels: ['slack', 'teams', 'webhook'] });
  });

  afterAll(async () => {
    await world?.close();
  });

  it('delivers every transition on each channel, once but for the crash window, with one webhook-id per delivery', async () => {
    await world.startReplicas(2);
    await world.waitForFirstSync();
    const random = createRandom(SEED ^ 0x7ea5);
    const driver = world.driver();
    const jobs = byScale(16, 40);
    const flowing = driver.flow({ jobs, everyMs: 250 });

    const bursts = byScale(2, 5);
    let teamsFaults = 0;
    let webhookFaults = 0;
    for (let i = 0; i < bursts; i += 1) {
      const target = Math.ceil(((i + 1) * jobs) / (bursts + 2));
      await world.until(() => world.ledger.transitions.length >= target, 120_000, `transition ${target}`);
      const n429 = random.int(2, 5);
      const n5xx = random.int(2, 5);
      world.teams.failNext(n429, { status: 429, retryAfterSec: 1 });
      world.teams.failNext(n5xx, { status: random.pick([500, 502, 503]) });
      world.teams.failNext(1, { drop: true });
      world.receiver.failNext(n5xx, { status: random.pick([500, 503]) });
      world.receiver.failNext(n429, { status: 429, retryAfterSec: 1 });
      world.receiver.failNext(1, random.pick([{ drop: true as const }, { hang: true as const }]));
      teamsFaults += n429 + n5xx + 1;
      webhookFaults += n5xx + n429 + 1;
      if (i === 0) {
        // The killed replica comes back, as an orchestrator would restart it.
        const victim = world.replicas[random.int(0, 1)]!;
        await world.kill(victim);
        await victim.start();
      }
    }
    await flowing;

    const { tally } = await settleAndJudge(world, {
      id: 11,
      scenario: 'Teams and signed webhook faults, a SIGKILL',
      seed: SEED,
      allowCrashWindow: true,
      notes: `${bursts} bursts: Teams ${teamsFaults} faults (429 Retry-After 1 s, 5xx, drops), webhook ${webhookFaults} (5xx, 429, a drop or hang each); 1 SIGKILL; every webhook request verified`,
    });
    expect(tally.byChannel.teams!.lost + tally.byChannel.webhook!.lost).toBe(0);
    // Every copy of one webhook delivery, failed attempts included, carried one webhook-id.
    const idsByTransition = new Map<string, Set<string>>();
    for (const request of world.receiver.requests) {
      expect(request.verified, `webhook request ${request.id} failed verification: ${request.error}`).toBe(true);
      const data = request.event?.data as { job?: { id?: string }; transition?: { to?: string } } | undefined;
      if (!request.event?.type.startsWith('job.') || !data?.job?.id) continue;
      const key = `${data.job.id} ${data.transition?.to}`;
      idsByTransition.set(key, (idsByTransition.get(key) ?? new Set()).add(request.id!));
    }
    for (const [key, ids] of idsByTransition) expect([...ids], key).toHaveLength(1);
    expect(idsByTransition.size).toBe(tally.transitions);
  }, scenarioTimeoutMs());
});
