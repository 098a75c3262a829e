import type { QualityShortfall } from '../../../domain/quality.js';
import type { Transition } from '../../../domain/transition.js';
import { escapeSlackWithin } from '../../../templates/escape.js';
import { headline } from '../../../templates/format.js';
import { warningText } from '../../../templates/warning-format.js';
import { renderSlackTransition, SLACK_LIMITS, type SlackMessage, type SlackRenderOptions } from './slack-message.js';

/**
 * A finished job below its route's quality thresholds: the same one message as any finished job,
 * rendered as a warning that names each threshold missed. Built on the transition renderers, so
 * the job's facts and statistics read exactly as in the normal message.
 */

/** The Slack message of a finished job that missed a threshold. */
export function renderSlackWarning(transition: Transition, shortfalls: readonly QualityShortfall[], options: SlackRenderOptions = {}): SlackMessage {
  const message = renderSlackTransition(transition, options);
  if (shortfalls.length === 0) return message;
  const title = `:warning: ${headline(transition.job, transition.to)} (below threshold)`;
  const [, ...rest] = message.blocks;
  const blocks: SlackMessage['blocks'] = [
    { type: 'header', text: { type: 'plain_text', text: escapeSlackWithin(title, SLACK_LIMITS.headerText), emoji: true } },
    { type: 'section', text: { type: 'mrkdwn', text: `*${escapeSlackWithin(warningText(shortfalls), SLACK_LIMITS.sectionText - 2)}*`, verbatim: true } },
    ...rest,
  ];
  const text = `${escapeSlackWithin(`Warning: ${warningText(shortfalls)}`, 400)}\n${message.text}`;
  return { ...message, text: text.slice(0, SLACK_LIMITS.fallbackText), blocks: blocks.slice(0, SLACK_LIMITS.blocks) };
}
