import type { DigestEndedJob, DigestJobRef, DigestModel } from '../../../domain/digest.js';
import { escapeHtml, truncate } from '../../../templates/escape.js';
import {
  countChange,
  etaRelative,
  kmChange,
  matchedChange,
  oneLine,
  periodLabel,
  periodLength,
  roadsChange,
  stallNote,
  summaryLine,
} from '../../../templates/digest-format.js';
import { formatDuration, formatInstant, formatKm, formatNumber, formatPercent } from '../../../templates/format.js';

/**
 * The digest as an HTML e-mail. Written for mail clients, not browsers: layout by nested tables with
 * `role="presentation"`, every style inline (Gmail drops <style> in many cases, Outlook ignores most
 * CSS), widths as attributes as well as styles (Outlook reads the attributes), no scripts, no
 * images, no web fonts. Bars are table cells with a pixel width. Every string from the API is
 * escaped with `escapeHtml`; nothing from the API ever lands in an attribute.
 */

export interface DigestHtmlOptions {
  /**
   * Job rows shown in all sections together; the rest are counted ("and N more"). Gmail clips a
   * message past ~102 KB and a row with its inline styles is about 1 KB, so the default of 60 keeps
   * the largest digest near 75 KB. Default 60.
   */
  rowBudget?: number;
  /** Rows every non-empty section gets before the budget's rest goes to sections in order. Default 8. */
  rowFloor?: number;
}

const FONT = "font-family:-apple-system,BlinkMacSystemFont,'Segoe UI',Helvetica,Arial,sans-serif";
const INK = '#24292f';
const MUTED = '#57606a';
const LINE = '#d8dee4';
const TRACK = '#e6e9ed';

const COLOURS = {
  finished: '#1a7f37',
  failed: '#cf222e',
  cancelled: '#6e7781',
  running: '#0969da',
  queued: '#9a6700',
} as const;

const BAR_WIDTH = 100;
/**
 * On a phone (375 px) a section's columns do not fit; its table keeps this width and scrolls
 * sideways inside the message instead of squeezing the file names to a letter per line and
 * widening the whole message (it grew to 546 px). Clients that ignore overflow show it as before.
 */
const SECTION_MIN_WIDTH = 600;
/** Focusable so a keyboard can scroll it too. */
const SCROLL_OPEN = '<div tabindex="0" style="overflow-x:auto;-webkit-overflow-scrolling:touch">';
/** Characters of a failure message shown; the job's own alert carries it whole. */
const HTML_MESSAGE_MAX = 300;

function esc(text: string | undefined): string {
  return text === undefined ? '—' : escapeHtml(text);
}

/** A horizontal bar `pct` % full: two table cells whose pixel widths add up to BAR_WIDTH. */
export function htmlBar(pct: number | undefined, colour: string): string {
  if (pct === undefined || !Number.isFinite(pct)) return '';
  const filled = Math.round((Math.min(100, Math.max(0, pct)) / 100) * BAR_WIDTH);
  // Attributes carry the geometry and colour (every client reads them, Outlook needs them); the
  // style only stops the &nbsp; from making the row taller. Kept terse: one bar per row adds up.
  const cell = (width: number, background: string) =>
    `<td width="${width}" height="8" bgcolor="${background}" style="font-size:0;line-height:0">&nbsp;</td>`;
  const cells = [filled > 0 ? cell(filled, colour) : '', filled < BAR_WIDTH ? cell(BAR_WIDTH - filled, TRACK) : ''].join('');
  return `<table role="presentation" cellpadding="0" cellspacing="0" border="0" width="${BAR_WIDTH}" style="margin-top:4px"><tr>${cells}</tr></table>`;
}

/** File name in bold, then "TYPE · id" small: both API text, both escaped. */
function jobCell(job: DigestJobRef, extra = '', width = '40%'): string {
  const name = job.inputFile === undefined ? `Job ${oneLine(job.jobId)}` : oneLine(job.inputFile);
  return (
    // break-word (not break-all): long names wrap where they must, words stay whole where they can.
    `<td valign="top" width="${width}" style="min-width:150px;padding:8px 8px 8px 0;border-top:1px solid ${LINE};word-break:break-word;overflow-wrap:anywhere">` +
    `<b>${esc(name)}</b>` +
    `<div style="font-size:12px;color:${MUTED}">${esc(oneLine(job.jobType))} · ${esc(oneLine(job.jobId))}${extra}</div></td>`
  );
}

function cell(content: string, align: 'left' | 'right' = 'left', nowrap = true): string {
  return `<td valign="top" align="${align}" style="padding:8px 0 8px 8px;border-top:1px solid ${LINE}${nowrap ? ';white-space:nowrap' : ''}">${content}</td>`;
}

function headRow(labels: Array<[string, 'left' | 'right']>): string {
  return `<tr>${labels
    .map(
      ([label, align], index) =>
        `<th align="${align}" style="padding:${index === 0 ? '0 8px 6px 0' : '0 0 6px 8px'};font-size:11px;font-weight:600;color:${MUTED};text-transform:uppercase;letter-spacing:0.4px;text-align:${align}">${label}</th>`,
    )
    .join('')}</tr>`;
}

function moreRow(hidden: number, columns: number): string {
  return hidden > 0
    ? `<tr><td colspan="${columns}" style="padding:8px 0;border-top:1px solid ${LINE};color:${MUTED};font-size:13px">… and ${formatNumber(hidden)} more (<code>gem-watch status --all</code> lists every job)</td></tr>`
    : '';
}

/**
 * Rows per section within a total budget: each section first gets up to `floor` rows (so many
 * finished jobs never hide the running ones), then what is left goes to the sections in order
 * (failures first).
 */
export function allocateRows(counts: readonly number[], budget: number, floor: number): number[] {
  const shown = counts.map((count) => Math.min(count, floor));
  let left = Math.max(0, budget - shown.reduce((sum, n) => sum + n, 0));
  for (let i = 0; i < counts.length && left > 0; i++) {
    const extra = Math.min(left, counts[i]! - shown[i]!);
    shown[i]! += extra;
    left -= extra;
  }
  return shown;
}

function section(title: string, count: number, colour: string, head: string, rows: string[], maxRows: number, columns: number): string {
  if (count === 0) return '';
  const shown = rows.slice(0, maxRows).join('\n');
  return `<tr><td style="padding:20px 24px 0 24px">
<div style="font-size:16px;font-weight:600;color:${INK};border-left:4px solid ${colour};padding-left:8px;margin-bottom:10px">${title} <span style="color:${MUTED};font-weight:normal">(${formatNumber(count)})</span></div>
${SCROLL_OPEN}<table role="presentation" cellpadding="0" cellspacing="0" border="0" width="100%" style="width:100%;min-width:${SECTION_MIN_WIDTH}px;border-collapse:collapse;font-size:14px;color:${INK}">
${head}
${shown}
${moreRow(rows.length - Math.min(rows.length, maxRows), columns)}
</table></div></td></tr>`;
}

function tile(label: string, value: number, colour: string): string {
  return `<td align="center" valign="top" width="20%" style="width:20%;padding:12px 2px;border-top:3px solid ${colour}">
<div style="font-size:24px;font-weight:700;color:${colour};line-height:28px">${formatNumber(value)}</div>
<div style="font-size:12px;color:${MUTED}">${label}</div></td>`;
}

function totalRow(label: string, value: string, note: string | undefined, extra = ''): string {
  return `<tr><td style="padding:4px 12px 4px 0;color:${MUTED};white-space:nowrap" valign="top">${label}</td>
<td style="padding:4px 12px 4px 0;font-weight:600;white-space:nowrap" valign="top">${value}${extra}</td>
<td style="min-width:150px;padding:4px 0;color:${MUTED};font-size:13px" valign="top">${note ?? ''}</td></tr>`;
}

function endedRows(jobs: DigestEndedJob[], model: DigestModel): string[] {
  return jobs.map((job) => {
    const badge = `<span style="display:inline-block;padding:1px 6px;border-radius:10px;font-size:11px;font-weight:600;color:#ffffff;background:${COLOURS[job.status]}">${job.status.toUpperCase()}</span>`;
    const message = job.message === undefined ? `<span style="color:${MUTED}">no message from the API</span>` : esc(truncate(job.message.trim(), HTML_MESSAGE_MAX));
    return `<tr>${jobCell(job, '', '30%')}${cell(badge)}${cell(esc(formatInstant(job.endedAt, model.timeZone)))}${cell(`<div style="white-space:pre-wrap;word-break:break-word">${message}</div>`, 'left', false)}</tr>`;
  });
}

/** Renders the digest as a complete HTML document for the text/html part of the e-mail. */
export function renderDigestHtml(model: DigestModel, options: DigestHtmlOptions = {}): string {
  const tz = model.timeZone;
  const { counts, totals } = model;

  const ended = [...model.failed, ...model.cancelled].sort((a, b) => a.endedAt - b.endedAt);
  const [endedRowsShown, finishedRows, runningRows, queuedRows] = allocateRows(
    [ended.length, model.finished.length, model.running.length, model.queued.length],
    options.rowBudget ?? 60,
    options.rowFloor ?? 8,
  ) as [number, number, number, number];
  const endedSection = section(
    'Failed and cancelled',
    ended.length,
    COLOURS.failed,
    headRow([['Job', 'left'], ['Status', 'left'], ['When', 'left'], ['Message', 'left']]),
    endedRows(ended, model),
    endedRowsShown,
    4,
  );

  const finishedSection = section(
    'Finished',
    model.finished.length,
    COLOURS.finished,
    headRow([['Job', 'left'], ['Matched', 'left'], ['Km', 'right'], ['Roads', 'right'], ['Duration', 'right']]),
    model.finished.map((job) => {
      const fully = job.fullyMatchedPct === undefined ? '' : `<div style="font-size:12px;color:${MUTED}">fully ${formatPercent(job.fullyMatchedPct)}</div>`;
      return `<tr>${jobCell(job, ` · ${esc(formatInstant(job.finishedAt, tz))}`, '46%')}${cell(`<div style="font-weight:600">${formatPercent(job.matchedPct)}</div>${htmlBar(job.matchedPct, COLOURS.finished)}${fully}`)}${cell(formatNumber(job.kmProcessed, 1), 'right')}${cell(formatNumber(job.roadsProcessed), 'right')}${cell(formatDuration(job.durationSec), 'right')}</tr>`;
    }),
    finishedRows,
    5,
  );

  const runningSection = section(
    'Running',
    model.running.length,
    COLOURS.running,
    headRow([['Job', 'left'], ['Progress', 'left'], ['Running since', 'left'], ['Expected end', 'left']]),
    model.running.map((job) => {
      const eta =
        job.expectedEndAt === undefined
          ? `<span style="color:${MUTED}">no estimate yet</span>`
          : `${esc(formatInstant(job.expectedEndAt, tz))}<div style="font-size:12px;color:${job.overdue ? COLOURS.failed : MUTED}">${etaRelative(job.expectedEndAt, model.generatedAt)}</div>`;
      const stall = stallNote(job, model.generatedAt);
      const stallLine = stall === undefined ? '' : `<div style="font-size:12px;color:${COLOURS.queued}">${stall}</div>`;
      return `<tr>${jobCell(job)}${cell(`<div style="font-weight:600">${formatPercent(job.progress)}</div>${htmlBar(job.progress, COLOURS.running)}${stallLine}`, 'left', false)}${cell(esc(formatInstant(job.runningSince, tz)))}${cell(eta)}</tr>`;
    }),
    runningRows,
    4,
  );

  const queuedSection = section(
    'Queued',
    model.queued.length,
    COLOURS.queued,
    headRow([['Job', 'left'], ['Queued since', 'left'], ['Waiting', 'right']]),
    model.queued.map(
      (job) =>
        `<tr>${jobCell(job)}${cell(esc(formatInstant(job.queuedSince, tz)))}${cell(formatDuration((model.generatedAt - job.queuedSince) / 1000), 'right')}</tr>`,
    ),
    queuedRows,
    3,
  );

  const matched = totals.matchedPct === undefined ? '—' : formatPercent(Number(totals.matchedPct.toFixed(2)));
  const totalsBlock = `<tr><td style="padding:16px 24px 0 24px">
${SCROLL_OPEN}<table role="presentation" cellpadding="0" cellspacing="0" border="0" style="border-collapse:collapse;font-size:14px;color:${INK}">
${totalRow('Km processed', esc(formatKm(totals.kmProcessed)), kmChange(model))}
${totalRow('Roads processed', formatNumber(totals.roadsProcessed), roadsChange(model))}
${totalRow('Roads matched', `${matched} <span style="font-weight:normal;color:${MUTED};font-size:12px">km-weighted</span>`, matchedChange(model), htmlBar(totals.matchedPct, COLOURS.finished))}
${totalRow('Jobs finished', formatNumber(totals.finished), countChange(model.change.finished))}
${totalRow('Jobs failed', formatNumber(totals.failed), countChange(model.change.failed))}
</table></div></td></tr>`;

  const emptyNote = model.isEmpty
    ? `<tr><td style="padding:20px 24px 0 24px;color:${MUTED}">Nothing happened in this period: no job started, finished or failed, and none is running or waiting.</td></tr>`
    : '';
  const historyNote =
    model.recordedFromHistory > 0
      ? `<div>${formatNumber(model.recordedFromHistory)} job(s) that had ended before gem-watch watched were recorded and are not listed.</div>`
      : '';

  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light">
<title>gem-watch digest</title>
</head>
<body style="margin:0;padding:0;background:#f6f8fa">
<div style="display:none;max-height:0;overflow:hidden;mso-hide:all">${esc(summaryLine(model))}</div>
<div role="main">
<table role="presentation" cellpadding="0" cellspacing="0" border="0" width="100%" bgcolor="#f6f8fa" style="width:100%;background:#f6f8fa;${FONT}">
<tr><td align="center" style="padding:24px 12px">
<table role="presentation" cellpadding="0" cellspacing="0" border="0" width="680" bgcolor="#ffffff" style="width:100%;max-width:680px;table-layout:fixed;background:#ffffff;border:1px solid ${LINE};border-radius:6px;${FONT};color:${INK}">
<tr><td style="padding:20px 24px 16px 24px;border-bottom:1px solid ${LINE}">
<div style="font-size:12px;font-weight:600;color:${MUTED};letter-spacing:0.6px"><span style="text-transform:uppercase">gem-watch digest</span> · ${esc(periodLength(model))}</div>
<h1 style="font-size:20px;font-weight:600;color:${INK};margin:4px 0 0 0">${esc(periodLabel(model))}</h1>
</td></tr>
<tr><td style="padding:16px 24px 0 24px">
<table role="presentation" cellpadding="0" cellspacing="0" border="0" width="100%" style="width:100%;table-layout:fixed;border-collapse:collapse;${FONT}"><tr>
${tile('Finished', counts.finished, COLOURS.finished)}
${tile('Failed', counts.failed, COLOURS.failed)}
${tile('Cancelled', counts.cancelled, COLOURS.cancelled)}
${tile('Running now', counts.running, COLOURS.running)}
${tile('Queued now', counts.queued, COLOURS.queued)}
</tr></table></td></tr>
${totalsBlock}
${emptyNote}
${endedSection}
${finishedSection}
${runningSection}
${queuedSection}
<tr><td style="padding:24px;font-size:12px;color:${MUTED}">
<div>Compared with the previous ${esc(periodLength(model))}: ${esc(periodLabel({ period: model.previousPeriod, timeZone: tz }))}.</div>
${historyNote}
<div>Generated ${esc(formatInstant(model.generatedAt, tz))} by gem-watch. Times in ${esc(tz)}.</div>
</td></tr>
</table>
</td></tr>
</table>
</div>
</body>
</html>
`;
}
