import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRandom } from '../../src/simulator/random.js';
import { ChaosWorld } from './harness/chaos-world.js';
import { settleAndJudge } from './harness/scenario.js';
import { byScale, chaosSeed, scenarioTimeoutMs } from './harness/scale.js';

const SEED = chaosSeed(1010);
const HOUR = 3_600_000;
/** The daemon's log line that counts history recorded after the first sync. */
const HISTORY_COUNTED = 'jobs first seen already ended before the first sync were recorded as history, not announced';

describe('chaos 10: GEM answers an empty list first', () => {
  let world: ChaosWorld;

  beforeAll(async () => {
    // One job type, so the one empty answer is certainly its first sync's.
    world = await ChaosWorld.create({ name: 's10-empty-first-list', seed: SEED, jobTypes: ['ROAD_MATCHING'] });
  });

  afterAll(async () => {
    await world?.close();
  });

  it('announces none of the history, and every end after the first sync once', async () => {
    const random = createRandom(SEED ^ 0x10);
    const { sim, ledger } = world;
    // An account's history: jobs that ended days ago. None may ever be announced (the ledger
    // counts any message about them as unexpected).
    const history = byScale(30, 300);
    for (let i = 0; i < history; i += 1) {
      const endedAt = Date.now() - random.int(2, 90) * 24 * HOUR;
      sim.upsertJob({
        jobType: 'ROAD_MATCHING',
        status: random.next() < 0.3 ? 'failed' : 'finished',
        createdAt: new Date(endedAt - random.int(1, 10) * HOUR).toISOString(),
        modifiedAt: new Date(endedAt).toISOString(),
      });
    }
    // Running while GEM answered nothing: their ends come after the first sync and are news.
    const during = Array.from({ length: byScale(4, 10) }, () =>
      sim.upsertJob({ jobType: 'ROAD_MATCHING', status: 'running', progress: 40, createdAt: new Date(Date.now() - 5 * HOUR).toISOString() }),
    );

    sim.failNext('emptyList', 1, 'list');
    const [daemon] = await world.startReplicas(1);
    await world.waitForFirstSync();
    expect((await world.firstSyncProgress()).indexed, 'the first sync saw an empty list').toBe(0);

    for (const job of during) {
      const status = random.next() < 0.3 ? 'failed' : 'finished';
      sim.setStatus(job.id, status);
      ledger.expect({ jobId: job.id, jobType: job.jobType, status, at: Date.now() });
    }
    const jobs = byScale(16, 40);
    await world.driver({ jobTypes: ['ROAD_MATCHING'] }).flow({ jobs, everyMs: 250 });

    await settleAndJudge(world, {
      id: 10,
      scenario: 'GEM answers an empty list first',
      seed: SEED,
      notes: `first list answer {"jobs": []} with ${history} old jobs in GEM (ended 2–90 days before), none announced; ${during.length} jobs running during it and ${jobs} later ones announced`,
    });
    // The history was read and recorded as such (not missed): the counts logged add up to it.
    await world.until(
      () => daemon!.logs(HISTORY_COUNTED).reduce((sum, line) => sum + Number(line.json?.count ?? 0), 0) >= history,
      60_000,
      'the history count in the log',
    );
    expect(daemon!.logs(HISTORY_COUNTED).reduce((sum, line) => sum + Number(line.json?.count ?? 0), 0)).toBe(history);
  }, scenarioTimeoutMs());
});
