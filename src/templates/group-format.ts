import type { GroupRow, GroupSummary } from '../domain/batch.js';
import { truncate } from './escape.js';
import { formatInstant, formatPercent } from './format.js';

/**
 * Wording shared by the Slack and email group messages (a burst gathered into one message, or what
 * a route held while muted), so the two never disagree. Plain text: each renderer escapes for its
 * own medium.
 */

export interface GroupRenderOptions {
  /** `burst`: gathered because they came close together; `held`: held while the route was muted. */
  kind: 'burst' | 'held';
  /** Route the message goes to, shown in the title. */
  route: string;
  /** For `held`: what muted the route (quiet hours, a silence). */
  reasons?: readonly string[];
  /** IANA time zone of the times shown; default UTC. */
  timeZone?: string;
}

function plural(count: number, word: string): string {
  return `${count} ${word}${count === 1 ? '' : 's'}`;
}

/** The group's title: how many job updates, for which route, and whether they were held. */
export function groupTitle(summary: GroupSummary, options: GroupRenderOptions): string {
  const what = plural(summary.total, 'job update');
  return options.kind === 'held' ? `Held while muted: ${what} for route ${options.route}` : `${what} for route ${options.route}`;
}

/** "3 finished, 1 failed, 2 below threshold". */
export function countsLine(summary: GroupSummary): string {
  const parts = summary.counts.map(({ what, count }) => `${count} ${what}`);
  if (summary.belowThreshold > 0) parts.push(`${summary.belowThreshold} below threshold`);
  return parts.join(', ');
}

function period(summary: GroupSummary, timeZone: string): string {
  const from = formatInstant(summary.from, timeZone);
  const to = formatInstant(summary.to, timeZone);
  return from === to ? from : `${from} – ${to}`;
}

/** Why these came as one message, and over which stretch of time. */
export function groupExplanation(summary: GroupSummary, options: GroupRenderOptions, timeZone: string): string {
  if (options.kind === 'held') {
    const why = options.reasons && options.reasons.length > 0 ? ` (${options.reasons.join('; ')})` : '';
    return `Held while the route was muted${why}, ${period(summary, timeZone)}.`;
  }
  return `Gathered into one message because they came close together, ${period(summary, timeZone)}.`;
}

/** One job that needs a look, on one line. */
export function worstLine(row: GroupRow): string {
  const matched = row.roadsMatchedPct === undefined ? '' : `, ${formatPercent(row.roadsMatchedPct)} matched`;
  const note = row.note ? `: ${row.note.replace(/\s+/g, ' ')}` : '';
  return `${row.jobType} job ${row.jobId} ${row.what}${matched}${note}`;
}

/** `text` cut to `width` characters and padded to it, for a fixed-width table. */
export function pad(text: string, width: number): string {
  const cut = truncate(text, width);
  return cut + ' '.repeat(Math.max(0, width - [...cut].length));
}

/** One job as a row of the fixed-width table. */
export function tableLine(row: GroupRow): string {
  const matched = row.roadsMatchedPct === undefined ? '—' : formatPercent(row.roadsMatchedPct);
  return `${pad(row.jobId, 14)} ${pad(row.what, 16)} ${pad(matched, 8)} ${truncate(row.inputFile ?? '—', 40)}`;
}

