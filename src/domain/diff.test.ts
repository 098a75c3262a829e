import { describe, expect, it } from 'vitest';
import type { Job } from './job.js';
import type { TrackedJob } from './tracked-job.js';
import { CLOCK_SKEW_MARGIN_MS, diffJob, endedBeforeFirstSync, isNewRun } from './diff.js';

const SYNC = Date.parse('2026-12-01T12:00:00Z');
const MIN = 60_000;
const iso = (ms: number) => new Date(ms).toISOString();

function job(partial: Partial<Job>): Job {
  return { id: '1', jobType: 'ROAD_MATCHING', status: 'finished', rawStatus: 'finished', ...partial };
}

function ended(partial: Partial<TrackedJob> = {}, createdAt?: string): TrackedJob {
  return {
    job: job(createdAt ? { createdAt } : {}),
    status: 'finished',
    version: 2,
    firstSeenAt: SYNC,
    lastChangeAt: SYNC + 30 * MIN,
    lastFetchedAt: SYNC + 30 * MIN,
    progress: [],
    ...partial,
  };
}

describe('a job first seen already ended', () => {
  it('is history when it ended before the first sync less the skew margin, news otherwise', () => {
    const endedAt = (ms: number) => job({ modifiedAt: iso(ms), createdAt: iso(ms - 60 * MIN) });
    expect(endedBeforeFirstSync(endedAt(SYNC - CLOCK_SKEW_MARGIN_MS - 1), SYNC)).toBe(true);
    expect(endedBeforeFirstSync(endedAt(SYNC - CLOCK_SKEW_MARGIN_MS + 1), SYNC)).toBe(false);
    expect(endedBeforeFirstSync(endedAt(SYNC + MIN), SYNC)).toBe(false);
  });

  it('is judged by its creation without a modified time, and is news without any time or first sync', () => {
    expect(endedBeforeFirstSync(job({ createdAt: iso(SYNC - 60 * MIN) }), SYNC)).toBe(true);
    expect(endedBeforeFirstSync(job({ createdAt: iso(SYNC + MIN) }), SYNC)).toBe(false);
    expect(endedBeforeFirstSync(job({}), SYNC)).toBe(false);
    expect(endedBeforeFirstSync(job({ modifiedAt: iso(SYNC - 60 * MIN) }), undefined)).toBe(false);
    expect(endedBeforeFirstSync(job({ status: 'running', modifiedAt: iso(SYNC - 60 * MIN) }), SYNC)).toBe(false);
  });

  it('diffs to history, never a transition, and the first sync’s own silent record is untouched', () => {
    const old = job({ modifiedAt: iso(SYNC - 60 * MIN) });
    expect(diffJob(undefined, old, { now: SYNC + MIN, maxSamples: 5, firstSyncAt: SYNC }).kind).toBe('history');
    expect(diffJob(undefined, old, { now: SYNC + MIN, maxSamples: 5, firstSyncAt: SYNC, silent: true }).kind).toBe('transition');
    expect(diffJob(undefined, old, { now: SYNC + MIN, maxSamples: 5 }).kind).toBe('transition');
  });
});

describe('an answer for a job recorded as ended', () => {
  const created = SYNC - 60 * MIN;

  it('is a new run when its creation time differs, and stale when it is the same (in either precision)', () => {
    const previous = ended({}, iso(created));
    expect(isNewRun(previous, job({ status: 'running', createdAt: iso(SYNC + 40 * MIN) }), SYNC)).toBe(true);
    expect(isNewRun(previous, job({ status: 'running', createdAt: '2026-12-01T11:00:00.000731Z' }), SYNC)).toBe(false);
    expect(isNewRun(previous, job({ status: 'running' }), SYNC)).toBe(false);
    expect(isNewRun(previous, job({ status: 'unknown', createdAt: iso(SYNC + 40 * MIN) }), SYNC)).toBe(false);
    expect(diffJob(previous, job({ status: 'running', createdAt: iso(created) }), { now: SYNC + 50 * MIN, maxSamples: 5 }).kind).toBe('stale');
  });

  it('without a recorded creation time, is a new run only when created after the end was recorded plus the margin', () => {
    const compact = ended({ firstSeenAt: 0, lastChangeAt: 0, lastFetchedAt: 0 });
    expect(isNewRun(compact, job({ status: 'running', createdAt: iso(SYNC + CLOCK_SKEW_MARGIN_MS + 1) }), SYNC)).toBe(true);
    expect(isNewRun(compact, job({ status: 'running', createdAt: iso(SYNC + MIN) }), SYNC)).toBe(false);
    expect(isNewRun(compact, job({ status: 'running', createdAt: iso(SYNC + 60 * MIN) }), undefined)).toBe(false);
    const snapshot = ended({ lastChangeAt: SYNC + 30 * MIN });
    expect(isNewRun(snapshot, job({ status: 'running', createdAt: iso(SYNC + 30 * MIN + CLOCK_SKEW_MARGIN_MS + 1) }), undefined)).toBe(true);
  });

  it('records a new run as the next version and generation, and a new run that already ended as its end', () => {
    const previous = ended({ version: 3, progress: [[SYNC, 50]] }, iso(created));
    const running = diffJob(previous, job({ status: 'running', rawStatus: 'running', progress: 4, createdAt: iso(SYNC + 2 * 60 * MIN) }), { now: SYNC + 3 * 60 * MIN, maxSamples: 5 });
    expect(running).toMatchObject({ kind: 'transition', tracked: { version: 4, generation: 1, firstSeenAt: SYNC + 3 * 60 * MIN }, transition: { from: 'finished', to: 'running', version: 4, generation: 1 } });
    expect(running.kind === 'transition' && running.tracked.progress).toEqual([[SYNC + 3 * 60 * MIN, 4]]);

    const finishedAgain = diffJob(previous, job({ createdAt: iso(SYNC + 2 * 60 * MIN) }), { now: SYNC + 3 * 60 * MIN, maxSamples: 5 });
    expect(finishedAgain).toMatchObject({ kind: 'transition', transition: { from: 'finished', to: 'finished', version: 4, generation: 1 } });
    expect(diffJob(previous, job({ createdAt: iso(created) }), { now: SYNC + 3 * 60 * MIN, maxSamples: 5 }).kind).toBe('unchanged');
  });
});
