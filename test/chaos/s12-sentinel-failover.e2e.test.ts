import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChaosWorld } from './harness/chaos-world.js';
import { settleAndJudge } from './harness/scenario.js';
import { byScale, chaosSeed, scenarioTimeoutMs } from './harness/scale.js';

const SEED = chaosSeed(1212);

describe('chaos 12: Sentinel failover mid-run (redis+sentinel://, two daemon replicas)', () => {
  let world: ChaosWorld;

  beforeAll(async () => {
    world = await ChaosWorld.create({ name: 's12-sentinel-failover', seed: SEED, topology: 'sentinel' });
  }, 120_000);

  afterAll(async () => {
    await world?.close();
  });

  it('follows SENTINEL FAILOVER and a crashed primary: nothing lost, duplicates only in the failover window, /readyz 503 while no primary answers and 200 after', async () => {
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

    // Then the primary crashes (SIGKILL): until the Sentinels promote the replica no primary
    // answers, and /readyz must say so; once promoted, it must be 200 again by itself.
    const probed: number[] = [];
    let probing = true;
    const probe = (async () => {
      while (probing) {
        const status = await world.readyz(replicas[0]!);
        if (typeof status === 'number') probed.push(status);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    })();
    const crashed = await world.crashPrimary();
    moves.push(`${crashed.from} crashed → ${crashed.to}`);
    for (const replica of replicas) {
      await world.until(async () => (await world.readyz(replica)) === 200, 60_000, `${replica.name} ready after the crash`);
    }
    probing = false;
    await probe;
    expect(probed, '/readyz of r1 while the primary was down').toContain(503);

    const { tally } = await settleAndJudge(world, {
      id: 12,
      scenario: 'Sentinel failover mid-run',
      seed: SEED,
      notes: `redis+sentinel:// with 3 Sentinels, a primary and a replica; 2 daemon replicas; SENTINEL FAILOVER ×${failovers} while ${jobs} jobs ran, then the primary SIGKILLed (${moves.join(', ')}); /readyz 503 while no primary answered (${probed.filter((status) => status === 503).length} of ${probed.length} probes), 200 on both after`,
      allowCrashWindow: true,
    });
    expect(tally.lost).toBe(0);
  }, scenarioTimeoutMs());
});
