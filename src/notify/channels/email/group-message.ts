import type { GroupRow, GroupSummary } from '../../../domain/batch.js';
import { escapeHtml, sanitizeHeader, sanitizeText, truncate } from '../../../templates/escape.js';
import { formatInstant, formatPercent } from '../../../templates/format.js';
import { countsLine, groupExplanation, groupTitle, pad, tableLine, worstLine, type GroupRenderOptions } from '../../../templates/group-format.js';
import type { EmailContent } from './email-message.js';

/**
 * Grouped messages, by email: a burst of job updates gathered into one message, or the
 * summary of what a route held during quiet hours or a silence. Counts, the few that most need a
 * look, and a table. API text is escaped like everywhere else and every part is cut to its limit.
 */

/** Rows of the email table at most; the rest are counted. */
const EMAIL_TABLE_ROWS = 1_000;
/**
 * Bytes of table rows in the HTML part and in the text part; the rows past either are counted,
 * not listed. Gmail clips a message past ~102 KB (its body as sent, quoted-printable included),
 * hiding the end behind a link; 55 KB of HTML rows (a row with long names and a note is ~1.2 KB,
 * so 45 such rows, many more short ones) and 20 KB of text rows: a 300-job group with long names
 * and messages measured 75 KB as sent (340 KB when every row was listed).
 */
const EMAIL_HTML_ROW_BYTES = 55_000;
const EMAIL_TEXT_ROW_BYTES = 20_000;
const FONT = "font-family:-apple-system,'Segoe UI',Helvetica,Arial,sans-serif";

function cell(text: string, style = ''): string {
  return `<td style="padding:3px 10px 3px 0;vertical-align:top;${style}">${escapeHtml(truncate(text, 300))}</td>`;
}

/** The group as an email: subject with the counts, a text part and an HTML table. */
export function renderEmailGroup(summary: GroupSummary, options: GroupRenderOptions): EmailContent {
  const timeZone = options.timeZone ?? 'UTC';
  const heading = groupTitle(summary, options);
  const counts = countsLine(summary);
  const note = groupExplanation(summary, options, timeZone);
  const htmlRow = (row: GroupRow) =>
    `<tr>${cell(row.jobId)}${cell(row.jobType)}${cell(row.what, row.problem ? 'color:#cf222e' : '')}${cell(row.roadsMatchedPct === undefined ? '—' : formatPercent(row.roadsMatchedPct))}${cell(row.inputFile ?? '—', 'overflow-wrap:anywhere')}${cell(row.note ?? '')}${cell(formatInstant(row.at, timeZone), 'white-space:nowrap')}</tr>`;
  const htmlRows: string[] = [];
  const textRows: string[] = [];
  let htmlBytes = 0;
  let textBytes = 0;
  for (const row of summary.rows.slice(0, EMAIL_TABLE_ROWS)) {
    const html = htmlRow(row);
    const line = sanitizeText(tableLine(row));
    htmlBytes += Buffer.byteLength(html) + 1;
    textBytes += Buffer.byteLength(line) + 1;
    if (htmlBytes > EMAIL_HTML_ROW_BYTES || textBytes > EMAIL_TEXT_ROW_BYTES) break;
    htmlRows.push(html);
    textRows.push(line);
  }
  const more = summary.rows.length - htmlRows.length;
  // Nothing links out (a careful mail client would not follow it): the CLI has every delivery.
  const moreText = `… and ${more} more, not listed here to keep this mail whole; \`gem-watch log\` lists every one.`;

  const text = [
    heading,
    counts,
    '',
    ...(summary.worst.length > 0 ? ['Needs a look:', ...summary.worst.map((row) => `- ${sanitizeText(worstLine(row))}`), ''] : []),
    `${pad('JOB', 14)} ${pad('STATUS', 16)} ${pad('MATCHED', 8)} INPUT`,
    ...textRows,
    ...(more > 0 ? [moreText] : []),
    '',
    note,
    '-- ',
    'Sent by gem-watch.',
  ].join('\n');

  const worstHtml =
    summary.worst.length > 0
      ? `<h3 style="margin:16px 0 8px 0;font-size:15px">Needs a look</h3>\n<ul style="margin:0;padding-left:20px">${summary.worst
          .map((row) => `<li>${escapeHtml(truncate(worstLine(row), 600))}</li>`)
          .join('')}</ul>`
      : '';
  const head = ['Job', 'Type', 'Status', 'Matched', 'Input file', 'Note', 'Detected']
    .map((label) => `<th align="left" style="padding:3px 10px 3px 0;color:#57606a;font-weight:normal">${label}</th>`)
    .join('');
  const body = htmlRows.join('\n');
  const html = [
    '<!DOCTYPE html>',
    '<html><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">',
    `<title>${escapeHtml(heading)}</title></head>`,
    `<body style="margin:0;padding:16px;background:#ffffff;${FONT};color:#24292f">`,
    `<h2 style="margin:0 0 8px 0;font-size:18px;color:${summary.worst.length > 0 ? '#9a6700' : '#24292f'}">${escapeHtml(heading)}</h2>`,
    `<p style="margin:0 0 12px 0">${escapeHtml(counts)}</p>`,
    worstHtml,
    `<table role="presentation" cellpadding="0" cellspacing="0" style="border-collapse:collapse;margin-top:16px;${FONT};font-size:13px">`,
    `<tr>${head}</tr>`,
    body,
    '</table>',
    more > 0 ? `<p>${escapeHtml(moreText)}</p>` : '',
    `<p style="margin:16px 0 0 0;font-size:13px;color:#57606a">${escapeHtml(note)}</p>`,
    '<p style="margin:16px 0 0 0;font-size:12px;color:#6e7781">Sent by gem-watch.</p>',
    '</body></html>',
  ].join('\n');

  return { subject: sanitizeHeader(`[gem-watch] ${heading}: ${counts}`), text, html };
}
