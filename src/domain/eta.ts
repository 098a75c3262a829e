import type { ProgressSample } from './tracked-job.js';

/**
 * When will a running job end? Pure estimates from what gem-watch has seen of it; `now` is passed in.
 *
 * Two sources, in order of trust:
 * - its progress history (`estimateEnd`): a least-squares fit of progress over time gives the pace,
 *   and the remaining percent at that pace, counted from the latest sample, gives the end;
 * - its size (`expectedDurationFromSize`): GEM matches roughly 100,000 road segments an hour
 *   (TomTom's public GEM documentation), for when there is no usable progress.
 */

/**
 * One (time, progress) observation: epoch milliseconds, percent 0–100. A tracked job's
 * `ProgressSample`, read-only because the estimate only reads samples and callers hand in frozen ones.
 */
export type ProgressPoint = Readonly<ProgressSample>;

/** The furthest ahead of its latest sample an estimated end may lie; further is no estimate. */
export const MAX_ESTIMATE_AHEAD_MS = 365 * 86_400_000;

/** GEM's documented matching speed, road segments per hour. */
export const DEFAULT_ROADS_PER_HOUR = 100_000;

export interface EstimateEndOptions {
  /**
   * A point known to lie on the job's progress line, typically `[time it was seen to start running, 0]`.
   * It lets a single sample give a pace. Used only when it is earlier than every sample and not above
   * the first one's progress. Default: none.
   */
  origin?: ProgressPoint;
}

/**
 * The expected end of a running job, in epoch milliseconds, from its progress samples (oldest first or
 * in any order). Undefined when no pace can be told: fewer than two usable points, or no forward
 * movement.
 *
 * Robustness, since samples come from a remote API polled over days:
 * - samples with non-finite values or later than `now` (clock skew) are ignored; progress is clamped
 *   to 0–100; two samples at the same instant keep the later one;
 * - progress going back (GEM restarted the job) discards everything before the drop: the pace of
 *   the earlier attempt says nothing about the current one;
 * - a job at 100% ends at the time of the first sample that said so.
 *
 * The result may lie before `now`: the job is then behind its own pace (overdue), which is for the
 * caller to show or to alert on.
 */
export function estimateEnd(samples: readonly ProgressPoint[], now: number, options: EstimateEndOptions = {}): number | undefined {
  const run = currentRun(usablePoints(samples, now));
  const last = run[run.length - 1];
  if (!last) return undefined;
  if (last[1] >= 100) return run.find((point) => point[1] >= 100)![0];

  const origin = options.origin;
  const first = run[0]!;
  if (origin && isUsable(origin, now) && origin[0] < first[0] && clamp(origin[1]) <= first[1]) {
    run.unshift([origin[0], clamp(origin[1])]);
  }
  if (run.length < 2) return undefined;

  const pace = leastSquaresSlope(run);
  if (!(pace > 0) || !Number.isFinite(pace)) return undefined;
  // Counted from the latest sample, not from the fitted line: the reported progress is the truth,
  // the fit only tells the pace.
  const end = Math.round(last[0] + (100 - last[1]) / pace);
  // A vanishing pace (progress moving by rounding noise) or absurd timestamps put the end years or
  // millennia away, past what a Date can hold: that is no estimate, not an instant.
  return isDateTime(end) && end - last[0] <= MAX_ESTIMATE_AHEAD_MS ? end : undefined;
}

/**
 * How long matching `numRoads` road segments should take, in milliseconds, at `roadsPerHour`
 * (default 100,000, GEM's documented speed). Undefined when the size is unknown or not positive.
 */
export function expectedDurationFromSize(numRoads: number | undefined, roadsPerHour: number = DEFAULT_ROADS_PER_HOUR): number | undefined {
  if (numRoads === undefined || !Number.isFinite(numRoads) || numRoads <= 0) return undefined;
  if (!Number.isFinite(roadsPerHour) || roadsPerHour <= 0) return undefined;
  return Math.round((numRoads / roadsPerHour) * 3_600_000);
}

/** The latest progress among the samples (by time), clamped to 0–100; undefined without any. */
export function latestProgress(samples: readonly ProgressPoint[], now: number): number | undefined {
  const points = usablePoints(samples, now);
  return points[points.length - 1]?.[1];
}

/**
 * Since when the progress has not moved, in epoch ms: the time of the first of the latest samples
 * that all show the current value. The pipeline stores a sample only when the progress changes
 * (src/domain/diff.ts), so this is usually simply the latest sample's time; repeated values, if a
 * producer keeps them, are looked through. Undefined without samples.
 */
export function unchangedSince(samples: readonly ProgressPoint[], now: number): number | undefined {
  const points = usablePoints(samples, now);
  let first = points.length - 1;
  if (first < 0) return undefined;
  while (first > 0 && points[first - 1]![1] === points[first]![1]) first -= 1;
  return points[first]![0];
}

function isUsable(point: ProgressPoint, now: number): boolean {
  return isDateTime(point[0]) && Number.isFinite(point[1]) && point[0] <= now;
}

/** True when a Date can hold `ms` (finite, within ±8.64e15): a time beyond it is no time at all. */
function isDateTime(ms: number): boolean {
  return !Number.isNaN(new Date(ms).getTime());
}

function clamp(progress: number): number {
  return Math.min(100, Math.max(0, progress));
}

/** Usable samples sorted by time, one per instant (the later one in input order wins). */
function usablePoints(samples: readonly ProgressPoint[], now: number): [number, number][] {
  const byTime = new Map<number, number>();
  for (const sample of samples) {
    if (Array.isArray(sample) && isUsable(sample, now)) byTime.set(sample[0], clamp(sample[1]));
  }
  return [...byTime.entries()].sort((a, b) => a[0] - b[0]);
}

/** The samples since progress last went back. */
function currentRun(points: [number, number][]): [number, number][] {
  let start = 0;
  for (let i = 1; i < points.length; i++) {
    if (points[i]![1] < points[i - 1]![1]) start = i;
  }
  return points.slice(start);
}

/** Percent per millisecond. Times are taken relative to the first point to keep precision. */
function leastSquaresSlope(points: [number, number][]): number {
  const t0 = points[0]![0];
  const n = points.length;
  let sumT = 0;
  let sumP = 0;
  for (const [t, p] of points) {
    sumT += t - t0;
    sumP += p;
  }
  const meanT = sumT / n;
  const meanP = sumP / n;
  let covariance = 0;
  let variance = 0;
  for (const [t, p] of points) {
    const dt = t - t0 - meanT;
    covariance += dt * (p - meanP);
    variance += dt * dt;
  }
  return variance === 0 ? Number.NaN : covariance / variance;
}
