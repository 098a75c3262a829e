import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { muteState, windowEndAt, zonedInstant, type Silence } from './mute.js';

const AMS = 'Europe/Amsterdam';
/** An instant given as Amsterdam wall time in winter (UTC+1). */
const ams = (iso: string) => Date.parse(`${iso}+01:00`);

describe('zonedInstant', () => {
  it('names the instant of a wall time in a zone, also in summer time', () => {
    expect(zonedInstant(2026, 1, 20, 8 * 60, AMS)).toBe(Date.parse('2026-01-20T07:00:00Z'));
    expect(zonedInstant(2026, 7, 20, 8 * 60, AMS)).toBe(Date.parse('2026-07-20T06:00:00Z'));
    expect(zonedInstant(2026, 7, 20, 8 * 60, 'UTC')).toBe(Date.parse('2026-07-20T08:00:00Z'));
  });

  it('takes a wall time skipped by spring-forward as the one an hour later, and a repeated one as the first', () => {
    // 2026-03-29 02:30 does not exist in Amsterdam; 03:30 CEST is 01:30 UTC.
    expect(zonedInstant(2026, 3, 29, 150, AMS)).toBe(Date.parse('2026-03-29T01:30:00Z'));
    // 2026-10-25 02:30 happens twice; the first is 00:30 UTC (still CEST).
    expect(zonedInstant(2026, 10, 25, 150, AMS)).toBe(Date.parse('2026-10-25T00:30:00Z'));
  });
});

describe('windowEndAt', () => {
  const nights = { days: [1, 2, 3, 4, 5], start: '19:00', end: '08:00' };

  it('holds a weeknight window from its start to the next morning, in the route time zone', () => {
    // Tuesday 2026-01-20.
    expect(windowEndAt(nights, AMS, ams('2026-01-20T18:59:00'))).toBeUndefined();
    expect(windowEndAt(nights, AMS, ams('2026-01-20T19:00:00'))).toBe(ams('2026-01-21T08:00:00'));
    expect(windowEndAt(nights, AMS, ams('2026-01-21T07:59:00'))).toBe(ams('2026-01-21T08:00:00'));
    expect(windowEndAt(nights, AMS, ams('2026-01-21T08:00:00'))).toBeUndefined();
  });

  it('counts a window crossing midnight by the day it starts on', () => {
    // Friday night started on a listed day: holds into Saturday morning.
    expect(windowEndAt(nights, AMS, ams('2026-01-24T03:00:00'))).toBe(ams('2026-01-24T08:00:00'));
    // Sunday night: Sunday is not listed, so Monday 03:00 is not muted.
    expect(windowEndAt(nights, AMS, ams('2026-01-26T03:00:00'))).toBeUndefined();
  });

  it('treats start = end as a whole day', () => {
    const weekends = { days: [0, 6], start: '00:00', end: '00:00' };
    expect(windowEndAt(weekends, 'UTC', Date.parse('2026-01-24T12:00:00Z'))).toBe(Date.parse('2026-01-25T00:00:00Z'));
    expect(windowEndAt(weekends, 'UTC', Date.parse('2026-01-25T23:59:00Z'))).toBe(Date.parse('2026-01-26T00:00:00Z'));
    expect(windowEndAt(weekends, 'UTC', Date.parse('2026-01-26T00:00:00Z'))).toBeUndefined();
  });

  it('ends at 08:00 local on the morning after the clocks change', () => {
    const everyNight = { days: [], start: '22:00', end: '08:00' };
    // Night of 28→29 March 2026: starts 22:00 CET, ends 08:00 CEST (06:00 UTC).
    expect(windowEndAt(everyNight, AMS, Date.parse('2026-03-28T23:00:00Z'))).toBe(Date.parse('2026-03-29T06:00:00Z'));
  });
});

describe('muteState', () => {
  const silence = (id: string, startsAt: number, endsAt: number, route = 'r'): Silence => ({ id, route, startsAt, endsAt, createdAt: startsAt });

  it('is not muted without windows or silences', () => {
    expect(muteState({ windows: [], timeZone: 'UTC', silences: [], now: 0 })).toEqual({ muted: false, reasons: [] });
  });

  it('is muted by a silence until it ends, and names it', () => {
    const now = Date.parse('2026-01-20T10:00:00Z');
    const state = muteState({ windows: [], timeZone: 'UTC', silences: [silence('s-1', now - 1, now + 7_200_000)], now });
    expect(state).toEqual({ muted: true, until: now + 7_200_000, reasons: ['silence s-1'] });
    expect(muteState({ windows: [], timeZone: 'UTC', silences: [silence('s-1', now + 1, now + 10)], now }).muted).toBe(false);
  });

  it('chains windows and silences that touch, so the summary comes once at the real end', () => {
    const windows = [
      { days: [5], start: '19:00', end: '00:00' },
      { days: [6, 0], start: '00:00', end: '00:00' },
    ];
    // Friday 20:00 UTC: Friday evening, then the weekend, then a silence Monday 00:00–09:00.
    const monday = Date.parse('2026-01-26T00:00:00Z');
    const state = muteState({ windows, timeZone: 'UTC', silences: [silence('s-2', monday - 1, monday + 9 * 3_600_000)], now: Date.parse('2026-01-23T20:00:00Z') });
    expect(state.muted).toBe(true);
    expect(state.until).toBe(monday + 9 * 3_600_000);
    expect(state.reasons).toEqual(['quiet hours 19:00–00:00 Fri UTC']);
  });

  it('never ends a muted period at or before now, and is unmuted at its end (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: Date.parse('2024-01-01T00:00:00Z'), max: Date.parse('2027-12-31T00:00:00Z') }),
        fc.array(fc.record({ days: fc.uniqueArray(fc.integer({ min: 0, max: 6 }), { maxLength: 7 }), start: fc.integer({ min: 0, max: 1439 }), end: fc.integer({ min: 0, max: 1439 }) }), { maxLength: 3 }),
        fc.constantFrom('UTC', AMS, 'America/New_York', 'Asia/Kolkata'),
        (now, raw, timeZone) => {
          const hm = (m: number) => `${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`;
          const windows = raw.map((w) => ({ days: w.days, start: hm(w.start), end: hm(w.end) }));
          const state = muteState({ windows, timeZone, silences: [], now });
          if (!state.muted) return;
          expect(state.until!).toBeGreaterThan(now);
          const later = muteState({ windows, timeZone, silences: [], now: state.until! });
          // Either free at the end, or muted "for good" (windows covering every day: the chain gives up).
          if (later.muted) expect(state.until! - now).toBeGreaterThan(20 * 86_400_000);
        },
      ),
      { numRuns: 300 },
    );
  });
});
