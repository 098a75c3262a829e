import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { canonicalStatus, normalizeJob, normalizeList, parseStatistic } from './normalize.js';

const fixture = (name: string): unknown =>
  JSON.parse(readFileSync(new URL(`../../test/fixtures/${name}`, import.meta.url), 'utf8'));

describe('normalizeList', () => {
  it('reads the list example of list-jobs.txt: integer ids become strings, REQUESTED becomes queued', () => {
    const { jobs, rejected } = normalizeList(fixture('list-jobs.json'), 'ROAD_MATCHING');
    expect(rejected).toEqual([]);
    expect(jobs).toEqual([
      { id: '123456789', jobType: 'ROAD_MATCHING', status: 'queued', rawStatus: 'REQUESTED' },
      // The example lists a lane-level job under job_type=ROAD_MATCHING; its own type wins.
      { id: '987654321', jobType: 'LANE_LEVEL_MATCHING', status: expect.any(String), rawStatus: expect.any(String) },
    ]);
  });

  it('reads only what a poll decides on: the rest comes from the detail call', () => {
    const { jobs } = normalizeList(
      { jobs: [{ job_id: 5, status: 'SUCCESS', input_filename: 'a.parquet', statistics: { roads_matched: '90%' }, created_at: 'not a time' }] },
      'ROAD_MATCHING',
    );
    expect(jobs).toEqual([{ id: '5', jobType: 'ROAD_MATCHING', status: 'finished', rawStatus: 'SUCCESS' }]);
  });

  it('warns about a status word it does not know, naming the job', () => {
    const { jobs, warnings } = normalizeList({ jobs: [{ job_id: 6, status: 'PAUSED' }, { job_id: 7, status: 'SUCCESS' }] }, 'ROAD_MATCHING');
    expect(jobs.map((job) => job.status)).toEqual(['unknown', 'finished']);
    expect(warnings).toEqual(['job 6: status "PAUSED" is not one gem-watch knows']);
  });

  it('keeps the readable jobs when one entry is broken', () => {
    const { jobs, rejected } = normalizeList({ jobs: [{ job_id: 1, status: 'SUCCESS' }, { status: 'SUCCESS' }, 'x', null] }, 'ROAD_MATCHING');
    expect(jobs.map((job) => job.id)).toEqual(['1']);
    expect(rejected).toHaveLength(3);
  });

  it('rejects an answer without a jobs array', () => {
    expect(() => normalizeList({ items: [] }, 'ROAD_MATCHING')).toThrow(/jobs/);
  });
});

describe('normalizeJob', () => {
  const expectedFinished = {
    id: 'job-abc123-def456',
    jobType: 'ROAD_MATCHING',
    status: 'finished',
    storageId: 'storage-001',
    inputFile: 'your_data.parquet',
    outputFile: 'your_data_matched.parquet',
    overtureRelease: '<latest-overture-release>',
    createdAt: '2026-01-20T10:00:00Z',
    statistics: {
      roadsMatchedPct: 84.68,
      roadsUnmatchedPct: 15.31,
      roadsFullyMatchedPct: 67.5,
      roadsPartiallyMatchedPct: 17.18,
      confidenceThreshold: 60,
      executionTimeSec: 9751.75,
      kmsProcessed: 141977.62151907186,
      numRoadsProcessed: 32456,
    },
  };

  it('reads the completed example of get-job.txt', () => {
    const { job, warnings } = normalizeJob(fixture('get-job-finished.json'));
    expect(warnings).toEqual([]);
    expect(job).toMatchObject({ ...expectedFinished, rawStatus: 'finished', modifiedAt: '2026-01-20T10:25:00Z' });
    expect(job.outputFileDerived).toBeUndefined();
  });

  it("reads a detail answer in the list's shape (the public docs' example) to the same model", () => {
    const camel = normalizeJob(fixture('get-job-finished.json')).job;
    const snake = normalizeJob(fixture('get-job-list-shape.json')).job;
    const common = (job: typeof camel) => ({ ...job, rawStatus: undefined, modifiedAt: undefined });
    expect(common(snake)).toEqual(common(camel));
    expect(snake.rawStatus).toBe('SUCCESS');
  });

  it('reads the running example with its progress', () => {
    const { job } = normalizeJob(fixture('get-job-running.json'));
    expect(job).toMatchObject({ id: 'job-abc123-def456', status: 'running', progress: 65 });
    expect(job.outputFile).toBeUndefined();
  });

  it('derives the output file by the documented rule only when none is sent, and says so', () => {
    const { job } = normalizeJob({ jobRunId: 'a', status: 'finished', inputFileName: 'roads_data.parquet' });
    expect(job.outputFile).toBe('roads_data_matched.parquet');
    expect(job.outputFileDerived).toBe(true);
  });

  it('keeps an unknown status word with a warning instead of throwing', () => {
    const { job, warnings } = normalizeJob({ job_id: 5, status: 'PAUSED_BY_OPS' }, 'ROAD_MATCHING');
    expect(job.status).toBe('unknown');
    expect(job.rawStatus).toBe('PAUSED_BY_OPS');
    expect(warnings.join()).toMatch(/PAUSED_BY_OPS/);
  });

  it('keeps the failure message from any message-like field', () => {
    for (const field of ['message', 'error', 'error_message', 'errorMessage', 'failure_reason']) {
      const { job } = normalizeJob({ job_id: 1, status: 'FAILED', [field]: 'column geometry missing' });
      expect(job.message, field).toBe('column geometry missing');
    }
  });

  it('drops fields of the wrong type with a warning, and caps huge strings', () => {
    const { job, warnings } = normalizeJob({
      jobRunId: 'x',
      status: 'running',
      progress: 'lots',
      inputFileName: { nested: true },
      createdAt: 'yesterday',
      statistics: { roads_matched: 'many', kms_processed: '12.5' },
      storageId: 'y'.repeat(100_000),
    });
    expect(job.progress).toBeUndefined();
    expect(job.inputFile).toBeUndefined();
    expect(job.createdAt).toBeUndefined();
    expect(job.statistics).toEqual({ kmsProcessed: 12.5 });
    expect(job.storageId!.length).toBeLessThanOrEqual(4096);
    expect(warnings.length).toBeGreaterThanOrEqual(4);
  });

  it('maps every documented status word of both endpoints', () => {
    expect(['REQUESTED', 'IN_PROGRESS', 'SUCCESS', 'FAILED'].map(canonicalStatus)).toEqual(['queued', 'running', 'finished', 'failed']);
    expect(['queued', 'running', 'finished', 'failed', 'cancelled'].map(canonicalStatus)).toEqual([
      'queued',
      'running',
      'finished',
      'failed',
      'cancelled',
    ]);
  });
});

describe('parseStatistic', () => {
  it('reads percent strings, numeric strings and numbers', () => {
    expect(parseStatistic('84.68%')).toBe(84.68);
    expect(parseStatistic(' 67.5 % ')).toBe(67.5);
    expect(parseStatistic('60')).toBe(60);
    expect(parseStatistic(9751.75)).toBe(9751.75);
    expect(parseStatistic('n/a')).toBeUndefined();
    expect(parseStatistic(Number.NaN)).toBeUndefined();
    expect(parseStatistic(null)).toBeUndefined();
  });
});
