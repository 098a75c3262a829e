import type { KnownBlock, MrkdwnElement } from '@slack/types';
import type { DigestModel } from '../../../domain/digest.js';
import { escapeSlack, truncate } from '../../../templates/escape.js';
import { etaRelative, kmChange, matchedChange, oneLine, periodLabel, periodLength, stallNote, summaryLine } from '../../../templates/digest-format.js';
import { formatDuration, formatKm, formatNumber, formatPercent } from '../../../templates/format.js';
import { SLACK_LIMITS, type SlackMessage } from './slack-message.js';

/**
 * The digest as a short Slack summary (Block Kit) for an incoming webhook: counts, totals, and the
 * first few jobs of each list; the full lists are in the e-mail. Every API value is escaped with
 * `escapeSlack` (&, < and > — what makes `<!channel>` and `<url|label>` inert) and every mrkdwn
 * object is `verbatim`, so Slack does not auto-link bare URLs or channel names in file names.
 * Texts are cut to Block Kit's limits so Slack never rejects the message for its size.
 */

export interface DigestSlackOptions {
  /** Jobs listed per section; the rest are counted. Default 8. */
  maxItems?: number;
}

/** Source characters of one name; escaping may grow it up to five times (`&` → `&amp;`). */
const NAME_CHARS = 80;
const MESSAGE_CHARS = 200;

function mrkdwn(text: string): MrkdwnElement {
  return { type: 'mrkdwn', text, verbatim: true };
}

/** A name from the API, on one line, cut, then escaped (cut first so no entity is split). */
function name(text: string): string {
  return escapeSlack(oneLine(text, NAME_CHARS));
}

function jobLabel(job: { inputFile?: string; jobId: string; jobType: string }): string {
  const title = job.inputFile === undefined ? `job ${name(job.jobId)}` : name(job.inputFile);
  return `*${title}* (${name(job.jobType)} ${name(job.jobId)})`;
}

/** One section listing lines under a title, never past the section limit; the rest are counted. */
function listSection<T>(title: string, items: T[], maxItems: number, line: (item: T) => string): KnownBlock[] {
  if (items.length === 0) return [];
  let text = `*${title}* (${formatNumber(items.length)})`;
  let shown = 0;
  for (const item of items.slice(0, maxItems)) {
    const next = `\n${line(item)}`;
    // Room is kept for the "and N more" line.
    if (text.length + next.length > SLACK_LIMITS.sectionText - 60) break;
    text += next;
    shown += 1;
  }
  if (shown < items.length) text += `\n_… and ${formatNumber(items.length - shown)} more in the e-mail digest_`;
  return [{ type: 'section', text: mrkdwn(text) }];
}

/** Renders the digest as a Slack message. */
export function renderDigestSlack(model: DigestModel, options: DigestSlackOptions = {}): SlackMessage {
  const maxItems = options.maxItems ?? 8;
  const { counts, totals } = model;
  const header = truncate(`gem-watch digest · ${periodLength(model)}`, SLACK_LIMITS.headerText);
  const blocks: KnownBlock[] = [
    { type: 'header', text: { type: 'plain_text', text: header, emoji: false } },
    { type: 'context', elements: [mrkdwn(escapeSlack(periodLabel(model)))] },
    {
      type: 'section',
      fields: [
        mrkdwn(`:white_check_mark: *Finished* ${formatNumber(counts.finished)}`),
        mrkdwn(`:x: *Failed* ${formatNumber(counts.failed)}`),
        mrkdwn(`:no_entry_sign: *Cancelled* ${formatNumber(counts.cancelled)}`),
        mrkdwn(`:arrows_counterclockwise: *Running now* ${formatNumber(counts.running)}`),
        mrkdwn(`:hourglass_flowing_sand: *Queued now* ${formatNumber(counts.queued)}`),
      ],
    },
  ];
  if (model.isEmpty) {
    blocks.push({ type: 'section', text: mrkdwn('Nothing happened in this period: no job started, finished or failed, and none is running or waiting.') });
  }
  const matched = totals.matchedPct === undefined ? '—' : formatPercent(Number(totals.matchedPct.toFixed(2)));
  blocks.push({
    type: 'section',
    text: mrkdwn(
      [
        `*Km processed* ${escapeSlack(formatKm(totals.kmProcessed))} (${escapeSlack(kmChange(model))})`,
        `*Roads processed* ${formatNumber(totals.roadsProcessed)}`,
        `*Roads matched* ${matched} km-weighted${matchedChange(model) ? ` (${matchedChange(model)})` : ''}`,
      ].join('\n'),
    ),
  });

  const ended = [...model.failed, ...model.cancelled].sort((a, b) => a.endedAt - b.endedAt);
  blocks.push(
    ...listSection('Failed and cancelled', ended, maxItems, (job) => {
      const icon = job.status === 'failed' ? ':x:' : ':no_entry_sign:';
      const message = job.message === undefined ? '' : ` — ${escapeSlack(oneLine(job.message, MESSAGE_CHARS))}`;
      return `${icon} ${jobLabel(job)}${message}`;
    }),
    ...listSection('Finished', model.finished, maxItems, (job) =>
      [
        `:white_check_mark: ${jobLabel(job)}`,
        `${formatPercent(job.matchedPct)} matched`,
        escapeSlack(formatKm(job.kmProcessed)),
        `${formatNumber(job.roadsProcessed)} roads`,
        formatDuration(job.durationSec),
      ].join(' · '),
    ),
    ...listSection('Running', model.running, maxItems, (job) =>
      [
        `:arrows_counterclockwise: ${jobLabel(job)}`,
        formatPercent(job.progress),
        `ETA ${etaRelative(job.expectedEndAt, model.generatedAt)}`,
        ...(stallNote(job, model.generatedAt) ? [`:warning: ${stallNote(job, model.generatedAt)}`] : []),
      ].join(' · '),
    ),
    ...listSection('Queued', model.queued, maxItems, (job) =>
      `:hourglass_flowing_sand: ${jobLabel(job)} · waiting ${formatDuration((model.generatedAt - job.queuedSince) / 1000)}`,
    ),
  );

  return {
    text: `gem-watch digest (${periodLength(model)}): ${summaryLine(model)}`,
    blocks,
    unfurl_links: false,
    unfurl_media: false,
  };
}
