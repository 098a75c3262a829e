import type { KnownBlock } from '@slack/types';
import type { JobAlert } from '../../../domain/overdue.js';
import { escapeSlack, escapeSlackWithin } from '../../../templates/escape.js';
import { formatInstant } from '../../../templates/format.js';
import { jobAlertExplanation, jobAlertFacts, jobAlertHeadline, type JobAlertRenderOptions } from '../../../templates/job-alert-format.js';
import { SLACK_LIMITS, type SlackMessage } from './slack-message.js';

/**
 * A stuck or overdue job: queued too long, running past its expected end, or with progress that
 * has stopped moving. Sent once per job and condition; the job's finish is announced as usual.
 */

/** The job alert as a Slack message. */
export function renderSlackJobAlert(alert: JobAlert, options: JobAlertRenderOptions = {}): SlackMessage {
  const timeZone = options.timeZone ?? 'UTC';
  const heading = jobAlertHeadline(alert);
  const list = jobAlertFacts(alert, timeZone);
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
