import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRandom } from '../../src/simulator/random.js';
import { ChaosWorld, SLACK_APP_CHANNEL_NAME } from './harness/chaos-world.js';
import { slackAppHeadline } from './harness/ledger.js';
import { settleAndJudge } from './harness/scenario.js';
import { byScale, chaosSeed, scenarioTimeoutMs } from './harness/scale.js';

const SEED = chaosSeed(1_111);

/**
 * Chaos 11: Teams, the signed webhook and Slack app mode under faults, beside Slack. Two replicas
 * deliver to the Workflows sink, to a receiver that verifies every signature with
 * `standardwebhooks`, and to the Slack Web API simulator, while all three answer in bursts of 429
 * (with Retry-After; Slack also `ok: false` `ratelimited`) and 5xx, drop connections and hang or
 * answer slowly, and one replica is SIGKILLed mid-flow. Every transition must reach each channel;
 * the copies a kill admits are counted as the crash window. On the webhook every copy of one
 * delivery carries the same `webhook-id`, which the scenario checks too: a receiver that
 * deduplicates by it takes each once. In Slack app mode (jobs shown live) each job must end as one
 * top-level message, posted once and updated in place, showing its end, with that end replied
 * once in its thread; a second top-level message is only admitted in the window between Slack's
 * answer to the first post and its ts being stored.
 */
describe('chaos 11: Teams, the signed webhook and Slack app mode under 429s, 5xx, dropped connections and a SIGKILL', () => {
  let world: ChaosWorld;

  beforeAll(async () => {
    world = await ChaosWorld.create({ name: 's11-teams-webhook', seed: SEED, channels: ['slack', 'teams', 'webhook', 'slack-app'] });
  });

  afterAll(async () => {
    await world?.close();
  });

  it('delivers every transition on each channel, once but for the crash window, with one webhook-id per delivery and one Slack message per job', async () => {
    await world.startReplicas(2);
    await world.waitForFirstSync();
    const random = createRandom(SEED ^ 0x7ea5);
    // Slack app mode's faults draw from their own stream, so a seed replays Teams' and the webhook's as before.
    const appRandom = createRandom(SEED ^ 0x51ac);
    const driver = world.driver();
    const jobs = byScale(16, 40);
    const flowing = driver.flow({ jobs, everyMs: 250 });

    const bursts = byScale(2, 5);
    let teamsFaults = 0;
    let webhookFaults = 0;
    let appFaults = 0;
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
      // Any method: a first post, an update or a reply. Slack carries none of these out (a drop
      // closes the connection before the call is read), and a slow answer comes within the
      // timeout: an answer lost after Slack posted is the fourth crash window, which no kill
      // explains to the ledger.
      const app429 = appRandom.int(2, 5);
      const app5xx = appRandom.int(2, 4);
      world.slackApi.failNext(app429, { ratelimited: true, retryAfterSec: 1 });
      world.slackApi.failNext(1, { error: 'ratelimited' });
      world.slackApi.failNext(app5xx, { status: appRandom.pick([500, 502, 503]) });
      world.slackApi.failNext(1, { error: 'internal_error' });
      world.slackApi.failNext(1, { drop: true });
      world.slackApi.failNext(1, { delayMs: 1_500 });
      appFaults += app429 + app5xx + 4;
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
      scenario: 'Teams, signed webhook and Slack app faults, a SIGKILL',
      seed: SEED,
      allowCrashWindow: true,
      notes: `${bursts} bursts: Teams ${teamsFaults} faults (429 Retry-After 1 s, 5xx, drops), webhook ${webhookFaults} (5xx, 429, a drop or hang each), Slack app ${appFaults} (429 Retry-After 1 s, ok:false ratelimited and internal_error, 5xx, a drop and a 1.5 s answer each); 1 SIGKILL; every webhook request verified`,
    });
    const app = tally.byChannel['slack-app']!;
    expect(tally.byChannel.teams!.lost + tally.byChannel.webhook!.lost + app.lost).toBe(0);
    // One top-level message per job but for the crash window, updated in place (the ledger's
    // problems, asserted empty above, name any message that does not show its end).
    expect(app.jobMessages! - tally.transitions, 'top-level messages beyond one per job, each in the crash window').toBeLessThanOrEqual(app.crashWindow);
    expect(app.updates, 'jobs shown live: their messages were updated in place').toBeGreaterThan(0);
    // The same read from Slack's side: each job's last message shows its end, whose reply is in
    // its thread (twice only through the crash window, which the ledger judged).
    const shown = world.slackApi.messages(SLACK_APP_CHANNEL_NAME);
    for (const transition of world.ledger.transitions) {
      const last = shown.filter((message) => slackAppHeadline(message.text)?.jobId === transition.jobId).at(-1);
      expect(slackAppHeadline(last?.text), `job ${transition.jobId}'s message`).toEqual({ jobId: transition.jobId, status: transition.status });
      const ends = world.slackApi.thread(SLACK_APP_CHANNEL_NAME, last!.ts).filter((reply) => slackAppHeadline(reply.text)?.status === transition.status);
      expect(ends.length, `job ${transition.jobId}'s end replies`).toBeGreaterThanOrEqual(1);
      expect(ends.length - 1).toBeLessThanOrEqual(app.crashWindow);
    }
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
