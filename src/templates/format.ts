/** Human units shared by every renderer. Pure; `undefined` renders as an em dash. */

const DASH = '—';

export function formatPercent(value: number | undefined): string {
  return value === undefined ? DASH : `${value.toFixed(2).replace(/\.?0+$/, '')}%`;
}

export function formatNumber(value: number | undefined, fractionDigits = 0): string {
  if (value === undefined) return DASH;
  return value.toLocaleString('en-US', { maximumFractionDigits: fractionDigits, minimumFractionDigits: 0 });
}

export function formatKm(value: number | undefined): string {
  return value === undefined ? DASH : `${formatNumber(value, 1)} km`;
}

/** 9751.75 s → "2 h 42 min"; 42 s → "42 s". */
export function formatDuration(seconds: number | undefined): string {
  if (seconds === undefined || !Number.isFinite(seconds) || seconds < 0) return DASH;
  const total = Math.round(seconds);
  if (total < 60) return `${total} s`;
  const days = Math.floor(total / 86_400);
  const hours = Math.floor((total % 86_400) / 3_600);
  const minutes = Math.floor((total % 3_600) / 60);
  if (days > 0) return `${days} d ${hours} h`;
  if (hours > 0) return `${hours} h ${minutes} min`;
  return `${minutes} min ${total % 60} s`;
}

/** Seconds between two ISO timestamps, or undefined when either is missing or unreadable. */
export function secondsBetween(fromIso: string | undefined, toIso: string | undefined): number | undefined {
  if (!fromIso || !toIso) return undefined;
  const from = Date.parse(fromIso);
  const to = Date.parse(toIso);
  if (Number.isNaN(from) || Number.isNaN(to) || to < from) return undefined;
  return (to - from) / 1000;
}

/** An instant as "2026-01-20 10:25 UTC" in a time zone. */
export function formatInstant(at: number | string | undefined, timeZone = 'UTC'): string {
  if (at === undefined) return DASH;
  const ms = typeof at === 'number' ? at : Date.parse(at);
  if (Number.isNaN(ms)) return DASH;
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
