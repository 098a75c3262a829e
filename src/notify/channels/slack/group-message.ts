import type { KnownBlock } from '@slack/types';
import type { GroupSummary } from '../../../domain/batch.js';
import { escapeSlack, escapeSlackWithin, truncate } from '../../../templates/escape.js';
import { countsLine, groupExplanation, groupTitle, pad, tableLine, worstLine, type GroupRenderOptions } from '../../../templates/group-format.js';
import { SLACK_LIMITS, type SlackMessage } from './slack-message.js';

/**
 * Grouped messages, in Slack: a burst of job updates gathered into one message, or the
 * summary of what a route held during quiet hours or a silence. Counts, the few that most need a
 * look, and a table. API text is escaped like everywhere else and every part is cut to its limit.
 */

/** Rows of the Slack table at most (the section's 3,000 characters usually end it sooner). */
const SLACK_TABLE_ROWS = 40;

/** The group as a Slack message (Block Kit), within every limit. */
export function renderSlackGroup(summary: GroupSummary, options: GroupRenderOptions): SlackMessage {
  const timeZone = options.timeZone ?? 'UTC';
  const heading = groupTitle(summary, options);
  const emoji = options.kind === 'held' ? ':zzz:' : summary.worst.length > 0 ? ':warning:' : ':package:';
  const blocks: KnownBlock[] = [
    { type: 'header', text: { type: 'plain_text', text: escapeSlackWithin(`${emoji} ${heading}`, SLACK_LIMITS.headerText), emoji: true } },
  ];
  const fields = summary.counts.slice(0, SLACK_LIMITS.fields - 1).map(({ what, count }) => ({
    type: 'mrkdwn' as const,
    text: `*${escapeSlackWithin(what, 100)}*\n${count}`,
    verbatim: true,
  }));
  if (summary.belowThreshold > 0) fields.push({ type: 'mrkdwn', text: `*below threshold*\n${summary.belowThreshold}`, verbatim: true });
  if (fields.length > 0) blocks.push({ type: 'section', fields });

  if (summary.worst.length > 0) {
    let text = '*Needs a look*';
    for (const row of summary.worst) {
      const line = `\n• ${escapeSlackWithin(worstLine(row), 400)}`;
      if (text.length + line.length > SLACK_LIMITS.sectionText) break;
      text += line;
    }
    blocks.push({ type: 'section', text: { type: 'mrkdwn', text, verbatim: true } });
  }

  const header = `${pad('JOB', 14)} ${pad('STATUS', 16)} ${pad('MATCHED', 8)} INPUT`;
  let table = '```\n' + escapeSlack(header);
  let shown = 0;
  for (const row of summary.rows.slice(0, SLACK_TABLE_ROWS)) {
    const line = `\n${escapeSlackWithin(tableLine(row), 200)}`;
    // Room for the closing fence and the "and N more" line.
    if (table.length + line.length + 40 > SLACK_LIMITS.sectionText) break;
    table += line;
    shown += 1;
  }
  table += '\n```';
  if (shown < summary.rows.length) table += `\n… and ${summary.rows.length - shown} more (see the email or the digest)`;
  blocks.push({ type: 'section', text: { type: 'mrkdwn', text: table, verbatim: true } });

  blocks.push({
    type: 'context',
    elements: [{ type: 'mrkdwn', text: escapeSlackWithin(`gem-watch · ${groupExplanation(summary, options, timeZone)}`, 1_000), verbatim: true }],
  });

  const fallback = [heading, countsLine(summary), ...summary.worst.map(worstLine)].map((line) => escapeSlackWithin(line, 300)).join('\n');
  return {
    text: truncate(fallback, SLACK_LIMITS.fallbackText),
    blocks: blocks.slice(0, SLACK_LIMITS.blocks),
    unfurl_links: false,
    unfurl_media: false,
  };
}
