import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChaosWorld } from './harness/chaos-world.js';
import { settleAndJudge } from './harness/scenario.js';
import { byScale, chaosSeed, scenarioTimeoutMs } from './harness/scale.js';

const SEED = chaosSeed(1111);

describe('chaos 11: Sentinel failover mid-run (redis+sentinel://, two daemon replicas)', () => {
  let world: ChaosWorld;

  beforeAll(async () => {
    world = await ChaosWorld.create({ name: 's11-sentinel-failover', seed: SEED, topology: 'sentinel' });
  }, 120_000);

  afterAll(async () => {
    await world?.close();
  });

  it('follows SENTINEL FAILOVER: nothing lost, duplicates only in the failover window, /readyz 200 after', async () => {
    const replicas = await world.startReplicas(2);
    await world.waitForFirstSync();
    const jobs = byScale(16, 60);
    const failovers = byScale(1, 3);
    const flowing = world.driver().flow({ jobs, everyMs: 250 });
    const moves: string[] = [];
    for (let i = 0; i < failovers; i += 1) {
      // Once a share of the transitions are out, while the rest are being detected and delivered.
      const share = Math.ceil(((i + 1) * jobs) / (failovers + 2));
      await world.until(() => world.ledger.transitions.length >= share && world.slack.accepted().length > 0, 120_000, `${share} transitions`);
      const moved = await world.failover();
      moves.push(`${moved.from} → ${moved.to}`);
    }
    await flowing;
    for (const replica of replicas) {
      await world.until(async () => (await world.readyz(replica)) === 200, 60_000, `${replica.name} ready after the failover`);
    }

    const { tally } = await settleAndJudge(world, {
      id: 11,
      scenario: 'Sentinel failover mid-run',
      seed: SEED,
      notes: `redis+sentinel:// with 3 Sentinels, a primary and a replica; 2 daemon replicas; SENTINEL FAILOVER ×${failovers} (${moves.join(', ')}) while ${jobs} jobs ran; /readyz 200 on both after`,
      allowCrashWindow: true,
    });
    expect(tally.lost).toBe(0);
  }, scenarioTimeoutMs());
});
