import type { Transition } from '../domain/transition.js';
import type { JobStatus } from '../domain/job.js';
import type { OperatorAlert } from '../domain/operator-alert.js';

/**
 * Sample data for `gem-watch test-notify` and for tests: a ROAD_MATCHING job shaped like the
 * documented answers (the statistics of the public example), so a test message looks exactly like
 * a real one. `now` is passed in; nothing here reads the clock.
 */
export function sampleTransition(status: Extract<JobStatus, 'finished' | 'failed' | 'cancelled'>, now: number, jobId = 'sample-1'): Transition {
  const createdAt = new Date(now - 9_752_000).toISOString();
  const modifiedAt = new Date(now - 1_000).toISOString();
  const finished = status === 'finished';
  return {
    jobId,
    jobType: 'ROAD_MATCHING',
    from: 'running',
    to: status,
    version: 3,
    detectedAt: now,
    job: {
      id: jobId,
      jobType: 'ROAD_MATCHING',
      status,
      rawStatus: finished ? 'SUCCESS' : status.toUpperCase(),
      storageId: 'sample-storage',
      inputFile: 'sample_roads.parquet',
      outputFile: finished ? 'sample_roads_matched.parquet' : undefined,
      overtureRelease: '2025-01-22.0',
      createdAt,
      modifiedAt,
      ...(finished
        ? {
            statistics: {
              roadsMatchedPct: 84.68,
              roadsUnmatchedPct: 15.32,
              roadsFullyMatchedPct: 80.12,
              roadsPartiallyMatchedPct: 4.56,
              confidenceThreshold: 0.7,
              executionTimeSec: 9751.75,
              kmsProcessed: 12345.6,
              numRoadsProcessed: 271_828,
            },
          }
        : { message: status === 'failed' ? 'Input check failed: column "geometry" is missing (sample)' : 'Cancelled by the user (sample)' }),
    },
  };
}

/** A sample operator alert. */
export function sampleAlert(now: number): OperatorAlert {
  return {
    kind: 'test',
    state: 'down',
    title: 'test message from gem-watch test-notify',
    detail: 'This is a test of the operator alert path. Nothing is wrong.',
    since: now,
  };
}
