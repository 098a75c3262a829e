import type { JobStatistics } from './job.js';

/**
 * Quality thresholds of a route: a finished job whose statistics fall below one is announced as a
 * warning naming the threshold it missed. Pure.
 */

/** Percentages 0–100; structurally a route's `thresholds` in the configuration. */
export interface QualityThresholds {
  roadsMatchedPct?: number;
  roadsFullyMatchedPct?: number;
}

/** The statistics thresholds can name. */
export type QualityMetric = keyof QualityThresholds;

/** One threshold a job missed. */
export interface QualityShortfall {
  metric: QualityMetric;
  /** Human name of the statistic, e.g. "roads matched". */
  label: string;
  /** The job's value, percent. */
  actual: number;
  /** The route's threshold, percent. */
  threshold: number;
}

const LABELS: Record<QualityMetric, string> = {
  roadsMatchedPct: 'roads matched',
  roadsFullyMatchedPct: 'roads fully matched',
};

/**
 * The thresholds a job's statistics fall below, in a fixed order (roads matched first). A statistic
 * the API did not send is not judged: a missing number is no evidence of bad quality.
 */
export function qualityShortfalls(statistics: JobStatistics | undefined, thresholds: QualityThresholds | undefined): QualityShortfall[] {
  if (!statistics || !thresholds) return [];
  const out: QualityShortfall[] = [];
  for (const metric of Object.keys(LABELS) as QualityMetric[]) {
    const threshold = thresholds[metric];
    const actual = statistics[metric];
    if (threshold === undefined || actual === undefined || !Number.isFinite(actual) || !Number.isFinite(threshold)) continue;
    if (actual < threshold) out.push({ metric, label: LABELS[metric], actual, threshold });
  }
  return out;
}

function percent(value: number): string {
  return `${value.toFixed(2).replace(/\.?0+$/, '')}%`;
}

/** "roads matched 72.5% is below the threshold of 80%". */
export function describeShortfall(shortfall: QualityShortfall): string {
  return `${shortfall.label} ${percent(shortfall.actual)} is below the threshold of ${percent(shortfall.threshold)}`;
}
