import { describe, expect, it } from 'vitest';
import type { Job } from './job.js';
import { summarizeGroup } from './batch.js';
import { evaluateJobAlerts, jobAlertKey, jobAlertRoutingSubject, nextJobAlertCheckAt, type JobAlertSettings, type WatchedJob } from './overdue.js';
import { describeShortfall, qualityShortfalls } from './quality.js';
import type { Transition } from './transition.js';

const MIN = 60_000;
const HOUR = 3_600_000;
const T0 = Date.parse('2026-01-20T08:00:00Z');
const settings: JobAlertSettings = { queuedMaxMs: 2 * HOUR, overdueFactor: 1.5, roadsPerHour: 100_000, stalledMs: 60 * MIN };

function job(partial: Partial<Job> = {}): Job {
  return { id: '42', jobType: 'ROAD_MATCHING', status: 'running', rawStatus: 'running', createdAt: new Date(T0).toISOString(), ...partial };
}

function tracked(partial: Partial<WatchedJob> = {}): WatchedJob {
  return { job: job(), status: 'running', version: 2, firstSeenAt: T0, lastChangeAt: T0, progress: [], ...partial };
}

describe('evaluateJobAlerts', () => {
  it('flags a job queued longer than the limit, counted from its creation', () => {
    const queued = tracked({ job: job({ status: 'queued', rawStatus: 'queued' }), status: 'queued', version: 1, firstSeenAt: T0 + 30 * MIN, lastChangeAt: T0 + 30 * MIN });
    expect(evaluateJobAlerts(queued, T0 + 2 * HOUR, settings)).toEqual([]);
    const [alert] = evaluateJobAlerts(queued, T0 + 2 * HOUR + 1, settings);
    expect(alert).toMatchObject({ kind: 'queued-too-long', jobId: '42', version: 1, since: T0, allowedMs: 2 * HOUR });
  });

  it('flags a running job past its expected end from its progress, stretched by the factor', () => {
    // Seen to start at T0 (it was queued before), 10% after 10 min: 100 min expected, 150 allowed.
    const running = tracked({ firstSeenAt: T0 - HOUR, lastChangeAt: T0, progress: [[T0 + 10 * MIN, 10]] });
    expect(evaluateJobAlerts(running, T0 + 149 * MIN, { ...settings, stalledMs: 10 * HOUR })).toEqual([]);
    const [alert] = evaluateJobAlerts(running, T0 + 151 * MIN, { ...settings, stalledMs: 10 * HOUR });
    expect(alert).toMatchObject({ kind: 'overdue', basis: 'progress', since: T0, expectedEndAt: T0 + 100 * MIN, allowedMs: 150 * MIN, progress: 10 });
  });

  it('uses the size (roads at GEM speed) when no pace can be told', () => {
    // 200,000 roads at 100,000/h = 2 h; × 1.5 = 3 h.
    const running = tracked({ job: job({ statistics: { numRoadsProcessed: 200_000 } }) });
    expect(evaluateJobAlerts(running, T0 + 3 * HOUR, settings)).toEqual([]);
    expect(evaluateJobAlerts(running, T0 + 3 * HOUR + 1, settings)).toMatchObject([{ kind: 'overdue', basis: 'size', allowedMs: 3 * HOUR }]);
    // Neither progress nor size: nothing to judge by.
    expect(evaluateJobAlerts(tracked(), T0 + 100 * HOUR, settings)).toEqual([]);
  });

  it('flags a stall when progress has not moved for the limit', () => {
    const running = tracked({ firstSeenAt: T0, lastChangeAt: T0, progress: [[T0, 5], [T0 + 10 * MIN, 30]] });
    const quiet = { ...settings, overdueFactor: 1000 };
    expect(evaluateJobAlerts(running, T0 + 70 * MIN, quiet)).toEqual([]);
    expect(evaluateJobAlerts(running, T0 + 71 * MIN, quiet)).toMatchObject([{ kind: 'stalled', since: T0 + 10 * MIN, progress: 30 }]);
  });

  it('says nothing of ended, vanished or unknown jobs', () => {
    const old = T0 + 100 * HOUR;
    expect(evaluateJobAlerts(tracked({ status: 'finished', job: job({ status: 'finished' }) }), old, settings)).toEqual([]);
    expect(evaluateJobAlerts(tracked({ status: 'unknown' }), old, settings)).toEqual([]);
    expect(evaluateJobAlerts(tracked({ status: 'queued', vanishedAt: T0 }), old, settings)).toEqual([]);
  });

  it('names each alert by job, version and condition, and routes it like the job failing', () => {
    const [alert] = evaluateJobAlerts(tracked({ status: 'queued', version: 1, job: job({ id: 'a:b', status: 'queued' }) }), T0 + 3 * HOUR, settings);
    expect(jobAlertKey(alert!)).toBe('a%3ab-v1-queued%2dtoo%2dlong');
    expect(jobAlertRoutingSubject(alert!)).toMatchObject({ jobId: 'a:b', to: 'failed', from: 'queued', version: 1 });
  });
});

describe('quality thresholds', () => {
  it('names each threshold missed, and judges only statistics the API sent', () => {
    const shortfalls = qualityShortfalls({ roadsMatchedPct: 72.5, roadsFullyMatchedPct: 65 }, { roadsMatchedPct: 80, roadsFullyMatchedPct: 60 });
    expect(shortfalls).toEqual([{ metric: 'roadsMatchedPct', label: 'roads matched', actual: 72.5, threshold: 80 }]);
    expect(describeShortfall(shortfalls[0]!)).toBe('roads matched 72.5% is below the threshold of 80%');
    expect(qualityShortfalls({}, { roadsMatchedPct: 80 })).toEqual([]);
    expect(qualityShortfalls({ roadsMatchedPct: 80 }, { roadsMatchedPct: 80 })).toEqual([]);
    expect(qualityShortfalls(undefined, { roadsMatchedPct: 80 })).toEqual([]);
  });
});

describe('summarizeGroup', () => {
  const transition = (id: string, to: Transition['to'], matched?: number, at = T0): Transition => ({
    jobId: id,
    jobType: 'ROAD_MATCHING',
    from: 'running',
    to,
    version: 2,
    detectedAt: at,
    job: job({ id, status: to, ...(matched === undefined ? {} : { statistics: { roadsMatchedPct: matched } }), ...(to === 'failed' ? { message: 'input check failed' } : {}) }),
  });

  it('counts by status, puts failures and missed thresholds first, and lists every member', () => {
    const members = [transition('1', 'finished', 95), transition('2', 'failed'), transition('3', 'finished', 70, T0 + 5), transition('4', 'cancelled'), transition('5', 'finished', 99)];
    const summary = summarizeGroup(members.map((t) => ({ transition: t })), { thresholds: { roadsMatchedPct: 80 } });
    expect(summary.total).toBe(5);
    expect(summary.counts).toEqual([
      { what: 'finished', count: 3 },
      { what: 'cancelled', count: 1 },
      { what: 'failed', count: 1 },
    ]);
    expect(summary.belowThreshold).toBe(1);
    expect(summary.worst.map((row) => row.jobId)).toEqual(['2', '3']);
    expect(summary.worst[1]!.note).toBe('roads matched 70% is below the threshold of 80%');
    expect(summary.rows.map((row) => row.jobId)).toEqual(['2', '3', '4', '1', '5']);
    expect([summary.from, summary.to]).toEqual([T0, T0 + 5]);
  });
});

describe('nextJobAlertCheckAt', () => {
  it('names the first moment a condition can be met: just past each limit, and the expected end', () => {
    const queued = tracked({ job: job({ status: 'queued', rawStatus: 'queued' }), status: 'queued', version: 1 });
    expect(nextJobAlertCheckAt(queued, T0 + MIN, settings)).toBe(T0 + 2 * HOUR + 1);
    // Seen to start at T0, 10% at T0+10 min: expected end T0+100 min, overdue past T0+150 min,
    // stalled past T0+70 min.
    const running = tracked({ firstSeenAt: T0 - HOUR, lastChangeAt: T0, progress: [[T0 + 10 * MIN, 10]] });
    const at = (now: number) => nextJobAlertCheckAt(running, now, settings);
    expect(at(T0 + 10 * MIN)).toBe(T0 + 70 * MIN + 1);
    expect(at(T0 + 71 * MIN)).toBe(T0 + 100 * MIN);
    expect(at(T0 + 100 * MIN)).toBe(T0 + 150 * MIN + 1);
    expect(at(T0 + 151 * MIN)).toBeUndefined();
    // The limits agree with the evaluation: met 1 ms after the stall limit, not at it.
    expect(evaluateJobAlerts(running, T0 + 70 * MIN, settings)).toEqual([]);
    expect(evaluateJobAlerts(running, T0 + 70 * MIN + 1, settings).map((alert) => alert.kind)).toEqual(['stalled']);
  });

  it('names nothing for vanished, ended or unknown jobs', () => {
    expect(nextJobAlertCheckAt(tracked({ vanishedAt: T0 }), T0, settings)).toBeUndefined();
    expect(nextJobAlertCheckAt(tracked({ status: 'finished' }), T0, settings)).toBeUndefined();
    expect(nextJobAlertCheckAt(tracked({ status: 'unknown' }), T0, settings)).toBeUndefined();
  });
});
