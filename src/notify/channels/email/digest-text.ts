import type { DigestModel } from '../../../domain/digest.js';
import { sanitizeText, truncate } from '../../../templates/escape.js';
import {
  countChange,
  etaRelative,
  kmChange,
  matchedChange,
  MESSAGE_MAX,
  oneLine,
  periodLabel,
  periodLength,
  roadsChange,
  stallNote,
  summaryLine,
} from '../../../templates/digest-format.js';
import { formatDuration, formatInstant, formatKm, formatNumber, formatPercent } from '../../../templates/format.js';

/**
 * The digest as plain text, for the text/plain part and the console. API text is put on one line
 * (a file name with a line break cannot forge a row) with control characters removed; failure
 * messages keep their own line breaks, indented under their job.
 */

export interface DigestTextOptions {
  /** Rows shown per section before "and N more". Default 100. */
  maxRows?: number;
}

const BAR_CELLS = 20;

/** "[#################---]" for a percentage. */
export function textBar(pct: number | undefined): string {
  if (pct === undefined || !Number.isFinite(pct)) return '';
  const filled = Math.round((Math.min(100, Math.max(0, pct)) / 100) * BAR_CELLS);
  return `[${'#'.repeat(filled)}${'-'.repeat(BAR_CELLS - filled)}]`;
}

function jobName(job: { inputFile?: string; jobId: string; jobType: string }): string {
  const name = job.inputFile === undefined ? `job ${oneLine(job.jobId)}` : oneLine(job.inputFile);
  return `${name}  (${oneLine(job.jobType)} ${oneLine(job.jobId)})`;
}

function list<T>(title: string, items: T[], maxRows: number, render: (item: T) => string[]): string[] {
  if (items.length === 0) return [];
  const lines = [`${title} (${formatNumber(items.length)})`];
  for (const item of items.slice(0, maxRows)) {
    const [first, ...rest] = render(item);
    lines.push(`  - ${first}`, ...rest.map((line) => `    ${line}`));
  }
  if (items.length > maxRows) lines.push(`  … and ${formatNumber(items.length - maxRows)} more`);
  lines.push('');
  return lines;
}

function pad(label: string, width: number): string {
  return label.padEnd(width, ' ');
}

/** Renders the digest as plain text. */
export function renderDigestText(model: DigestModel, options: DigestTextOptions = {}): string {
  const maxRows = options.maxRows ?? 100;
  const tz = model.timeZone;
  const { counts, totals } = model;
  const lines: string[] = [
    `gem-watch digest: ${summaryLine(model)}`,
    `Period: ${periodLabel(model)} (${periodLength(model)})`,
    '',
    `Finished ${counts.finished} · Failed ${counts.failed} · Cancelled ${counts.cancelled} · Running now ${counts.running} · Queued now ${counts.queued}`,
    '',
  ];
  if (model.isEmpty) {
    lines.push('Nothing happened in this period: no job started, finished or failed, and none is running or waiting.', '');
  }

  const matched = totals.matchedPct === undefined ? '—' : `${formatPercent(Number(totals.matchedPct.toFixed(2)))} (km-weighted)`;
  const width = 18;
  lines.push(
    'Totals',
    `  ${pad('Km processed', width)}${formatKm(totals.kmProcessed)}   ${kmChange(model)}`,
    `  ${pad('Roads processed', width)}${formatNumber(totals.roadsProcessed)}   ${roadsChange(model)}`,
    `  ${pad('Roads matched', width)}${matched} ${textBar(totals.matchedPct)}${matchedChange(model) ? `   ${matchedChange(model)}` : ''}`,
    `  ${pad('Jobs finished', width)}${formatNumber(totals.finished)}   ${countChange(model.change.finished)}`,
    `  ${pad('Jobs failed', width)}${formatNumber(totals.failed)}   ${countChange(model.change.failed)}`,
    '',
  );

  const ended = [...model.failed, ...model.cancelled].sort((a, b) => a.endedAt - b.endedAt);
  lines.push(
    ...list('Failed and cancelled', ended, maxRows, (job) => {
      const message =
        job.message === undefined
          ? ['(no message from the API)']
          : sanitizeText(truncate(job.message.trim(), MESSAGE_MAX))
              .split(/\r?\n/)
              .map((line) => `| ${line}`);
      return [`${job.status.toUpperCase()}  ${jobName(job)}, ${formatInstant(job.endedAt, tz)}`, ...message];
    }),
  );

  lines.push(
    ...list('Finished', model.finished, maxRows, (job) => {
      // Only the figures the API sent: a row of dashes reads as an error.
      const figures = [
        job.matchedPct === undefined ? undefined : `matched ${formatPercent(job.matchedPct)} ${textBar(job.matchedPct)}`,
        job.fullyMatchedPct === undefined ? undefined : `fully ${formatPercent(job.fullyMatchedPct)}`,
        job.kmProcessed === undefined ? undefined : formatKm(job.kmProcessed),
        job.roadsProcessed === undefined ? undefined : `${formatNumber(job.roadsProcessed)} roads`,
        job.durationSec === undefined ? undefined : formatDuration(job.durationSec),
      ].filter((figure): figure is string => figure !== undefined);
      return [`${jobName(job)}, ${formatInstant(job.finishedAt, tz)}`, figures.length > 0 ? figures.join(' · ') : '(no statistics from the API)'];
    }),
  );

  lines.push(
    ...list('Running', model.running, maxRows, (job) => [
      jobName(job),
      [
        `${formatPercent(job.progress)} ${textBar(job.progress)}`.trimEnd(),
        `since ${formatInstant(job.runningSince, tz)}`,
        job.expectedEndAt === undefined
          ? 'expected end: no estimate yet'
          : `expected end ${formatInstant(job.expectedEndAt, tz)} (${etaRelative(job.expectedEndAt, model.generatedAt)})`,
        stallNote(job, model.generatedAt),
      ]
        .filter((part): part is string => part !== undefined)
        .join(' · '),
    ]),
  );

  lines.push(
    ...list('Queued', model.queued, maxRows, (job) => [
      jobName(job),
      `queued since ${formatInstant(job.queuedSince, tz)} (${formatDuration((model.generatedAt - job.queuedSince) / 1000)})`,
    ]),
  );

  lines.push(`Compared with the previous ${periodLength(model)}: ${periodLabel({ period: model.previousPeriod, timeZone: tz })}.`);
  if (model.recordedFromHistory > 0) {
    lines.push(`${formatNumber(model.recordedFromHistory)} job(s) that had ended before gem-watch watched were recorded and are not listed.`);
  }
  lines.push(`Generated ${formatInstant(model.generatedAt, tz)} by gem-watch.`);
  return `${lines.join('\n')}\n`;
}
