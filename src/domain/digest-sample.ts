import type { Job, JobStatistics, JobStatus } from '../gem/job.js';
import type { DigestInput, DigestTrackedJob } from './digest.js';
import type { Transition } from './transition.js';

/**
 * A realistic day of GEM jobs, for the sample screenshot (scripts/render-digest-sample.ts), the
 * template tests and anyone who wants to see a digest without a GEM account. One file name is
 * hostile on purpose: it shows that API text stays text.
 */

const HOUR = 3_600_000;
const MIN = 60_000;

/** The file name every renderer must show as text, never as markup, a mention or a link. */
export const HOSTILE_FILE_NAME = '<!channel> <https://evil.example|click> <script>x</script>.parquet';

/** The statistics of the completed job in get-job.txt, normalised. */
export const API_EXAMPLE_STATISTICS: JobStatistics = {
  roadsMatchedPct: 84.68,
  roadsUnmatchedPct: 15.31,
  roadsFullyMatchedPct: 67.5,
  roadsPartiallyMatchedPct: 17.18,
  confidenceThreshold: 60,
  executionTimeSec: 9751.75,
  kmsProcessed: 141977.62151907186,
  numRoadsProcessed: 32456,
};

function job(id: string, status: JobStatus, inputFile: string, extra: Partial<Job> = {}): Job {
  return { id, jobType: 'ROAD_MATCHING', status, rawStatus: status, storageId: 'storage-001', inputFile, ...extra };
}

function ended(id: string, to: JobStatus, at: number, inputFile: string, extra: Partial<Job> = {}): Transition {
  return { jobId: id, jobType: extra.jobType ?? 'ROAD_MATCHING', from: 'running', to, version: 3, detectedAt: at, job: job(id, to, inputFile, extra) };
}

/**
 * A day ending at `end` (epoch ms) with five finished jobs, one failed, one cancelled, three running
 * and two queued, and a previous day to compare against. `now` is `end` plus a few seconds.
 */
export function sampleDigestInput(end: number, timeZone = 'UTC'): DigestInput {
  const start = end - 24 * HOUR;
  const iso = (ms: number) => new Date(ms).toISOString();
  const transitions: Transition[] = [
    ended('job-7f3a21', 'finished', start + 2 * HOUR + 25 * MIN, 'netherlands_roads_2026w03.parquet', {
      outputFile: 'netherlands_roads_2026w03_matched.parquet',
      statistics: API_EXAMPLE_STATISTICS,
    }),
    ended('job-7f3a22', 'finished', start + 4 * HOUR + 10 * MIN, 'belgium_secondary.parquet', {
      statistics: {
        roadsMatchedPct: 91.2,
        roadsFullyMatchedPct: 80.05,
        roadsPartiallyMatchedPct: 11.15,
        executionTimeSec: 3120.4,
        kmsProcessed: 48211.9,
        numRoadsProcessed: 10894,
      },
    }),
    ended('job-7f3a30', 'failed', start + 5 * HOUR, 'germany_bavaria.parquet', {
      message: 'Input validation failed: column "geometry" is missing or not WKB-encoded',
      createdAt: iso(start + 4 * HOUR + 50 * MIN),
      modifiedAt: iso(start + 5 * HOUR),
    }),
    ended('job-7f3a31', 'finished', start + 9 * HOUR + 40 * MIN, HOSTILE_FILE_NAME, {
      statistics: {
        roadsMatchedPct: 58.4,
        roadsFullyMatchedPct: 31.9,
        roadsPartiallyMatchedPct: 26.5,
        executionTimeSec: 1804,
        kmsProcessed: 9120.25,
        numRoadsProcessed: 5012,
      },
    }),
    ended('lane-0042', 'finished', start + 13 * HOUR + 5 * MIN, 'amsterdam_lanes.parquet', {
      jobType: 'LANE_LEVEL_MATCHING',
      statistics: {
        roadsMatchedPct: 97.03,
        roadsFullyMatchedPct: 95.5,
        roadsPartiallyMatchedPct: 1.53,
        executionTimeSec: 842.9,
        kmsProcessed: 1304.7,
        numRoadsProcessed: 2210,
      },
    }),
    ended('job-7f3a40', 'cancelled', start + 15 * HOUR + 30 * MIN, 'france_test_small.parquet'),
    ended('job-7f3a41', 'finished', start + 20 * HOUR + 45 * MIN, 'luxembourg_all.parquet', {
      statistics: {
        roadsMatchedPct: 88.91,
        roadsFullyMatchedPct: 70.2,
        roadsPartiallyMatchedPct: 18.71,
        executionTimeSec: 2400,
        kmsProcessed: 12877.4,
        numRoadsProcessed: 8031,
      },
    }),
  ];
  const previousTransitions: Transition[] = [
    ended('job-7f3900', 'finished', start - 20 * HOUR, 'netherlands_roads_2026w02.parquet', {
      statistics: { roadsMatchedPct: 83.9, kmsProcessed: 140210.4, numRoadsProcessed: 31990, executionTimeSec: 9603 },
    }),
    ended('job-7f3901', 'finished', start - 8 * HOUR, 'belgium_primary.parquet', {
      statistics: { roadsMatchedPct: 92.4, kmsProcessed: 20500.2, numRoadsProcessed: 6120, executionTimeSec: 1500 },
    }),
    ended('job-7f3902', 'failed', start - 3 * HOUR, 'spain_north.parquet', { message: 'Storage not reachable' }),
  ];
  const now = end + 5_000;
  const running = (id: string, file: string, startedAgo: number, samples: Array<[number, number]>, extra: Partial<Job> = {}): DigestTrackedJob => ({
    job: job(id, 'running', file, { createdAt: iso(now - startedAgo - 10 * MIN), progress: samples[samples.length - 1]?.[1], ...extra }),
    status: 'running',
    firstSeenAt: now - startedAgo - 10 * MIN,
    lastChangeAt: now - startedAgo,
    progress: samples.map(([ago, pct]) => [now - ago, pct] as [number, number]),
  });
  const queued = (id: string, file: string, ago: number): DigestTrackedJob => ({
    job: job(id, 'queued', file, { createdAt: iso(now - ago) }),
    status: 'queued',
    firstSeenAt: now - ago + MIN,
    lastChangeAt: now - ago + MIN,
    progress: [],
  });
  const tracked: DigestTrackedJob[] = [
    running('job-7f3a50', 'poland_roads.parquet', 3 * HOUR, [
      [2 * HOUR, 22],
      [HOUR, 41],
      [30 * MIN, 50],
      [0, 60],
    ]),
    running('job-7f3a51', 'czechia_roads.parquet', 40 * MIN, [
      [20 * MIN, 9],
      [0, 18],
    ]),
    running('lane-0043', 'rotterdam_lanes.parquet', 8 * HOUR, [
      [6 * HOUR, 70],
      [5 * HOUR, 88],
      [3 * HOUR, 95], // no sample since: the pipeline records changes only, so it has stalled
    ], { jobType: 'LANE_LEVEL_MATCHING' }),
    queued('job-7f3a60', 'austria_roads.parquet', 25 * MIN),
    queued('job-7f3a61', 'switzerland_roads.parquet', 2 * HOUR + 5 * MIN),
  ];
  return { period: { start, end }, transitions, previousTransitions, tracked, timeZone };
}
