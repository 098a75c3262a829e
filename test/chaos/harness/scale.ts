/**
 * How hard the chaos suite pushes. `short` (the default, part of `npm test`) keeps every scenario
 * to well under a minute of faults on 2 cores; `full` (`npm run test:chaos`) runs the figures
 * docs/reliability.md is produced at: 20 SIGKILLs, 30 s of Redis outage, 60 s of API chaos.
 * CHAOS_SCALE picks one.
 */
export type ChaosScale = 'short' | 'full';

export function chaosScale(): ChaosScale {
  const value = (process.env.CHAOS_SCALE ?? 'short').trim().toLowerCase();
  if (value !== 'short' && value !== 'full') {
    throw new Error(`CHAOS_SCALE must be "short" or "full", not "${value.slice(0, 20)}"`);
  }
  return value;
}

/** The short or the full figure, by the current scale. */
export function byScale<T>(short: T, full: T): T {
  return chaosScale() === 'full' ? full : short;
}

/**
 * The seed of a scenario's randomness: CHAOS_SEED when set (to replay a failure), else the
 * scenario's fixed default. Every random choice of the suite derives from it.
 */
export function chaosSeed(defaultSeed: number): number {
  const raw = process.env.CHAOS_SEED;
  if (raw === undefined || raw.trim() === '') return defaultSeed;
  const seed = Number(raw);
  if (!Number.isInteger(seed)) throw new Error('CHAOS_SEED must be an integer');
  return seed;
}

/** Timeout of one daemon scenario: generous, since it is a bound on a hang, never a measure. */
export function scenarioTimeoutMs(): number {
  return byScale(600_000, 1_800_000);
}
