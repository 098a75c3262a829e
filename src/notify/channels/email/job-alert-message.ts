import type { JobAlert } from '../../../domain/overdue.js';
import { escapeHtml, sanitizeHeader, sanitizeText, truncate } from '../../../templates/escape.js';
import { jobAlertExplanation, jobAlertFacts, jobAlertHeadline, type JobAlertRenderOptions } from '../../../templates/job-alert-format.js';
import type { EmailContent } from './email-message.js';

/**
 * A stuck or overdue job: queued too long, running past its expected end, or with progress that
 * has stopped moving. Sent once per job and condition; the job's finish is announced as usual.
 */

/** The job alert as an email. */
export function renderEmailJobAlert(alert: JobAlert, options: JobAlertRenderOptions = {}): EmailContent {
  const timeZone = options.timeZone ?? 'UTC';
  const heading = jobAlertHeadline(alert);
  const explanation = jobAlertExplanation(alert, timeZone);
  const list = jobAlertFacts(alert, timeZone);
  const width = Math.max(...list.map((fact) => fact.label.length));
  const text = [
    // The headline names the job by its id, which is API text: no control characters in the text part.
    sanitizeText(heading),
    '',
    sanitizeText(explanation),
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
