import { describe, expect, it } from 'vitest';
import type { Job, JobStatus } from './job.js';
import { buildDigest, type DigestInput, type DigestTrackedJob } from './digest.js';
import { API_EXAMPLE_STATISTICS } from '../../test/fixtures/digest-sample.js';
import type { Transition } from './transition.js';

const HOUR = 3_600_000;
const MIN = 60_000;
const START = Date.parse('2026-01-20T08:00:00Z');
const END = START + 24 * HOUR;
const NOW = END + 5_000;

function job(id: string, status: JobStatus, extra: Partial<Job> = {}): Job {
  return { id, jobType: 'ROAD_MATCHING', status, rawStatus: status, inputFile: `${id}.parquet`, ...extra };
}

function transition(id: string, to: JobStatus, at: number, extra: Partial<Job> = {}, more: Partial<Transition> = {}): Transition {
  return { jobId: id, jobType: 'ROAD_MATCHING', from: 'running', to, version: 3, detectedAt: at, job: job(id, to, extra), ...more };
}

function tracked(id: string, status: JobStatus, more: Partial<DigestTrackedJob> = {}, extra: Partial<Job> = {}): DigestTrackedJob {
  return { job: job(id, status, extra), status, firstSeenAt: START - HOUR, lastChangeAt: START, progress: [], ...more };
}

function input(over: Partial<DigestInput> = {}): DigestInput {
  return { period: { start: START, end: END }, transitions: [], previousTransitions: [], tracked: [], ...over };
}

describe('buildDigest', () => {
  it('lists finished jobs with the statistics the API returned', () => {
    const model = buildDigest(
      input({ transitions: [transition('job-a', 'finished', START + HOUR, { statistics: API_EXAMPLE_STATISTICS, outputFile: 'job-a_matched.parquet' })] }),
      NOW,
    );
    expect(model.finished).toEqual([
      {
        jobId: 'job-a',
        jobType: 'ROAD_MATCHING',
        inputFile: 'job-a.parquet',
        outputFile: 'job-a_matched.parquet',
        finishedAt: START + HOUR,
        matchedPct: 84.68,
        fullyMatchedPct: 67.5,
        partiallyMatchedPct: 17.18,
        kmProcessed: 141977.62151907186,
        roadsProcessed: 32456,
        durationSec: 9751.75,
      },
    ]);
    expect(model.counts.finished).toBe(1);
    expect(model.isEmpty).toBe(false);
  });

  it('takes the duration from createdAt and modifiedAt when the API gives no execution time', () => {
    const model = buildDigest(
      input({
        transitions: [transition('j', 'finished', START + HOUR, { createdAt: '2026-01-20T10:00:00Z', modifiedAt: '2026-01-20T10:25:00Z' })],
      }),
      NOW,
    );
    expect(model.finished[0]!.durationSec).toBe(1500);
  });

  it('lists failed and cancelled jobs with their message', () => {
    const model = buildDigest(
      input({
        transitions: [
          transition('f1', 'failed', START + 2 * HOUR, { message: 'Input check failed: no geometry column' }, { from: 'queued' }),
          transition('c1', 'cancelled', START + 3 * HOUR),
        ],
      }),
      NOW,
    );
    expect(model.failed).toEqual([
      { jobId: 'f1', jobType: 'ROAD_MATCHING', inputFile: 'f1.parquet', status: 'failed', endedAt: START + 2 * HOUR, message: 'Input check failed: no geometry column' },
    ]);
    expect(model.cancelled.map((line) => line.jobId)).toEqual(['c1']);
    expect(model.counts).toMatchObject({ failed: 1, cancelled: 1, finished: 0 });
  });

  it('counts every transition it is given, whatever the detecting replica’s clock said', () => {
    // The caller picks a period's transitions by the stream's clock; a replica's clock a few ms off
    // must not drop one detected just before a boundary and recorded just after it.
    const model = buildDigest(
      input({ transitions: [transition('skewed', 'finished', START - 2), transition('first', 'finished', START), transition('last', 'finished', END - 1)] }),
      NOW,
    );
    expect(model.finished.map((line) => line.jobId).sort()).toEqual(['first', 'last', 'skewed']);
  });

  it('lists a job once when its terminal transition appears twice', () => {
    const model = buildDigest(
      input({
        transitions: [
          transition('dup', 'finished', START + HOUR, { statistics: { roadsMatchedPct: 50 } }, { version: 3 }),
          transition('dup', 'finished', START + 2 * HOUR, { statistics: { roadsMatchedPct: 60 } }, { version: 4 }),
        ],
      }),
      NOW,
    );
    expect(model.finished).toHaveLength(1);
    expect(model.finished[0]!.matchedPct).toBe(60);
  });

  it('leaves out history recorded silently on the first sync, but counts it', () => {
    const model = buildDigest(input({ transitions: [transition('old', 'finished', START + MIN, {}, { silent: true, from: undefined, version: 1 })] }), NOW);
    expect(model.finished).toEqual([]);
    expect(model.recordedFromHistory).toBe(1);
    expect(model.isEmpty).toBe(true);
  });

  it('shows running jobs with progress and an ETA from their samples', () => {
    const model = buildDigest(
      input({
        tracked: [
          tracked('run', 'running', {
            firstSeenAt: NOW - 3 * HOUR,
            lastChangeAt: NOW - 2 * HOUR,
            progress: [
              [NOW - 60 * MIN, 30],
              [NOW - 30 * MIN, 45],
              [NOW, 60],
            ],
          }),
        ],
      }),
      NOW,
    );
    // The anchor (2 h ago at 0%) and the samples fit 0.5%/min: 40% to go = 80 minutes.
    expect(model.running).toEqual([
      { jobId: 'run', jobType: 'ROAD_MATCHING', inputFile: 'run.parquet', progress: 60, runningSince: NOW - 2 * HOUR, expectedEndAt: NOW + 80 * MIN, overdue: false, unchangedSince: NOW, stalled: false },
    ]);
    expect(model.counts.running).toBe(1);
  });

  it('uses the job progress field without samples and tells no ETA', () => {
    const model = buildDigest(input({ tracked: [tracked('r', 'running', { firstSeenAt: START, lastChangeAt: START }, { progress: 65 })] }), NOW);
    expect(model.running[0]).toMatchObject({ progress: 65, overdue: false });
    expect(model.running[0]!.expectedEndAt).toBeUndefined();
  });

  it('marks a running job overdue when its expected end has passed', () => {
    const model = buildDigest(
      input({
        tracked: [
          tracked('late', 'running', {
            lastChangeAt: NOW - 10 * HOUR,
            progress: [
              [NOW - 10 * HOUR, 0],
              [NOW - 9 * HOUR, 50],
              [NOW - 8 * HOUR, 90],
              [NOW - 2 * HOUR, 90],
            ],
          }),
        ],
      }),
      NOW,
    );
    expect(model.running[0]!.overdue).toBe(true);
    expect(model.running[0]).toMatchObject({ unchangedSince: NOW - 8 * HOUR, stalled: true });
  });

  it('calls a job stalled only after stalledAfterMs without progress', () => {
    const samples: Array<[number, number]> = [
      [NOW - 50 * MIN, 10],
      [NOW - 40 * MIN, 30],
      [NOW, 30],
    ];
    const running = (stalledAfterMs?: number) =>
      buildDigest(input({ tracked: [tracked('s', 'running', { progress: samples })], stalledAfterMs }), NOW).running[0]!;
    expect(running()).toMatchObject({ unchangedSince: NOW - 40 * MIN, stalled: false });
    expect(running(30 * MIN).stalled).toBe(true);
  });

  it('lists queued jobs from their creation time, leaving out vanished jobs', () => {
    const model = buildDigest(
      input({
        tracked: [
          tracked('q-new', 'queued', { firstSeenAt: NOW - HOUR }),
          tracked('q-old', 'queued', { firstSeenAt: NOW - HOUR }, { createdAt: new Date(NOW - 5 * HOUR).toISOString() }),
          tracked('gone', 'queued', { vanishedAt: NOW - MIN }),
          tracked('done', 'finished'),
        ],
      }),
      NOW,
    );
    expect(model.queued.map((line) => [line.jobId, line.queuedSince])).toEqual([
      ['q-old', NOW - 5 * HOUR],
      ['q-new', NOW - HOUR],
    ]);
    expect(model.counts.queued).toBe(2);
  });

  it('totals km and roads and weights matched % by km', () => {
    const model = buildDigest(
      input({
        transitions: [
          transition('a', 'finished', START + HOUR, { statistics: { roadsMatchedPct: 90, kmsProcessed: 300, numRoadsProcessed: 1000 } }),
          transition('b', 'finished', START + 2 * HOUR, { statistics: { roadsMatchedPct: 50, kmsProcessed: 100, numRoadsProcessed: 500 } }),
          transition('c', 'finished', START + 3 * HOUR, { statistics: { roadsMatchedPct: 10 } }), // no km: no weight
        ],
      }),
      NOW,
    );
    expect(model.totals).toEqual({ finished: 3, failed: 0, cancelled: 0, kmProcessed: 400, roadsProcessed: 1500, matchedPct: 80 });
  });

  it('compares with the previous period of the same length', () => {
    const model = buildDigest(
      input({
        transitions: [
          transition('a', 'finished', START + HOUR, { statistics: { roadsMatchedPct: 80, kmsProcessed: 150, numRoadsProcessed: 300 } }),
          transition('f', 'failed', START + HOUR),
        ],
        previousTransitions: [
          transition('p', 'finished', START - HOUR, { statistics: { roadsMatchedPct: 75, kmsProcessed: 100, numRoadsProcessed: 200 } }),
          transition('p2', 'failed', START - 2 * HOUR),
          transition('p3', 'failed', START - 3 * HOUR),
        ],
      }),
      NOW,
    );
    expect(model.previousPeriod).toEqual({ start: START - 24 * HOUR, end: START });
    expect(model.previousTotals).toMatchObject({ finished: 1, failed: 2, kmProcessed: 100 });
    expect(model.change).toEqual({ finished: 0, failed: -1, cancelled: 0, kmProcessed: 50, kmProcessedPct: 50, roadsProcessed: 100, matchedPctPoints: 5 });
  });

  it('is empty when nothing happened and nothing runs or waits', () => {
    const model = buildDigest(input({ tracked: [tracked('done', 'finished')] }), NOW);
    expect(model.isEmpty).toBe(true);
    expect(model.totals.matchedPct).toBeUndefined();
    expect(model.change.kmProcessedPct).toBeUndefined();
    expect(model.change.matchedPctPoints).toBeUndefined();
  });

  it('is not empty while a job runs, even in a quiet period', () => {
    expect(buildDigest(input({ tracked: [tracked('r', 'running')] }), NOW).isEmpty).toBe(false);
  });

  it('is not empty when a job only started in the period', () => {
    expect(buildDigest(input({ transitions: [transition('s', 'running', START + HOUR, {}, { from: 'queued' })] }), NOW).isEmpty).toBe(false);
  });
});
