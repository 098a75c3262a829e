import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRandom } from '../../src/simulator/random.js';
import { ChaosWorld } from './harness/chaos-world.js';
import { settleAndJudge } from './harness/scenario.js';
import { secretsIn } from './harness/secret-scan.js';
import { byScale, chaosSeed, scenarioTimeoutMs } from './harness/scale.js';

const SEED = chaosSeed(808);

/**
 * Chaos 8: secrets. Every scenario scans every line its daemons printed (settleAndJudge fails it
 * on a leak, and the summary adds their counts up here). This scenario goes looking for leaks where
 * they usually happen: error paths that quote what a server said or where a request went, on every
 * channel at once. Slack answers 500 with the webhook URL in the body and drops connections; SMTP
 * refuses with the password in its reply; Teams answers 500 quoting its Workflows URL, the webhook
 * receiver 500 quoting the signing secret, and Slack's Web API 500 and `ok: false` quoting the bot
 * token; GEM rejects the bearer token for a while (the credential alerts go out). Afterwards every
 * value in Redis (task data, failed reasons, stacks, markers, Slack message refs) and every page the
 * replicas serve (status page, /readyz, /metrics, bull-board's task listings) is scanned too.
 */
describe('chaos 8: no secret in any log line, error, stored task or page', () => {
  let world: ChaosWorld;

  beforeAll(async () => {
    world = await ChaosWorld.create({ name: 's8-secrets', seed: SEED, channels: ['slack', 'email', 'teams', 'webhook', 'slack-app'] });
  });

  afterAll(async () => {
    await world?.close();
  });

  it('keeps every credential (GEM, Slack webhook and bot token, SMTP, Teams, webhook signing) out of logs, Redis and pages', async () => {
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
    world.teams.failNext(random.int(2, 4), { status: 500, body: JSON.stringify({ error: { code: 'InternalServerError', message: `flow failed at ${secret('Teams Workflows URL')}` } }) });
    world.teams.failNext(1, { drop: true });
    world.receiver.failNext(random.int(2, 4), { status: 500, body: `could not verify: expected whsec_${secret('webhook signing secret')}` });
    world.receiver.failNext(1, { hang: true });
    // Retryable all: a 500 from a proxy, and Slack's own retryable error word with the token beside it.
    world.slackApi.failNext(random.int(2, 4), { status: 500, body: `upstream refused Authorization: Bearer ${secret('Slack bot token')}` });
    world.slackApi.failNext(random.int(1, 3), { status: 200, body: JSON.stringify({ ok: false, error: 'internal_error', warning: `token ${secret('Slack bot token')}` }) });
    world.slackApi.failNext(1, { drop: true });
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
      scenario: 'Secrets in logs, Redis and pages',
      seed: SEED,
      notes: `Slack 500 quoting the webhook URL, dropped and hung posts; SMTP refusals quoting the password; Teams 500 quoting its URL, webhook 500 quoting the signing secret, Slack Web API 500 and ok:false quoting the bot token; GEM refusing the token (credential alerts sent); every Redis value and every page the replicas serve (status, /readyz, /metrics, bull-board's task listings) scanned too`,
    });
    expect(row.scan!.lines).toBeGreaterThan(50);

    const stored = await world.dumpRedis();
    expect(stored.length).toBeGreaterThan(10_000);
    // Soft: a leak is reported wherever it is, in Redis and on every page that shows it.
    expect.soft(secretsIn(stored, world.secrets), 'secrets stored in Redis (task data, failed reasons, stacks, markers)').toEqual([]);

    // Read once everything settled, so bull-board lists every task the run left, failed reasons included.
    const pages = (await Promise.all(world.replicas.map(async (replica) => (await world.pages(replica)).map((page) => ({ ...page, replica: replica.name }))))).flat();
    for (const page of pages) expect.soft(secretsIn(page.body, world.secrets), `secrets on ${page.replica} ${page.path}`).toEqual([]);
    expect(pages.filter((page) => page.status === 200).map((page) => page.path)).toEqual(expect.arrayContaining(['/', '/readyz', '/metrics']));
    // bull-board listed tasks, data and all: the scan read what an operator's browser would.
    expect(pages.some((page) => page.path.includes('activeQueue=gem-notify&status=completed') && page.status === 200 && page.body.includes('"transition"'))).toBe(true);
  }, scenarioTimeoutMs());
});
