import { describe, expect, it } from 'vitest';
import { earliestAhead, expectedEndAhead, isDetailReadDue, type DetailReadMark } from './detail-reads.js';

const MIN = 60_000;
const T0 = Date.parse('2026-03-02T08:00:00Z');
const EVERY = 5 * MIN;

describe('isDetailReadDue', () => {
  const mark: DetailReadMark = { readAt: T0, listStatus: 'IN_PROGRESS' };

  it('is due without a mark, when the list word changed, or progressEvery after the read', () => {
    expect(isDetailReadDue(undefined, 'IN_PROGRESS', T0, EVERY)).toBe(true);
    expect(isDetailReadDue(mark, 'IN_PROGRESS', T0 + MIN, EVERY)).toBe(false);
    expect(isDetailReadDue(mark, 'SUCCESS', T0 + MIN, EVERY)).toBe(true);
    expect(isDetailReadDue(mark, 'IN_PROGRESS', T0 + EVERY - 1, EVERY)).toBe(false);
    expect(isDetailReadDue(mark, 'IN_PROGRESS', T0 + EVERY, EVERY)).toBe(true);
  });

  it('is due at its event (expected end, a stuck/overdue limit), and always with 0', () => {
    const withEvent = { ...mark, eventAt: T0 + 2 * MIN };
    expect(isDetailReadDue(withEvent, 'IN_PROGRESS', T0 + 2 * MIN - 1, EVERY)).toBe(false);
    expect(isDetailReadDue(withEvent, 'IN_PROGRESS', T0 + 2 * MIN, EVERY)).toBe(true);
    expect(isDetailReadDue(mark, 'IN_PROGRESS', T0 + 1, 0)).toBe(true);
  });

  it('does not let a read stamped in the future postpone the next one', () => {
    expect(isDetailReadDue({ ...mark, readAt: T0 + MIN }, 'IN_PROGRESS', T0, EVERY)).toBe(true);
  });

  it('compares the first 40 characters of the list word, as detail tasks carry them', () => {
    const long = 'X'.repeat(60);
    expect(isDetailReadDue({ ...mark, listStatus: long.slice(0, 40) }, long, T0 + MIN, EVERY)).toBe(false);
  });
});

describe('expectedEndAhead', () => {
  it('gives the progress history end of a running job when it lies ahead', () => {
    const running = { status: 'running' as const, firstSeenAt: T0, lastChangeAt: T0, progress: [[T0, 10], [T0 + 10 * MIN, 20]] as Array<[number, number]> };
    expect(expectedEndAhead(running, T0 + 10 * MIN)).toBe(T0 + 90 * MIN);
    expect(expectedEndAhead(running, T0 + 90 * MIN)).toBeUndefined();
    expect(expectedEndAhead({ ...running, status: 'queued' }, T0)).toBeUndefined();
  });
});

describe('earliestAhead', () => {
  it('takes the earliest finite instant after now', () => {
    expect(earliestAhead(T0, undefined, T0, T0 + 5, Number.NaN, T0 + 3)).toBe(T0 + 3);
    expect(earliestAhead(T0, undefined, T0 - 1)).toBeUndefined();
  });
});
