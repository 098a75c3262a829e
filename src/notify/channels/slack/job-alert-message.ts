import type { KnownBlock } from '@slack/types';
import type { JobAlert } from '../../../domain/overdue.js';
import type { EmailContent } from '../email/email-message.js';
import { escapeHtml, escapeSlack, escapeSlackWithin, sanitizeHeader, sanitizeText, truncate } from '../../../templates/escape.js';
import { formatDuration, formatInstant, formatPercent, jobFacts, type Fact } from '../../../templates/format.js';
import { SLACK_LIMITS, type SlackMessage } from './slack-message.js';

/**
 * A stuck or overdue job: queued too long, running past its expected end, or with progress that
 * has stopped moving. Sent once per job and condition; the job's finish is announced as usual.
 */

export interface JobAlertRenderOptions {
  /** IANA time zone of the times shown; default UTC. */
  timeZone?: string;
}

/** One line naming the condition, e.g. "ROAD_MATCHING job 42 has been queued for 3 h 5 min". */
export function jobAlertHeadline(alert: JobAlert, now = alert.detectedAt): string {
  const job = `${alert.jobType} job ${alert.jobId}`;
  const elapsed = formatDuration((now - alert.since) / 1000);
  switch (alert.kind) {
    case 'queued-too-long':
      return `${job} has been queued for ${elapsed}`;
    case 'overdue':
      return `${job} is running past its expected end`;
    case 'stalled':
      return `${job}: progress has not moved for ${elapsed}`;
    default:
      return `${job} needs a look`;
  }
}

/** Why gem-watch says so, in one or two sentences. */
export function jobAlertExplanation(alert: JobAlert, timeZone = 'UTC'): string {
  const allowed = formatDuration(alert.allowedMs / 1000);
  switch (alert.kind) {
    case 'queued-too-long':
      return `Queued since ${formatInstant(alert.since, timeZone)}; the limit is ${allowed} (alerts.queuedMaxMinutes).`;
    case 'overdue': {
      const basis = alert.basis === 'size' ? 'its size (number of roads at GEM’s matching speed)' : 'its progress so far';
      const expected = alert.expectedEndAt === undefined ? '' : ` From ${basis} it was expected to end about ${formatInstant(alert.expectedEndAt, timeZone)}.`;
      return `Running since ${formatInstant(alert.since, timeZone)}.${expected} Allowed with the slack factor: ${allowed} (alerts.overdueFactor).`;
    }
    case 'stalled':
      return `Progress has stayed at ${alert.progress === undefined ? 'the same value' : formatPercent(alert.progress)} since ${formatInstant(alert.since, timeZone)}; the limit is ${allowed} (alerts.stalledMinutes).`;
    default:
      return '';
  }
}

function facts(alert: JobAlert, timeZone: string): Fact[] {
  const out = jobFacts(alert.job, timeZone).filter((fact) => fact.label !== 'Duration');
  out.splice(2, 0, { label: 'Status', value: alert.job.status });
  if (alert.progress !== undefined) out.push({ label: 'Progress', value: formatPercent(alert.progress) });
  return out;
}

/** The job alert as a Slack message. */
export function renderSlackJobAlert(alert: JobAlert, options: JobAlertRenderOptions = {}): SlackMessage {
  const timeZone = options.timeZone ?? 'UTC';
  const heading = jobAlertHeadline(alert);
  const list = facts(alert, timeZone);
  const blocks: KnownBlock[] = [
    { type: 'header', text: { type: 'plain_text', text: escapeSlackWithin(`:hourglass: ${heading}`, SLACK_LIMITS.headerText), emoji: true } },
    { type: 'section', text: { type: 'mrkdwn', text: escapeSlackWithin(jobAlertExplanation(alert, timeZone), SLACK_LIMITS.sectionText), verbatim: true } },
    {
      type: 'section',
      fields: list.slice(0, SLACK_LIMITS.fields).map((fact) => ({
        type: 'mrkdwn' as const,
        text: `*${escapeSlackWithin(fact.label, 100)}*\n${escapeSlackWithin(fact.value, SLACK_LIMITS.fieldText - 110)}`,
        verbatim: true,
      })),
    },
    {
      type: 'context',
      elements: [{ type: 'mrkdwn', text: `gem-watch · ${escapeSlack(alert.kind)} · detected ${formatInstant(alert.detectedAt, timeZone)} · sent once; its end is announced as usual`, verbatim: true }],
    },
  ];
  const fallback = [heading, jobAlertExplanation(alert, timeZone)].map((line) => escapeSlackWithin(line, 1_000)).join('\n');
  return { text: fallback, blocks, unfurl_links: false, unfurl_media: false };
}

/** The job alert as an email. */
export function renderEmailJobAlert(alert: JobAlert, options: JobAlertRenderOptions = {}): EmailContent {
  const timeZone = options.timeZone ?? 'UTC';
  const heading = jobAlertHeadline(alert);
  const explanation = jobAlertExplanation(alert, timeZone);
  const list = facts(alert, timeZone);
  const width = Math.max(...list.map((fact) => fact.label.length));
  const text = [
    heading,
    '',
    explanation,
    '',
    ...list.map((fact) => `${`${fact.label}:`.padEnd(width + 2)}${sanitizeText(truncate(fact.value, 500)).replace(/\n/g, ' ')}`),
    '',
    'Sent once for this condition; the job’s end is announced as usual.',
    '-- ',
    'Sent by gem-watch.',
  ].join('\n');
  const rows = list
    .map(
      (fact) =>
        `<tr><th align="left" style="padding:4px 12px 4px 0;color:#57606a;font-weight:normal;white-space:nowrap">${escapeHtml(fact.label)}</th><td style="padding:4px 0;word-break:break-all">${escapeHtml(truncate(fact.value, 2_000))}</td></tr>`,
    )
    .join('\n');
  const html = [
    '<!DOCTYPE html>',
    '<html><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">',
    `<title>${escapeHtml(heading)}</title></head>`,
    "<body style=\"margin:0;padding:16px;background:#ffffff;font-family:-apple-system,'Segoe UI',Helvetica,Arial,sans-serif;color:#24292f\">",
    `<h2 style="margin:0 0 12px 0;font-size:18px;color:#9a6700">${escapeHtml(heading)}</h2>`,
    `<p style="margin:0 0 12px 0">${escapeHtml(explanation)}</p>`,
    `<table role="presentation" cellpadding="0" cellspacing="0" style="border-collapse:collapse;font-size:14px">\n${rows}\n</table>`,
    '<p style="margin:16px 0 0 0;font-size:13px;color:#57606a">Sent once for this condition; the job’s end is announced as usual.</p>',
    '<p style="margin:16px 0 0 0;font-size:12px;color:#6e7781">Sent by gem-watch.</p>',
    '</body></html>',
  ].join('\n');
  return { subject: sanitizeHeader(`[gem-watch] ${heading}`), text, html };
}
