import type { OperatorAlert } from '../../../domain/operator-alert.js';
import type { Transition } from '../../../domain/transition.js';
import { escapeHtml, sanitizeHeader, sanitizeText, truncate } from '../../../templates/escape.js';
import { formatInstant, headline, jobFacts, statisticsFacts, type Fact } from '../../../templates/format.js';

/**
 * Pure renderers of e-mails: a one-line subject (no CR/LF or control characters, so API text can
 * never add a header), a text/plain part and an HTML part built from tables with inline CSS, which
 * is what common mail clients (Outlook, Gmail, Apple Mail) render alike. Every value from the API is
 * HTML-escaped; recipients never come from here (they come from the configuration).
 */

export interface EmailContent {
  subject: string;
  text: string;
  html: string;
}

export interface EmailRenderOptions {
  /** IANA time zone of the times shown; default UTC. */
  timeZone?: string;
}

const SUBJECT_PREFIX = '[gem-watch]';
/** Long values are cut so one absurd file name cannot make a megabyte e-mail. */
const VALUE_MAX = 2_000;
const DETAIL_MAX = 10_000;

const STATUS_COLOUR: Record<string, string> = {
  finished: '#1a7f37',
  failed: '#cf222e',
  cancelled: '#6e7781',
};

const FONT = "font-family:-apple-system,'Segoe UI',Helvetica,Arial,sans-serif";

function factRows(facts: Fact[]): string {
  return facts
    .map(
      (fact) =>
        `<tr><th align="left" style="padding:4px 12px 4px 0;color:#57606a;font-weight:normal;vertical-align:top;white-space:nowrap">${escapeHtml(fact.label)}</th>` +
        `<td style="padding:4px 0;word-break:break-all">${escapeHtml(truncate(fact.value, VALUE_MAX))}</td></tr>`,
    )
    .join('\n');
}

function table(facts: Fact[]): string {
  return `<table role="presentation" cellpadding="0" cellspacing="0" style="border-collapse:collapse;${FONT};font-size:14px;color:#24292f">\n${factRows(facts)}\n</table>`;
}

function textLines(facts: Fact[]): string {
  const width = Math.max(...facts.map((fact) => fact.label.length));
  return facts.map((fact) => `${`${fact.label}:`.padEnd(width + 2)}${sanitizeText(truncate(fact.value, VALUE_MAX)).replace(/\n/g, ' ')}`).join('\n');
}

function page(title: string, colour: string, body: string): string {
  return [
    '<!DOCTYPE html>',
    '<html><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">',
    `<title>${escapeHtml(title)}</title></head>`,
    `<body style="margin:0;padding:16px;background:#ffffff;${FONT};color:#24292f">`,
    `<h2 style="margin:0 0 12px 0;font-size:18px;color:${colour}">${escapeHtml(title)}</h2>`,
    body,
    '<p style="margin:16px 0 0 0;font-size:12px;color:#6e7781">Sent by gem-watch.</p>',
    '</body></html>',
  ].join('\n');
}

/**
 * A transition as an e-mail. Subject like `[gem-watch] ROAD_MATCHING job 123 finished: 84.68%
 * matched`; for a failure the API's detail follows the facts and statistics.
 */
export function renderEmailTransition(transition: Transition, options: EmailRenderOptions = {}): EmailContent {
  const timeZone = options.timeZone ?? 'UTC';
  const { job } = transition;
  const title = headline(job, transition.to);
  const facts = jobFacts(job, timeZone);
  const statistics = statisticsFacts(job.statistics);
  const detail = job.message && job.message.trim() !== '' ? truncate(job.message, DETAIL_MAX) : undefined;
  const detailLabel = transition.to === 'failed' ? 'Failure detail' : 'Message from GEM';
  const change = `${transition.from === undefined ? 'First seen' : `Was ${transition.from}`}; detected ${formatInstant(transition.detectedAt, timeZone)}.`;

  const text = [
    // The headline holds the job id, API text like any other: no control characters in the text part.
    sanitizeText(title),
    '',
    textLines(facts),
    ...(statistics.length > 0 ? ['', 'Statistics', textLines(statistics)] : []),
    ...(detail ? ['', `${detailLabel}:`, sanitizeText(detail)] : []),
    '',
    change,
    '-- ',
    'Sent by gem-watch.',
  ].join('\n');

  const sections = [table(facts)];
  if (statistics.length > 0) {
    sections.push('<h3 style="margin:16px 0 8px 0;font-size:15px">Statistics</h3>', table(statistics));
  }
  if (detail) {
    sections.push(
      `<h3 style="margin:16px 0 8px 0;font-size:15px">${escapeHtml(detailLabel)}</h3>`,
      `<pre style="margin:0;padding:8px;background:#f6f8fa;border:1px solid #d0d7de;white-space:pre-wrap;word-break:break-all;font-size:13px">${escapeHtml(detail)}</pre>`,
    );
  }
  sections.push(`<p style="margin:16px 0 0 0;font-size:13px;color:#57606a">${escapeHtml(change)}</p>`);

  return {
    subject: sanitizeHeader(`${SUBJECT_PREFIX} ${title}`),
    text,
    html: page(title, STATUS_COLOUR[transition.to] ?? '#24292f', sections.join('\n')),
  };
}

/** A message about gem-watch itself, and its recovery. */
export function renderEmailAlert(alert: OperatorAlert, options: EmailRenderOptions = {}): EmailContent {
  const timeZone = options.timeZone ?? 'UTC';
  const down = alert.state === 'down';
  const title = `${down ? 'ALERT' : 'RESOLVED'}: ${alert.title}`;
  const since = `${alert.kind} ${down ? 'down' : 'up'} since ${formatInstant(alert.since, timeZone)}`;
  const detail = truncate(alert.detail || '—', DETAIL_MAX);
  return {
    subject: sanitizeHeader(`${SUBJECT_PREFIX} ${title}`),
    text: [title, '', sanitizeText(detail), '', since, '-- ', 'Sent by gem-watch.'].join('\n'),
    html: page(
      title,
      down ? STATUS_COLOUR.failed! : STATUS_COLOUR.finished!,
      `<p style="margin:0;white-space:pre-wrap">${escapeHtml(detail)}</p>\n<p style="margin:16px 0 0 0;font-size:13px;color:#57606a">${escapeHtml(since)}</p>`,
    ),
  };
}
