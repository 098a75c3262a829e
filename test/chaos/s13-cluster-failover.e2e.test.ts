import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChaosWorld } from './harness/chaos-world.js';
import { settleAndJudge } from './harness/scenario.js';
import { byScale, chaosSeed, scenarioTimeoutMs } from './harness/scale.js';

const SEED = chaosSeed(1313);

describe('chaos 13: Redis Cluster failover mid-run (redis+cluster://, default prefix)', () => {
  let world: ChaosWorld;

  beforeAll(async () => {
    world = await ChaosWorld.create({ name: 's13-cluster-failover', seed: SEED, topology: 'cluster' });
  }, 120_000);

  afterAll(async () => {
    await world?.close();
  });

  it('follows CLUSTER FAILOVER of the master serving {gemwatch} and a SIGKILL: nothing lost, every key in one slot', async () => {
    const [daemon] = await world.startReplicas(1);
    await world.waitForFirstSync();
    const jobs = byScale(16, 60);
    const failovers = byScale(1, 3);
    const flowing = world.driver().flow({ jobs, everyMs: 250 });
    const moves: string[] = [];
    for (let i = 0; i < failovers; i += 1) {
      const share = Math.ceil(((i + 1) * jobs) / (failovers + 3));
      await world.until(() => world.ledger.transitions.length >= share && world.slack.accepted().length > 0, 120_000, `${share} transitions`);
      const moved = await world.failover();
      moves.push(`${moved.from} → ${moved.to}`);
    }
    // And a SIGKILL and restart on the cluster, once more transitions are out.
    const before = world.ledger.transitions.length;
    await world.until(() => world.ledger.transitions.length > before, 120_000, 'a transition after the failover');
    await world.kill(daemon!);
    await daemon!.start();
    await flowing;
    await world.until(async () => (await world.readyz(daemon!)) === 200, 60_000, '/readyz 200 on the cluster after the failovers and the restart');

    const { tally } = await settleAndJudge(world, {
      id: 13,
      scenario: 'Cluster failover mid-run',
      seed: SEED,
      notes: `redis+cluster:// naming 2 seeds that do not serve the prefix slot, 3 masters with a replica each, default prefix {gemwatch}; CLUSTER FAILOVER ×${failovers} of the master serving it (${moves.join(', ')}) and 1 SIGKILL while ${jobs} jobs ran; /readyz 200 after`,
      allowCrashWindow: true,
    });
    expect(tally.lost).toBe(0);
    // Every key, BullMQ's and the state's, in the slot of {gemwatch}.
    const slots = await world.keySlots();
    const slot = world.topology?.kind === 'cluster' ? await world.topology.cluster.slotOf('{gemwatch}') : -1;
    expect([...slots.keys()], JSON.stringify([...slots])).toEqual([slot]);
  }, scenarioTimeoutMs());
});
