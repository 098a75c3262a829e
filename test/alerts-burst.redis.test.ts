import { describe, expect, it } from 'vitest';
import { destinationKey } from '../src/domain/route-settings.js';
import { type AlertsWorld, notifyQueueDrained, slackText, useAlertsParts } from './alerts-support.js';
import { waitFor } from './helpers/pipeline.js';

/**
 * Quality warnings and burst grouping end to end: the simulator, the real pipeline and notify
 * worker, the Slack sink and smtp-server, over a real Redis.
 */

const parts = useAlertsParts('alerts-burst-key');
const { sim } = parts;

function world(yaml: Record<string, unknown>): AlertsWorld {
  return parts.world({ yaml, start: Date.now() });
}

const STATS = (matched: number) => ({ roadsMatchedPct: matched, roadsFullyMatchedPct: matched - 5, roadsUnmatchedPct: 100 - matched, numRoadsProcessed: 1000 });

describe('quality thresholds', () => {
  it('announces a finished job below its route threshold as a warning naming it, in one message per channel', async () => {
    const w = world({
      alerts: { burstWindowSec: 0, defaultRoute: { thresholds: { roadsMatchedPct: 80 } } },
      routes: [{ name: 'eu', match: { inputFile: '^eu_' }, slack: ['default'], email: ['eu@example.com'], thresholds: { roadsMatchedPct: 90 }, continue: false }],
    });
    sim.upsertJob({ id: 'eu1', status: 'running', inputFile: 'eu_roads.parquet' });
    sim.upsertJob({ id: 'us1', status: 'running', inputFile: 'us_roads.parquet' });
    await w.pipeline.pollOnce();
    sim.setStatus('eu1', 'finished', { statistics: STATS(85) });
    sim.setStatus('us1', 'finished', { statistics: STATS(85) });
    await w.pipeline.pollOnce();
    await waitFor(() => w.slackMessages().length >= 2 && w.mails().length >= 2, 'two messages per channel');
    await notifyQueueDrained(w);

    const eu = w.slackMessages().map(slackText).filter((text) => text.includes('job eu1'));
    const us = w.slackMessages().map(slackText).filter((text) => text.includes('job us1'));
    expect(eu).toHaveLength(1);
    expect(us).toHaveLength(1);
    // 85% misses the eu route's 90%, not the default route's 80%.
    expect(eu[0]).toContain(':warning: ROAD_MATCHING job eu1 finished: 85% matched (below threshold)');
    expect(eu[0]).toContain('roads matched 85% is below the threshold of 90%');
    expect(us[0]).not.toContain('below threshold');
    expect(us[0]).toContain(':white_check_mark: ROAD_MATCHING job us1 finished: 85% matched');
    const euMail = w.mails().find((mail) => mail.subject.includes('eu1'))!;
    expect(euMail.subject).toBe('[gem-watch] WARNING ROAD_MATCHING job eu1 finished: 85% matched: below threshold');
    expect(euMail.text).toContain('WARNING: Below threshold: roads matched 85% is below the threshold of 90%.');
    expect(w.mails().find((mail) => mail.subject.includes('us1'))!.subject).not.toContain('WARNING');
    expect(w.slackMessages()).toHaveLength(2);
    expect(w.mails()).toHaveLength(2);
  });
});

describe('bursts', () => {
  it('sends the first of 40 jobs finishing together at once and the other 39 as one grouped message per channel', async () => {
    // A short quiet window keeps the test quick; the window restarts with each arrival, so a slow
    // machine delivering the 80 tasks over several seconds still makes one group.
    const w = world({ alerts: { burstWindowSec: 2, defaultRoute: { thresholds: { roadsMatchedPct: 80 } } } });
    const ids = Array.from({ length: 40 }, (_, i) => `b${String(i).padStart(2, '0')}`);
    for (const id of ids) sim.upsertJob({ id, status: 'running', progress: 50 });
    await w.pipeline.pollOnce();
    ids.forEach((id, i) => sim.setStatus(id, i === 7 ? 'failed' : 'finished', i === 7 ? {} : { statistics: STATS(i === 3 ? 61 : 95) }));
    await w.pipeline.pollOnce();

    await waitFor(() => w.slackMessages().length >= 2 && w.mails().length >= 2, 'a single and a grouped message per channel', 45_000);
    await notifyQueueDrained(w);
    expect(w.slackMessages()).toHaveLength(2);
    expect(w.mails()).toHaveLength(2);

    const [first, group] = w.slackMessages().map(slackText);
    const soloId = /job (b\d\d) /.exec(w.slackMessages()[0]!.body!.text!)![1]!;
    expect(first).not.toContain('job updates');
    expect(group).toContain('39 job updates for route default');
    const listed = ids.filter((id) => group!.includes(id));
    expect(listed.sort()).toEqual(ids.filter((id) => id !== soloId));
    if (soloId !== 'b07') expect(group).toContain('ROAD_MATCHING job b07 failed');
    if (soloId !== 'b03') expect(group).toContain('roads matched 61% is below the threshold of 80%');

    const [firstMail, groupMail] = w.mails();
    expect(firstMail!.subject).toContain(`job ${soloId} `);
    expect(groupMail!.subject).toMatch(/^\[gem-watch\] 39 job updates for route default: /);
    for (const id of ids.filter((id) => id !== soloId)) expect(groupMail!.html).toContain(`>${id}<`);

    // Every job's news is logged as delivered on both channels, exactly once each.
    for (const id of ids) {
      const delivered = (await w.log.query({ jobId: id })).filter((entry) => entry.outcome === 'delivered').map((entry) => entry.channel).sort();
      expect(delivered).toEqual(['email', 'slack']);
    }
    // Replaying every transition after BullMQ has forgotten the tasks sends nothing: the delivered
    // markers cover the grouped members too.
    await w.pipeline.notifyQueue.clean(0, 10_000, 'completed');
    const transitions = (await w.pipeline.store.readTransitions(0, Date.now() + 1_000)).filter((t) => t.to !== 'running');
    for (const transition of transitions) await w.pipeline.dispatcher.dispatch(transition);
    await notifyQueueDrained(w);
    expect(w.slackMessages()).toHaveLength(2);
    expect(w.mails()).toHaveLength(2);
    const replayed = await w.pipeline.notifyQueue.getCompleted(0, 1_000);
    expect(replayed).toHaveLength(80);
    expect(replayed.every((task) => task.returnvalue?.outcome === 'already-delivered')).toBe(true);
  });

  it('sends a lone job at once, before its quiet window has ended', async () => {
    const w = world({ alerts: { burstWindowSec: 600 } });
    sim.upsertJob({ id: 'lone', status: 'running', progress: 50 });
    await w.pipeline.pollOnce();
    sim.setStatus('lone', 'finished');
    await w.pipeline.pollOnce();
    await waitFor(() => w.slackMessages().length >= 1 && w.mails().length >= 1, 'the lone job in Slack and by email');
    // The 10-minute window it opened is still open: the message did not wait for it.
    const window = await w.pipeline.redis.pttl(w.pipeline.keys.gatherOpen('burst', destinationKey({ route: 'default', channel: 'slack', target: 'default' })));
    expect(window).toBeGreaterThan(0);
    expect(slackText(w.slackMessages()[0]!)).toContain('ROAD_MATCHING job lone finished');
    await notifyQueueDrained(w);
    expect(w.slackMessages()).toHaveLength(1);
  });
});

describe('rate limit', () => {
  it('counts waiting for the endpoint’s rate limit as deferred, not as a retry', async () => {
    const w = world({ alerts: { burstWindowSec: 0 }, notify: { slackPerSecond: 2 } });
    for (const id of ['r1', 'r2', 'r3']) sim.upsertJob({ id, status: 'running' });
    await w.pipeline.pollOnce();
    for (const id of ['r1', 'r2', 'r3']) sim.setStatus(id, 'finished');
    await w.pipeline.pollOnce();
    await waitFor(() => w.slackMessages().length >= 3, 'three Slack messages, two a second');
    await notifyQueueDrained(w);
    const counted = async (outcome: string) =>
      (await w.metrics.notifications.get()).values.find((value) => value.labels.channel === 'slack' && value.labels.outcome === outcome)?.value ?? 0;
    expect(await counted('sent')).toBe(3);
    expect(await counted('deferred')).toBeGreaterThan(0);
    expect(await counted('retry')).toBe(0);
  });
});
