import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startTeamsSink, type TeamsSink } from '../src/simulator/teams-workflows-sink.js';
import { startWebhookReceiver, type WebhookReceiver } from '../src/simulator/webhook-receiver.js';
import { type AlertsWorld, notifyQueueDrained, promoteDelayed, useAlertsParts } from './alerts-support.js';
import { waitFor } from './helpers/pipeline.js';

/**
 * Quiet hours, bursts and the notification log on Teams and the signed webhook, end to end: the
 * simulator, the real pipeline and notify worker, the Workflows sink and a verifying receiver,
 * over a real Redis. The policy stage treats them as any channel: held and grouped per
 * (route, channel, endpoint), sent once.
 */

const parts = useAlertsParts('alerts-teams-webhook-key');
const { sim } = parts;
const EVENING = Date.parse('2026-01-20T20:00:00Z');
const MORNING = Date.parse('2026-01-21T08:00:30Z');
let teams: TeamsSink;
let receiver: WebhookReceiver;

beforeAll(async () => {
  teams = await startTeamsSink();
  receiver = await startWebhookReceiver();
});
afterAll(async () => {
  await teams.close();
  await receiver.close();
});
beforeEach(() => {
  teams.reset();
  receiver.reset();
});

function world(yaml: Record<string, unknown>, start: number): AlertsWorld {
  return parts.world({
    start,
    yaml: { teams: { webhookUrl: teams.webhookUrl() }, webhook: { url: receiver.url, secret: receiver.secret }, ...yaml },
  });
}

function cardTitle(index: number): string {
  const body = teams.shown()[index]?.card?.body as Array<{ text?: string }> | undefined;
  return body?.[0]?.text ?? '';
}

describe('Teams and the signed webhook under the alert policies', () => {
  it('holds what arrives in quiet hours and sends one held card and one group.held event at the end', async () => {
    const w = world({ alerts: { defaultRoute: { timezone: 'UTC', mute: [{ days: [], start: '19:00', end: '08:00' }] } } }, EVENING);
    sim.upsertJob({ id: 'q1', status: 'running', progress: 40 });
    sim.upsertJob({ id: 'q2', status: 'running', progress: 40 });
    await w.pipeline.pollOnce();
    sim.setStatus('q1', 'finished');
    sim.setStatus('q2', 'failed', { message: 'Input check failed' });
    await w.pipeline.pollOnce();

    const held = async () => (await w.log.query({ jobId: 'q2' })).filter((entry) => entry.outcome === 'held').map((entry) => entry.channel).sort();
    await waitFor(async () => (await held()).length === 4, 'q2 held on every channel');
    expect(await held()).toEqual(['email', 'slack', 'teams', 'webhook']);
    expect(teams.requests).toHaveLength(0);
    expect(receiver.requests).toHaveLength(0);

    w.clock.now = MORNING;
    await promoteDelayed(w);
    await waitFor(() => teams.shown().length >= 1 && receiver.deliveries().length >= 1, 'the held summary on Teams and the webhook');
    await notifyQueueDrained(w);
    expect(teams.shown()).toHaveLength(1);
    expect(cardTitle(0)).toContain('Held while muted: 2 job updates for route default');
    expect(receiver.deliveries()).toHaveLength(1);
    const event = receiver.deliveries()[0]!;
    expect(event.id).toBe('notify-held-g1-default-webhook-default');
    expect(event.event).toMatchObject({ type: 'group.held', data: { group: { kind: 'held', route: 'default', total: 2 } } });
    expect((event.event!.data.group as { reasons: string[] }).reasons.join(' ')).toContain('quiet hours 19:00–08:00 UTC');
  });

  it('sends the first of a burst at once and the rest as one grouped card and one group.burst event', async () => {
    const w = world({ alerts: { burstWindowSec: 2 } }, Date.now());
    const ids = Array.from({ length: 8 }, (_, index) => `t${index}`);
    for (const id of ids) sim.upsertJob({ id, status: 'running', progress: 50 });
    await w.pipeline.pollOnce();
    for (const id of ids) sim.setStatus(id, 'finished', { statistics: { roadsMatchedPct: 95 } });
    await w.pipeline.pollOnce();

    await waitFor(() => teams.shown().length >= 2 && receiver.deliveries().length >= 2, 'a single and a grouped message on each', 45_000);
    await notifyQueueDrained(w);
    expect(teams.shown()).toHaveLength(2);
    expect(cardTitle(1)).toContain('7 job updates for route default');
    const [single, group] = receiver.deliveries();
    expect(single?.event?.type).toBe('job.finished');
    expect(group?.event).toMatchObject({ type: 'group.burst', data: { group: { kind: 'burst', total: 7 } } });
    expect((group!.event!.data.group as { items: unknown[] }).items).toHaveLength(7);
    const delivered = (await w.log.query({ jobId: 't0' })).concat(await w.log.query({ jobId: 't1' })).filter((entry) => entry.outcome === 'delivered' || entry.outcome === 'grouped');
    expect(new Set(delivered.map((entry) => entry.channel))).toEqual(new Set(['slack', 'email', 'teams', 'webhook']));
  });
});
