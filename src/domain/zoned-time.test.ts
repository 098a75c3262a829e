import { describe, expect, it } from 'vitest';
import { offsetAt, wallClock } from './zoned-time.js';

describe('zoned time', () => {
  it('reads the wall clock and the offset on both sides of a DST change', () => {
    // Amsterdam moved from +1 h to +2 h at 01:00 UTC on 29 March 2026.
    const before = Date.parse('2026-03-29T00:30:00Z');
    const after = Date.parse('2026-03-29T01:30:00Z');
    expect(wallClock(before, 'Europe/Amsterdam')).toEqual({ year: 2026, month: 3, day: 29, hour: 1, minute: 30, second: 0, weekday: 0 });
    expect(wallClock(after, 'Europe/Amsterdam')).toMatchObject({ hour: 3, minute: 30 });
    expect(offsetAt(before, 'Europe/Amsterdam')).toBe(3_600_000);
    expect(offsetAt(after, 'Europe/Amsterdam')).toBe(7_200_000);
    expect(offsetAt(after, 'UTC')).toBe(0);
  });
});
