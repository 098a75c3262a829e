import { describe, expect, it } from 'vitest';
import { notifyQueueDrained, slackText, useAlertsParts } from './alerts-support.js';
import { waitFor } from './helpers/pipeline.js';

/**
 * Stuck and overdue jobs end to end: the simulator, the real pipeline and notify worker, Slack sink
 * and smtp-server. The pipeline's clock is the test's: hours pass by moving it, not by waiting.
 */

const MIN = 60_000;
const parts = useAlertsParts('alerts-overdue-key');
const { sim } = parts;

describe('stuck and overdue jobs', () => {
  it('announces a job queued past the limit once, however many polls and replicas look, and its finish as usual', async () => {
    sim.upsertJob({ id: 'q1', status: 'queued' });
    const a = parts.world();
    // A second replica on the same Redis and configuration, without a notify worker of its own.
    const b = parts.world({ config: a.config, notifyWorker: false });
    await a.pipeline.pollOnce();

    // 2 h 01 min later, then many more polls on both replicas.
    for (const clock of [a.clock, b.clock]) clock.now += 121 * MIN;
    for (let i = 0; i < 6; i += 1) {
      await Promise.all([a.pipeline.pollOnce(), b.pipeline.pollOnce()]);
      for (const clock of [a.clock, b.clock]) clock.now += 10 * MIN;
    }
    await waitFor(() => a.slackMessages().length >= 1 && a.mails().length >= 1, 'the stuck alert in Slack and by email');
    await notifyQueueDrained(a);
    expect(a.slackMessages()).toHaveLength(1);
    expect(slackText(a.slackMessages()[0]!)).toContain('ROAD_MATCHING job q1 has been queued for 2 h 1 min');
    expect(a.mails().map((mail) => mail.subject)).toEqual(['[gem-watch] ROAD_MATCHING job q1 has been queued for 2 h 1 min']);

    sim.setStatus('q1', 'running', { progress: 50 });
    await a.pipeline.pollOnce();
    sim.setStatus('q1', 'finished');
    await a.pipeline.pollOnce();
    await waitFor(() => a.slackMessages().length >= 2 && a.mails().length >= 2, 'the finish in Slack and by email');
    await notifyQueueDrained(a);
    expect(slackText(a.slackMessages()[1]!)).toContain('ROAD_MATCHING job q1 finished');
    expect(a.mails()[1]!.subject).toMatch(/^\[gem-watch\] ROAD_MATCHING job q1 finished/);
    expect(a.slackMessages()).toHaveLength(2);
    expect(a.mails()).toHaveLength(2);
  });

  it('announces a running job whose progress stalls once, then once more when it runs past its expected end', async () => {
    sim.upsertJob({ id: 'r1', status: 'running', progress: 10 });
    const w = parts.world();
    const t0 = w.clock.now;
    await w.pipeline.pollOnce();
    w.clock.now = t0 + 20 * MIN;
    sim.setStatus('r1', 'running', { progress: 30 });
    await w.pipeline.pollOnce();

    // Stuck at 30% from t0+20 min. Pace 1%/min gives an expected end at t0+90 min; × 1.5 = t0+135 min.
    for (const minutes of [70, 81, 90, 100, 110, 120, 130]) {
      w.clock.now = t0 + minutes * MIN;
      await w.pipeline.pollOnce();
    }
    await waitFor(() => w.slackMessages().length >= 1 && w.mails().length >= 1, 'the stall alert');
    await notifyQueueDrained(w);
    expect(w.slackMessages().map((m) => m.body?.text?.split('\n')[0])).toEqual(['ROAD_MATCHING job r1: progress has not moved for 1 h 1 min']);
    expect(w.mails()).toHaveLength(1);

    for (const minutes of [136, 150, 170]) {
      w.clock.now = t0 + minutes * MIN;
      await w.pipeline.pollOnce();
    }
    await waitFor(() => w.slackMessages().length >= 2 && w.mails().length >= 2, 'the overdue alert');
    await notifyQueueDrained(w);
    expect(w.slackMessages()).toHaveLength(2);
    expect(slackText(w.slackMessages()[1]!)).toContain('ROAD_MATCHING job r1 is running past its expected end');
    expect(w.mails()[1]!.text).toContain('From its progress so far it was expected to end about');

    const log = await w.log.query({ jobId: 'r1' });
    expect(log.filter((entry) => entry.outcome === 'delivered').map((entry) => `${entry.status} ${entry.channel}`).sort()).toEqual([
      'overdue email',
      'overdue slack',
      'stalled email',
      'stalled slack',
    ]);
  });
  it('still announces a stalled job when its details are read only every half hour, from the sparse samples', async () => {
    sim.upsertJob({ id: 's1', status: 'running', progress: 10 });
    const w = parts.world({ yaml: { poll: { progressEverySeconds: 1800 } } });
    const t0 = w.clock.now;
    await w.pipeline.pollOnce();
    w.clock.now = t0 + 20 * MIN;
    // The list's word is unchanged, so this move is not seen until the half-hour read.
    sim.setStatus('s1', 'running', { progress: 30 });

    // A poll a minute for two hours; the progress stays at 30% from t0 + 20 min.
    let reads = 0;
    for (let minute = 1; minute <= 120; minute += 1) {
      w.clock.now = t0 + minute * MIN;
      const before = sim.counts.detail;
      await w.pipeline.pollOnce();
      reads += sim.counts.detail - before;
    }
    await waitFor(() => w.slackMessages().length >= 1 && w.mails().length >= 1, 'the stall alert');
    await notifyQueueDrained(w);
    // The move was sampled at the read of t0 + 30 min: the stall is counted from there, and the read
    // due at its limit (t0 + 90 min + 1 ms, taken by the poll of t0 + 91 min) tells it.
    const stalled = w.slackMessages().map((m) => m.body?.text?.split('\n')[0]);
    expect(stalled).toEqual(['ROAD_MATCHING job s1: progress has not moved for 1 h 1 min']);
    expect(w.mails()).toHaveLength(1);
    // Far fewer than a read per poll (120): the half-hour reads, plus those due at thresholds.
    expect(reads).toBeLessThanOrEqual(8);
  });
});
