import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { estimateEnd, expectedDurationFromSize, latestProgress, unchangedSince, type ProgressPoint } from './eta.js';

const MIN = 60_000;
const T0 = Date.parse('2026-01-20T10:00:00Z');

describe('estimateEnd', () => {
  it('extrapolates a steady pace to 100%', () => {
    // 10% every 10 minutes: at 40% after 40 minutes, 60 more minutes to go.
    const samples: ProgressPoint[] = [
      [T0, 0],
      [T0 + 10 * MIN, 10],
      [T0 + 20 * MIN, 20],
      [T0 + 40 * MIN, 40],
    ];
    expect(estimateEnd(samples, T0 + 41 * MIN)).toBe(T0 + 100 * MIN);
  });

  it('counts the remaining work from the latest sample, with the pace of the fit', () => {
    // Uneven but roughly 1%/min; latest 50% at 50 min.
    const samples: ProgressPoint[] = [
      [T0, 0],
      [T0 + 20 * MIN, 22],
      [T0 + 30 * MIN, 28],
      [T0 + 50 * MIN, 50],
    ];
    const end = estimateEnd(samples, T0 + 50 * MIN)!;
    expect(end).toBeGreaterThan(T0 + 95 * MIN);
    expect(end).toBeLessThan(T0 + 105 * MIN);
  });

  it('accepts samples in any order', () => {
    const samples: ProgressPoint[] = [
      [T0 + 20 * MIN, 20],
      [T0, 0],
      [T0 + 10 * MIN, 10],
    ];
    expect(estimateEnd(samples, T0 + 20 * MIN)).toBe(T0 + 100 * MIN);
  });

  it('gives nothing for no samples or a single one', () => {
    expect(estimateEnd([], T0)).toBeUndefined();
    expect(estimateEnd([[T0, 30]], T0 + MIN)).toBeUndefined();
  });

  it('uses a known origin to turn a single sample into a pace', () => {
    // Seen to start at T0, 25% after 30 minutes: 90 more minutes.
    expect(estimateEnd([[T0 + 30 * MIN, 25]], T0 + 31 * MIN, { origin: [T0, 0] })).toBe(T0 + 120 * MIN);
  });

  it('ignores an origin that is not earlier than the samples or above them', () => {
    expect(estimateEnd([[T0, 30]], T0 + MIN, { origin: [T0, 0] })).toBeUndefined();
    expect(estimateEnd([[T0 + 10 * MIN, 30]], T0 + 11 * MIN, { origin: [T0, 50] })).toBeUndefined();
  });

  it('gives nothing when progress does not move', () => {
    const samples: ProgressPoint[] = [
      [T0, 40],
      [T0 + 10 * MIN, 40],
      [T0 + 20 * MIN, 40],
    ];
    expect(estimateEnd(samples, T0 + 30 * MIN)).toBeUndefined();
  });

  it('forgets the samples before progress went back (a restarted job)', () => {
    const samples: ProgressPoint[] = [
      [T0, 0],
      [T0 + 10 * MIN, 50], // fast first attempt
      [T0 + 20 * MIN, 5], // restarted
      [T0 + 30 * MIN, 10],
    ];
    // Only the last two count: 5%/10 min, 90% to go = 180 minutes after the latest sample.
    expect(estimateEnd(samples, T0 + 30 * MIN)).toBe(T0 + 30 * MIN + 180 * MIN);
  });

  it('gives nothing when only one sample follows a drop', () => {
    const samples: ProgressPoint[] = [
      [T0, 10],
      [T0 + 10 * MIN, 60],
      [T0 + 20 * MIN, 3],
    ];
    expect(estimateEnd(samples, T0 + 20 * MIN)).toBeUndefined();
  });

  it('ends a job at 100% when it first said so', () => {
    const samples: ProgressPoint[] = [
      [T0, 90],
      [T0 + 5 * MIN, 100],
      [T0 + 10 * MIN, 100],
    ];
    expect(estimateEnd(samples, T0 + 10 * MIN)).toBe(T0 + 5 * MIN);
  });

  it('ignores samples from the future, non-finite values, and clamps progress', () => {
    const samples: ProgressPoint[] = [
      [T0, -5],
      [T0 + 10 * MIN, Number.NaN],
      [Number.POSITIVE_INFINITY, 50],
      [T0 + 20 * MIN, 20],
      [T0 + 90 * MIN, 99], // after `now`: skewed clock, ignored
    ];
    expect(estimateEnd(samples, T0 + 30 * MIN)).toBe(T0 + 100 * MIN);
  });

  it('keeps the later of two samples at the same instant', () => {
    const samples: ProgressPoint[] = [
      [T0, 0],
      [T0 + 10 * MIN, 5],
      [T0 + 10 * MIN, 10],
    ];
    expect(estimateEnd(samples, T0 + 10 * MIN)).toBe(T0 + 100 * MIN);
  });

  it('may answer a time before now for a job behind its own pace', () => {
    const samples: ProgressPoint[] = [
      [T0, 0],
      [T0 + 10 * MIN, 50],
    ];
    expect(estimateEnd(samples, T0 + 60 * MIN)).toBe(T0 + 20 * MIN);
  });

  it('finds the exact end of any steady job (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 10_000 }), // minutes the whole job takes
        fc.array(fc.double({ min: 0, max: 0.99, noNaN: true }), { minLength: 2, maxLength: 8 }),
        (totalMinutes, fractions) => {
          const total = totalMinutes * MIN;
          const times = [...new Set(fractions.map((f) => Math.round(f * total)))];
          fc.pre(times.length >= 2);
          const samples: ProgressPoint[] = times.map((dt) => [T0 + dt, (dt / total) * 100]);
          const end = estimateEnd(samples, T0 + total)!;
          expect(Math.abs(end - (T0 + total))).toBeLessThanOrEqual(2);
        },
      ),
    );
  });

  it('gives nothing when progress moves only by rounding noise, which would put the end millennia away', () => {
    // 3/7 of the way, sent as two neighbouring doubles a minute apart: the pace is ~1e-16 %/ms.
    const samples: ProgressPoint[] = [
      [T0, 42.857142857142854],
      [T0 + MIN, 42.85714285714286],
    ];
    expect(estimateEnd(samples, T0 + 2 * MIN)).toBeUndefined();
    // A slow job still gets an estimate: 1% a day ends in 60 days.
    expect(estimateEnd([[T0, 39], [T0 + 86_400_000, 40]], T0 + 86_400_000)).toBe(T0 + 61 * 86_400_000);
  });

  it('never throws and never answers a non-finite time (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.double(), fc.double()), { maxLength: 10 }),
        fc.double(),
        (samples, now) => {
          const end = estimateEnd(samples, now);
          expect(end === undefined || Number.isFinite(end)).toBe(true);
          // Whatever it answers can be shown: a Date holds it.
          expect(end === undefined || Number.isFinite(new Date(end).getTime())).toBe(true);
        },
      ),
      { numRuns: 5000 },
    );
  });
});

describe('expectedDurationFromSize', () => {
  it('takes an hour per 100,000 road segments by default', () => {
    expect(expectedDurationFromSize(100_000)).toBe(3_600_000);
    expect(expectedDurationFromSize(32_456)).toBe(Math.round(0.32456 * 3_600_000));
  });

  it('uses the given speed', () => {
    expect(expectedDurationFromSize(50_000, 200_000)).toBe(900_000);
  });

  it('gives nothing for an unknown or meaningless size or speed', () => {
    expect(expectedDurationFromSize(undefined)).toBeUndefined();
    expect(expectedDurationFromSize(0)).toBeUndefined();
    expect(expectedDurationFromSize(-3)).toBeUndefined();
    expect(expectedDurationFromSize(Number.NaN)).toBeUndefined();
    expect(expectedDurationFromSize(1000, 0)).toBeUndefined();
  });
});

describe('latestProgress', () => {
  it('is the newest usable sample', () => {
    expect(
      latestProgress(
        [
          [T0 + MIN, 30],
          [T0, 10],
        ],
        T0 + MIN,
      ),
    ).toBe(30);
    expect(latestProgress([], T0)).toBeUndefined();
  });
});

describe('unchangedSince', () => {
  it('is the first of the latest samples that show the current progress', () => {
    const samples: ProgressPoint[] = [
      [T0, 10],
      [T0 + 10 * MIN, 40],
      [T0 + 20 * MIN, 40],
      [T0 + 30 * MIN, 40],
    ];
    expect(unchangedSince(samples, T0 + 30 * MIN)).toBe(T0 + 10 * MIN);
  });

  it('is the latest sample when samples record only changes, as the pipeline stores them', () => {
    expect(
      unchangedSince(
        [
          [T0, 10],
          [T0 + MIN, 20],
        ],
        T0 + 90 * MIN,
      ),
    ).toBe(T0 + MIN);
    expect(unchangedSince([[T0, 10]], T0)).toBe(T0);
    expect(unchangedSince([], T0)).toBeUndefined();
  });
});
