import type { JobStatistics } from '../domain/job.js';

/** Human units shared by every renderer. Pure; `undefined` renders as an em dash. */

const DASH = '—';

// Building an Intl formatter costs far more than using one (the benchmark found it the largest
// cost of rendering a message), so each is made once per option set and kept.
const numberFormats = new Map<number, Intl.NumberFormat>();
const instantFormats = new Map<string, Intl.DateTimeFormat>();

function numberFormat(fractionDigits: number): Intl.NumberFormat {
  let format = numberFormats.get(fractionDigits);
  if (!format) {
    format = new Intl.NumberFormat('en-US', { maximumFractionDigits: fractionDigits, minimumFractionDigits: 0 });
    numberFormats.set(fractionDigits, format);
  }
  return format;
}

function instantFormat(timeZone: string): Intl.DateTimeFormat {
  let format = instantFormats.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-CA', {
      timeZone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
      timeZoneName: 'short',
    });
    // Time zones come from validated config, so this stays small; the bound is a safeguard.
    if (instantFormats.size < 100) instantFormats.set(timeZone, format);
  }
  return format;
}

export function formatPercent(value: number | undefined): string {
  return value === undefined ? DASH : `${value.toFixed(2).replace(/\.?0+$/, '')}%`;
}

export function formatNumber(value: number | undefined, fractionDigits = 0): string {
  if (value === undefined) return DASH;
  return numberFormat(fractionDigits).format(value);
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

// formatToParts was still the largest cost of a Slack message after the formatters were kept, and
// the text only depends on the minute: the instants of one burst of endings share a few minutes.
// Every zone's offset has been whole minutes since 1972 (before, a few had seconds), so only later
// instants are kept. Cleared rather than evicted one by one: a bound, not a cache policy.
const instantTexts = new Map<string, string>();
const WHOLE_MINUTE_OFFSETS_SINCE = Date.UTC(1973, 0, 1);
const INSTANT_TEXTS_LIMIT = 2_000;

/** An instant as "2026-01-20 10:25 UTC" in a time zone. */
export function formatInstant(at: number | string | undefined, timeZone = 'UTC'): string {
  if (at === undefined) return DASH;
  const ms = typeof at === 'number' ? at : Date.parse(at);
  // Past ±8.64e15 ms a Date is invalid and formatting it throws: one absurd instant from the API
  // or an estimate must not take down the page or the message that shows it.
  if (Number.isNaN(new Date(ms).getTime())) return DASH;
  if (ms < WHOLE_MINUTE_OFFSETS_SINCE) return instantText(ms, timeZone);
  const key = `${timeZone} ${Math.floor(ms / 60_000)}`;
  let text = instantTexts.get(key);
  if (text === undefined) {
    text = instantText(ms, timeZone);
    if (instantTexts.size >= INSTANT_TEXTS_LIMIT) instantTexts.clear();
    instantTexts.set(key, text);
  }
  return text;
}

function instantText(ms: number, timeZone: string): string {
  const parts = instantFormat(timeZone).formatToParts(new Date(ms));
  const get = (type: string) => parts.find((part) => part.type === type)?.value ?? '';
  return `${get('year')}-${get('month')}-${get('day')} ${get('hour')}:${get('minute')} ${get('timeZoneName')}`;
}

// --- Facts about a job, shared by the Slack, email and digest renderers ---

/** A labelled value. Values are raw text from the API: every renderer escapes them for its medium. */
export interface Fact {
  label: string;
  value: string;
}

/** The subset of a Job the renderers read (digest entries carry it too, without the rest of a Job). */
export interface FactSource {
  id: string;
  jobType: string;
  status: string;
  inputFile?: string;
  outputFile?: string;
  outputFileDerived?: boolean;
  overtureRelease?: string;
  orbisVersion?: string;
  storageId?: string;
  createdAt?: string;
  modifiedAt?: string;
  statistics?: JobStatistics;
}

/**
 * What every message says about a job, in display order: id, type, files, release, times and the
 * duration (created → last modified, which is when a terminal job ended).
 */
export function jobFacts(job: FactSource, timeZone = 'UTC'): Fact[] {
  const facts: Fact[] = [
    { label: 'Job id', value: job.id },
    { label: 'Job type', value: job.jobType },
    { label: 'Input file', value: job.inputFile ?? DASH },
    {
      label: 'Output file',
      value: job.outputFile === undefined ? DASH : `${job.outputFile}${job.outputFileDerived ? ' (derived from the input name)' : ''}`,
    },
  ];
  if (job.overtureRelease !== undefined) facts.push({ label: 'Overture release', value: job.overtureRelease });
  if (job.orbisVersion !== undefined) facts.push({ label: 'Orbis version', value: job.orbisVersion });
  if (job.overtureRelease === undefined && job.orbisVersion === undefined) facts.push({ label: 'Release', value: DASH });
  facts.push(
    { label: 'Created', value: formatInstant(job.createdAt, timeZone) },
    { label: 'Last modified', value: formatInstant(job.modifiedAt, timeZone) },
    { label: 'Duration', value: formatDuration(secondsBetween(job.createdAt, job.modifiedAt)) },
  );
  return facts;
}

/** The matching statistics in human units; empty when the API sent none. */
export function statisticsFacts(statistics: FactSource['statistics']): Fact[] {
  if (!statistics || Object.values(statistics).every((value) => value === undefined)) return [];
  return [
    { label: 'Roads matched', value: formatPercent(statistics.roadsMatchedPct) },
    { label: 'Fully matched', value: formatPercent(statistics.roadsFullyMatchedPct) },
    { label: 'Partially matched', value: formatPercent(statistics.roadsPartiallyMatchedPct) },
    { label: 'Unmatched', value: formatPercent(statistics.roadsUnmatchedPct) },
    { label: 'Confidence threshold', value: formatNumber(statistics.confidenceThreshold, 4) },
    { label: 'Km processed', value: formatKm(statistics.kmsProcessed) },
    { label: 'Roads processed', value: formatNumber(statistics.numRoadsProcessed) },
    { label: 'Execution time', value: formatDuration(statistics.executionTimeSec) },
  ];
}

/**
 * One line naming a job's new status, e.g. "ROAD_MATCHING job 123 finished: 84.68% matched"; the
 * email subject and the Slack fallback text both use it.
 */
export function headline(job: Pick<FactSource, 'id' | 'jobType' | 'statistics'>, status: string): string {
  const base = `${job.jobType} job ${job.id} ${status}`;
  const matched = job.statistics?.roadsMatchedPct;
  return status === 'finished' && matched !== undefined ? `${base}: ${formatPercent(matched)} matched` : base;
}
