import type { DigestModel } from '../domain/digest.js';
import { sanitizeHeader } from './escape.js';
import { formatDuration, formatInstant, formatKm, formatNumber } from './format.js';

/**
 * Wording shared by the three digest renderers (HTML, text, Slack), so they never disagree on a
 * figure. Returns plain text: each renderer escapes for its own medium.
 */

/** Longest file name or job id shown, in characters; one absurd name must not bloat a digest. */
export const NAME_MAX = 160;
/** Longest failure message shown, in characters. */
export const MESSAGE_MAX = 1_000;

/** A name from the API on one line: no control characters, no line breaks, cut to `max`. */
export function oneLine(text: string, max = NAME_MAX): string {
  return sanitizeHeader(text, max);
}

/** "2026-01-20 08:00 UTC – 2026-01-21 08:00 UTC". */
export function periodLabel(model: Pick<DigestModel, 'period' | 'timeZone'>): string {
  return `${formatInstant(model.period.start, model.timeZone)} – ${formatInstant(model.period.end, model.timeZone)}`;
}

/** The calendar day the period ends on, in the digest's time zone: "2026-01-21". */
export function periodDay(model: Pick<DigestModel, 'period' | 'timeZone'>): string {
  return formatInstant(model.period.end, model.timeZone).slice(0, 10);
}

/** The period's length in words: "24 h", "7 days", "3 h 20 min". */
export function periodLength(model: Pick<DigestModel, 'period'>): string {
  const ms = model.period.end - model.period.start;
  const hours = ms / 3_600_000;
  if (hours >= 48 && Number.isInteger(hours / 24)) return `${hours / 24} days`;
  if (hours >= 1 && Number.isInteger(hours)) return `${hours} h`;
  return formatDuration(ms / 1000);
}

/** "+3", "−2", "±0" (with a real minus sign). */
export function signed(value: number, format: (n: number) => string = (n) => formatNumber(n)): string {
  if (value === 0 || Object.is(value, -0)) return `±${format(0)}`;
  return value > 0 ? `+${format(value)}` : `−${format(-value)}`;
}

/** Change of km: "+42% vs previous period" or, with no km before, "+1,200.5 km". */
export function kmChange(model: DigestModel): string {
  const { change } = model;
  if (change.kmProcessedPct !== undefined) {
    return `${signed(change.kmProcessedPct, (n) => `${formatNumber(n, 1)}%`)} vs previous period`;
  }
  return `${signed(change.kmProcessed, (n) => formatKm(n))} vs previous period`;
}

/** Change of roads: "+1,024 vs previous period". */
export function roadsChange(model: DigestModel): string {
  return `${signed(model.change.roadsProcessed)} vs previous period`;
}

/** Change of matched %: "+1.2 pts vs previous period", or undefined when not comparable. */
export function matchedChange(model: DigestModel): string | undefined {
  const points = model.change.matchedPctPoints;
  return points === undefined ? undefined : `${signed(points, (n) => formatNumber(n, 2))} pts vs previous period`;
}

/** Count change: "+2 vs previous period". */
export function countChange(delta: number): string {
  return `${signed(delta)} vs previous period`;
}

/** "in 1 h 20 min", "overdue by 12 min", "any moment", or "unknown" without an estimate. */
export function etaRelative(expectedEndAt: number | undefined, now: number): string {
  if (expectedEndAt === undefined) return 'unknown';
  const seconds = (expectedEndAt - now) / 1000;
  if (Math.abs(seconds) < 60) return 'any moment';
  return seconds > 0 ? `in ${formatDuration(seconds)}` : `overdue by ${formatDuration(-seconds)}`;
}

/** The one-line summary used by the subject, the Slack fallback and the text part's first line. */
export function summaryLine(model: DigestModel): string {
  if (model.isEmpty) return 'nothing happened';
  const parts = [
    `${model.counts.finished} finished`,
    `${model.counts.failed} failed`,
  ];
  if (model.counts.cancelled > 0) parts.push(`${model.counts.cancelled} cancelled`);
  parts.push(`${model.counts.running} running`, `${model.counts.queued} queued`);
  return parts.join(', ');
}

/** The e-mail subject: one line, no API text in it at all. */
export function digestSubject(model: DigestModel): string {
  return sanitizeHeader(`[gem-watch] Digest ${periodDay(model)}: ${summaryLine(model)}`);
}

/** "no progress for 3 h 5 min" for a stalled job, else undefined. */
export function stallNote(job: { stalled: boolean; unchangedSince?: number }, now: number): string | undefined {
  return job.stalled && job.unchangedSince !== undefined ? `no progress for ${formatDuration((now - job.unchangedSince) / 1000)}` : undefined;
}
