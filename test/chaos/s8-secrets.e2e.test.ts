import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRandom } from '../../src/simulator/random.js';
import { ChaosWorld } from './harness/chaos-world.js';
import { settleAndJudge } from './harness/scenario.js';
import { byScale, chaosSeed, scenarioTimeoutMs } from './harness/scale.js';

const SEED = chaosSeed(808);

/**
 * Chaos 8: secrets. Every scenario scans every line its daemons printed (settleAndJudge fails it
 * on a leak, and the summary adds their counts up here). This scenario goes looking for leaks where
 * they usually happen: error paths that quote what a server said or where a request went. Slack
 * answers 500 with the webhook URL in the body and drops connections; SMTP refuses with the
 * password in its reply; GEM rejects the bearer token for a while (the credential alerts go out);
 * and afterwards every value in Redis (task data, failed reasons, stacks, markers) is scanned too.
 */
describe('chaos 8: no secret in any log line, error or stored task', () => {
  let world: ChaosWorld;

  beforeAll(async () => {
    world = await ChaosWorld.create({ name: 's8-secrets', seed: SEED });
  });

  afterAll(async () => {
    await world?.close();
  });

  it('keeps the API key, the token, the webhook URL and the SMTP password out of logs and Redis', async () => {
    await world.startReplicas(2);
    await world.waitForFirstSync();
    const random = createRandom(SEED ^ 0x5ec);
    const secret = (name: string) => world.secrets.find((entry) => entry.name === name)!.value;
    const driver = world.driver();
    const jobs = byScale(12, 30);
    const flowing = driver.flow({ jobs, everyMs: 300 });

    await world.until(() => world.ledger.transitions.length >= 2, 60_000, 'the first transitions');
    world.slack.failNext(random.int(2, 4), { status: 500, body: `internal error posting to ${secret('Slack webhook URL')}` });
    world.slack.failNext(random.int(2, 4), { drop: true });
    world.slack.failNext(1, { hang: true });
    world.smtp.refuseNext(random.int(3, 6), { code: 451, message: `4.7.0 Try again later (login chaos:${secret('SMTP password')} throttled)` });
    world.sim.failNext(500, random.int(2, 4));

    // GEM stops accepting the bearer token until it "rotates back": every call is a 401 meanwhile.
    await world.until(() => world.ledger.transitions.length >= Math.ceil(jobs / 3), 120_000, 'a third of the transitions');
    world.sim.setBearerToken(`rotated-${secret('bearer token').slice(-6)}`);
    const refused = world.sim.counts.byStatus['401'] ?? 0;
    await world.until(() => (world.sim.counts.byStatus['401'] ?? 0) >= refused + 6, 60_000, 'GEM refusing the token');
    world.sim.setBearerToken(secret('bearer token'));
    await flowing;

    const { row } = await settleAndJudge(world, {
      id: 8,
      scenario: 'Secrets in logs and Redis',
      seed: SEED,
      notes: 'Slack 500 quoting the webhook URL, dropped and hung posts; SMTP refusals quoting the password; GEM refusing the token (credential alerts sent); every Redis value scanned too',
    });
    expect(row.scan!.lines).toBeGreaterThan(50);

    const stored = await world.dumpRedis();
    const leaks = world.secrets.filter((entry) => stored.includes(entry.value)).map((entry) => entry.name);
    expect(stored.length).toBeGreaterThan(10_000);
    expect(leaks, 'secrets stored in Redis (task data, failed reasons, stacks, markers)').toEqual([]);
  }, scenarioTimeoutMs());
});
