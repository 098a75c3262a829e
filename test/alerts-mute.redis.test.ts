import { describe, expect, it } from 'vitest';
import { type AlertsWorld, notifyQueueDrained, promoteDelayed, slackText, useAlertsParts } from './alerts-support.js';
import { SilenceStore } from '../src/state/silence-store.js';
import { waitFor } from './helpers/pipeline.js';

/**
 * Quiet hours that hold, not drop: the pipeline's clock is set inside a route's mute window; what
 * arrives is held in Redis and sent as one summary by the delayed task at the window's end (the
 * test moves the clock to the end and promotes the task, as the passing of time would).
 */

const parts = useAlertsParts('alerts-mute-key');
const { sim } = parts;
const EVENING = Date.parse('2026-01-20T20:00:00Z');
const MORNING = Date.parse('2026-01-21T08:00:30Z');
const DAY = 86_400_000;

function world(defaultRoute: Record<string, unknown>): AlertsWorld {
  return parts.world({
    start: EVENING,
    yaml: { alerts: { defaultRoute: { timezone: 'UTC', mute: [{ days: [], start: '19:00', end: '08:00' }], ...defaultRoute } } },
  });
}

async function outcomes(w: AlertsWorld, jobId: string, outcome: string): Promise<string[]> {
  return (await w.log.query({ jobId })).filter((entry) => entry.outcome === outcome).map((entry) => entry.channel).sort();
}

describe('quiet hours', () => {
  it('holds what arrives in a mute window and delivers it once, in one summary at the window end', async () => {
    const w = world({});
    sim.upsertJob({ id: 'm1', status: 'running', progress: 40 });
    sim.upsertJob({ id: 'm2', status: 'running', progress: 40 });
    await w.pipeline.pollOnce();
    sim.setStatus('m1', 'finished');
    sim.setStatus('m2', 'failed', { message: 'Input check failed: no geometry column' });
    await w.pipeline.pollOnce();

    await waitFor(async () => (await outcomes(w, 'm1', 'held')).length === 2 && (await outcomes(w, 'm2', 'held')).length === 2, 'both jobs held on both channels');
    const delayed = await w.pipeline.notifyQueue.getDelayed();
    expect(delayed.map((task) => task.id).sort()).toEqual(['notify-held-g1-default-email-route', 'notify-held-g1-default-slack-default']);
    // Due at the window's end, 08:00 the next morning (12 hours after the clock's 20:00).
    for (const task of delayed) expect(task.delay).toBe(12 * 3_600_000);
    expect(w.slackMessages()).toHaveLength(0);
    expect(w.mails()).toHaveLength(0);

    w.clock.now = MORNING;
    await promoteDelayed(w);
    await waitFor(() => w.slackMessages().length >= 1 && w.mails().length >= 1, 'the summary in Slack and by email');
    await notifyQueueDrained(w);
    expect(w.slackMessages()).toHaveLength(1);
    expect(w.mails()).toHaveLength(1);
    const summary = slackText(w.slackMessages()[0]!);
    expect(summary).toContain('Held while muted: 2 job updates for route default');
    expect(summary).toContain('quiet hours 19:00–08:00 UTC');
    expect(summary).toContain('ROAD_MATCHING job m2 failed: Input check failed: no geometry column');
    expect(summary).toContain('m1 ');
    expect(w.mails()[0]!.subject).toBe('[gem-watch] Held while muted: 2 job updates for route default: 1 failed, 1 finished');
    expect(await outcomes(w, 'm1', 'delivered')).toEqual(['email', 'slack']);

    // After the window, news goes out on its own again.
    sim.upsertJob({ id: 'm3', status: 'running', progress: 10 });
    await w.pipeline.pollOnce();
    sim.setStatus('m3', 'finished');
    await w.pipeline.pollOnce();
    await waitFor(() => w.slackMessages().length >= 2, 'the next job after the window');
    expect(slackText(w.slackMessages()[1]!)).toContain('ROAD_MATCHING job m3 finished');
  });

  it('lets failures break through when the route says so, and holds the rest', async () => {
    const w = world({ failuresBreakThrough: true });
    sim.upsertJob({ id: 'f1', status: 'running', progress: 40 });
    sim.upsertJob({ id: 'ok1', status: 'running', progress: 40 });
    await w.pipeline.pollOnce();
    sim.setStatus('f1', 'failed');
    sim.setStatus('ok1', 'finished');
    await w.pipeline.pollOnce();
    await waitFor(() => w.slackMessages().length >= 1 && w.mails().length >= 1, 'the failure, at once');
    await waitFor(async () => (await outcomes(w, 'ok1', 'held')).length === 2, 'the finished job held');
    expect(slackText(w.slackMessages()[0]!)).toContain('ROAD_MATCHING job f1 failed');
    expect(w.slackMessages()).toHaveLength(1);
    expect(w.mails()).toHaveLength(1);
  });
});

describe('silences', () => {
  it('keeps what a silence longer than the delivery retention holds until a day past its end', async () => {
    const w = parts.world({ start: EVENING, yaml: { retention: { deliveriesDays: 7 } } });
    await new SilenceStore(w.pipeline.redis, w.pipeline.keys).add({ route: 'default', durationMs: 60 * DAY, now: EVENING });
    sim.upsertJob({ id: 's1', status: 'running', progress: 40 });
    await w.pipeline.pollOnce();
    sim.setStatus('s1', 'finished');
    await w.pipeline.pollOnce();
    await waitFor(async () => (await outcomes(w, 's1', 'held')).length === 2, 'the job held on both channels');
    const members = await w.pipeline.redis.keys(w.pipeline.keys.gatherMembers('held', '*'));
    expect(members.length).toBeGreaterThan(0);
    for (const key of members) expect(await w.pipeline.redis.pttl(key)).toBeGreaterThan(60 * DAY);
  });
});
