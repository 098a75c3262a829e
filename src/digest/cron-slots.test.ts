import { afterEach, describe, expect, it } from 'vitest';
import { CronSlots } from './cron-slots.js';

const made: CronSlots[] = [];
function slots(expression: string, timeZone = 'UTC'): CronSlots {
  const s = new CronSlots(expression, timeZone);
  made.push(s);
  return s;
}
afterEach(() => {
  for (const s of made.splice(0)) s.close();
});

const at = (iso: string) => Date.parse(iso);
const iso = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString());

describe('CronSlots.latestAtOrBefore', () => {
  it('finds the daily slot at or before now', () => {
    const daily = slots('0 8 * * *');
    expect(iso(daily.latestAtOrBefore(at('2026-01-21T08:00:00.000Z')))).toBe('2026-01-21T08:00:00.000Z');
    expect(iso(daily.latestAtOrBefore(at('2026-01-21T08:00:00.400Z')))).toBe('2026-01-21T08:00:00.000Z');
    expect(iso(daily.latestAtOrBefore(at('2026-01-21T07:59:59.999Z')))).toBe('2026-01-20T08:00:00.000Z');
  });

  it('reads the expression in the time zone, across a DST change', () => {
    const amsterdam = slots('0 8 * * *', 'Europe/Amsterdam');
    expect(iso(amsterdam.latestAtOrBefore(at('2026-01-21T12:00:00Z')))).toBe('2026-01-21T07:00:00.000Z');
    expect(iso(amsterdam.latestAtOrBefore(at('2026-07-21T12:00:00Z')))).toBe('2026-07-21T06:00:00.000Z');
    expect(iso(amsterdam.latestAtOrBefore(at('2026-03-29T12:00:00Z')))).toBe('2026-03-29T06:00:00.000Z');
  });

  it('skips a local time that a DST change removes', () => {
    // 02:30 does not exist in Amsterdam on 2026-03-29.
    expect(iso(slots('30 2 * * *', 'Europe/Amsterdam').latestAtOrBefore(at('2026-03-29T12:00:00Z')))).toBe('2026-03-28T01:30:00.000Z');
  });

  it('handles weekly, monthly, last-day and leap-day schedules', () => {
    expect(iso(slots('0 9 * * 1').latestAtOrBefore(at('2026-01-21T07:00:00Z')))).toBe('2026-01-19T09:00:00.000Z');
    expect(iso(slots('0 6 1 * *').latestAtOrBefore(at('2026-03-15T00:00:00Z')))).toBe('2026-03-01T06:00:00.000Z');
    expect(iso(slots('0 8 L * *').latestAtOrBefore(at('2026-03-21T00:00:00Z')))).toBe('2026-02-28T08:00:00.000Z');
    expect(iso(slots('0 0 29 2 *').latestAtOrBefore(at('2026-01-21T00:00:00Z')))).toBe('2024-02-29T00:00:00.000Z');
  });

  it('handles schedules with seconds', () => {
    expect(iso(slots('*/10 * * * * *').latestAtOrBefore(at('2026-01-21T00:00:05.500Z')))).toBe('2026-01-21T00:00:00.000Z');
    expect(iso(slots('* * * * * 1').latestAtOrBefore(at('2026-01-21T00:00:05Z')))).toBe('2026-01-19T23:59:59.000Z');
  });

  it('agrees with matches()', () => {
    const s = slots('15,45 */3 * * 1-5', 'America/New_York');
    let now = at('2026-01-01T00:00:00Z');
    for (let i = 0; i < 50; i++) {
      now += 7_919_000; // a prime number of seconds, to land anywhere
      const slot = s.latestAtOrBefore(now)!;
      expect(s.matches(slot)).toBe(true);
      expect(slot).toBeLessThanOrEqual(now);
    }
  });

  it('rejects what node-cron rejects', () => {
    expect(() => new CronSlots('every day', 'UTC')).toThrow(/not a node-cron expression/);
  });
});

describe('CronSlots.nextAfter', () => {
  it('finds the first slot strictly after an instant, in the time zone', () => {
    const daily = slots('0 8 * * *');
    expect(iso(daily.nextAfter(at('2026-01-21T08:00:00.000Z')))).toBe('2026-01-22T08:00:00.000Z');
    expect(iso(daily.nextAfter(at('2026-01-21T07:59:59.000Z')))).toBe('2026-01-21T08:00:00.000Z');
    const weekdays = slots('30 7 * * 1-5', 'Europe/Amsterdam');
    // Friday 2026-01-23 07:30 Amsterdam is 06:30 UTC; the next is Monday.
    expect(iso(weekdays.nextAfter(at('2026-01-23T06:30:00Z')))).toBe('2026-01-26T06:30:00.000Z');
  });
});
