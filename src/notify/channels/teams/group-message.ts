import type { GroupSummary } from '../../../domain/batch.js';
import { formatPercent } from '../../../templates/format.js';
import { countsLine, groupExplanation, groupTitle, worstLine, type GroupRenderOptions } from '../../../templates/group-format.js';
import { contextBlock, factSet, labelBlock, teamsMessage, textBlock, titleBlock, type TeamsElement, type TeamsMessage } from './teams-message.js';

/**
 * Grouped messages as a Teams card: a burst of job updates gathered into one, or what a route held
 * during quiet hours or a silence. Counts, the few that most need a look, and one fact per job
 * (a card has no fixed-width table); the rest are counted.
 */

/** Jobs listed one by one at most; the 28 KB budget usually allows all of them. */
const TEAMS_GROUP_ROWS = 40;

export function renderTeamsGroup(summary: GroupSummary, options: GroupRenderOptions): TeamsMessage {
  const timeZone = options.timeZone ?? 'UTC';
  const heading = groupTitle(summary, options);
  const mark = options.kind === 'held' ? '💤' : summary.worst.length > 0 ? '⚠️' : '📦';
  const body: TeamsElement[] = [titleBlock(`${mark} ${heading}`, summary.worst.length > 0 ? 'Warning' : 'Default')];
  const counts = summary.counts.map(({ what, count }) => ({ label: what, value: String(count) }));
  if (summary.belowThreshold > 0) counts.push({ label: 'below threshold', value: String(summary.belowThreshold) });
  if (counts.length > 0) body.push(factSet(counts));
  if (summary.worst.length > 0) {
    body.push(labelBlock('Needs a look'), textBlock(summary.worst.map((row) => `• ${worstLine(row)}`).join('\n'), 2_000));
  }
  const rows = summary.rows.slice(0, TEAMS_GROUP_ROWS);
  if (rows.length > 0) {
    body.push(
      labelBlock('Jobs'),
      factSet(
        rows.map((row) => ({
          label: `${row.jobType} ${row.jobId}`,
          value: [row.what, row.roadsMatchedPct === undefined ? undefined : `${formatPercent(row.roadsMatchedPct)} matched`, row.inputFile].filter((part) => part !== undefined).join(' · '),
        })),
      ),
    );
  }
  if (rows.length < summary.rows.length) body.push(textBlock(`… and ${summary.rows.length - rows.length} more (see the email or the digest)`));
  body.push(contextBlock(`gem-watch · ${groupExplanation(summary, options, timeZone)}`));
  return teamsMessage(`${heading}: ${countsLine(summary)}`, body);
}
