import { describe, expect, it } from 'vitest';
import { formatInstant } from './format.js';

/** The instant as Intl writes it, with nothing kept between calls. */
function direct(ms: number, timeZone: string): string {
  const parts = new Intl.DateTimeFormat('en-CA', {
    timeZone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
    timeZoneName: 'short',
  }).formatToParts(new Date(ms));
  const get = (type: string) => parts.find((part) => part.type === type)?.value ?? '';
  return `${get('year')}-${get('month')}-${get('day')} ${get('hour')}:${get('minute')} ${get('timeZoneName')}`;
}

describe('formatInstant', () => {
  it('shows a dash, not an error, for an instant no Date can hold', () => {
    expect(formatInstant(4.8e20)).toBe('—');
    expect(formatInstant(-9e15, 'Europe/Amsterdam')).toBe('—');
    expect(formatInstant(Number.POSITIVE_INFINITY)).toBe('—');
    expect(formatInstant(8.64e15)).toBe('275760-09-13 00:00 UTC');
  });

  it('writes the minute in the time zone', () => {
    expect(formatInstant('2026-01-20T10:25:59Z')).toBe('2026-01-20 10:25 UTC');
    expect(formatInstant(Date.UTC(2026, 6, 1, 12, 0), 'Europe/Amsterdam')).toBe('2026-07-01 14:00 GMT+2');
    expect(formatInstant('not a time')).toBe('—');
  });

  it('gives what Intl gives for every instant, zone and second, across DST changes and old offsets', () => {
    const zones = ['UTC', 'Europe/Amsterdam', 'America/New_York', 'Asia/Kolkata', 'Pacific/Chatham', 'Africa/Monrovia'];
    // Around the 2026 spring and autumn changes in Europe, and in 1925 and 1971, when Amsterdam and
    // Monrovia kept offsets with seconds (the kept texts are only for later instants).
    const starts = [Date.UTC(2026, 2, 29, 0, 58), Date.UTC(2026, 9, 25, 0, 58), Date.UTC(1925, 5, 1, 12, 0), Date.UTC(1971, 11, 31, 23, 58)];
    for (const start of starts) {
      for (let ms = start; ms < start + 4 * 60_000; ms += 7_919) {
        for (const zone of zones) expect(formatInstant(ms, zone), `${new Date(ms).toISOString()} ${zone}`).toBe(direct(ms, zone));
      }
    }
  });
});
