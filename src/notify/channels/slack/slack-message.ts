import type { KnownBlock, MrkdwnElement } from '@slack/types';
import type { JobStatus } from '../../../domain/job.js';
import type { OperatorAlert } from '../../../domain/operator-alert.js';
import type { Transition } from '../../../domain/transition.js';
import { escapeSlack, escapeSlackWithin } from '../../../templates/escape.js';
import { formatInstant, headline, jobFacts, statisticsFacts, type Fact } from '../../../templates/format.js';

/**
 * Pure renderers of Slack messages (Block Kit). Every value from the API goes through
 * `escapeSlackWithin`: escaping &, < and > makes `<!channel>`, `<@U…>` and `<url|label>` inert, and
 * every mrkdwn object is `verbatim` so Slack does not auto-link bare URLs or channel names either.
 * Every text is cut to Block Kit's limits here, so Slack never rejects a message for its size.
 */

/** Block Kit limits (https://docs.slack.dev/reference/block-kit/blocks). */
export const SLACK_LIMITS = {
  blocks: 50,
  headerText: 150,
  sectionText: 3000,
  fields: 10,
  fieldText: 2000,
  contextElements: 10,
  /** Slack accepts 40,000 for the top-level text; notifications show far less. */
  fallbackText: 3000,
} as const;

/**
 * A message as posted to an incoming webhook. Its blocks are `@slack/types`' own `KnownBlock`
 * (the types Slack publishes and @slack/webhook sends), so the compiler checks every payload's
 * shape; the limits those types cannot express are checked by `slackMessageProblems`.
 */
export interface SlackMessage {
  /** Fallback for notifications and clients without blocks; always present. */
  text: string;
  blocks: KnownBlock[];
  unfurl_links: false;
  unfurl_media: false;
}

export interface SlackRenderOptions {
  /** IANA time zone of the times shown; default UTC. */
  timeZone?: string;
}

const STATUS_EMOJI: Record<JobStatus, string> = {
  finished: ':white_check_mark:',
  failed: ':x:',
  cancelled: ':no_entry_sign:',
  queued: ':hourglass_flowing_sand:',
  running: ':arrows_counterclockwise:',
  unknown: ':grey_question:',
};

/** Budget for the longest failure detail, leaving room for its label inside one section. */
const DETAIL_BUDGET = SLACK_LIMITS.sectionText - 100;

function mrkdwn(text: string): MrkdwnElement {
  return { type: 'mrkdwn', text, verbatim: true };
}

function header(raw: string): KnownBlock {
  return { type: 'header', text: { type: 'plain_text', text: escapeSlackWithin(raw, SLACK_LIMITS.headerText), emoji: true } };
}

/** A field "*Label*\nvalue", both escaped, the value cut so the whole stays within a field's limit. */
function field(fact: Fact): MrkdwnElement {
  const label = escapeSlackWithin(fact.label, 100);
  const budget = SLACK_LIMITS.fieldText - label.length - 3;
  return mrkdwn(`*${label}*\n${escapeSlackWithin(fact.value, budget)}`);
}

function fieldSections(facts: Fact[]): KnownBlock[] {
  const blocks: KnownBlock[] = [];
  for (let start = 0; start < facts.length; start += SLACK_LIMITS.fields) {
    blocks.push({ type: 'section', fields: facts.slice(start, start + SLACK_LIMITS.fields).map(field) });
  }
  return blocks;
}

/** The fallback text: plain, escaped, one line per fact, within its limit. */
function fallback(title: string, facts: Fact[]): string {
  const lines = [escapeSlackWithin(title, 300), ...facts.map((fact) => `${escapeSlack(fact.label)}: ${escapeSlackWithin(fact.value, 200)}`)];
  let text = '';
  for (const line of lines) {
    const next = text === '' ? line : `${text}\n${line}`;
    if (next.length > SLACK_LIMITS.fallbackText) break;
    text = next;
  }
  return text;
}

/**
 * A transition as a Slack message: a header with the status emoji, the job's facts (id, type,
 * input → output, release, times, duration), the statistics, the API's detail for a failure, and a
 * context line saying what changed.
 */
export function renderSlackTransition(transition: Transition, options: SlackRenderOptions = {}): SlackMessage {
  const timeZone = options.timeZone ?? 'UTC';
  const { job } = transition;
  const emoji = STATUS_EMOJI[transition.to] ?? STATUS_EMOJI.unknown;
  const title = headline(job, transition.to);
  const facts = jobFacts(job, timeZone);
  const statistics = statisticsFacts(job.statistics);

  const blocks: KnownBlock[] = [header(`${emoji} ${title}`), ...fieldSections(facts)];
  if (statistics.length > 0) {
    blocks.push({ type: 'section', text: mrkdwn('*Statistics*') }, ...fieldSections(statistics));
  }
  if (job.message !== undefined && job.message.trim() !== '') {
    const label = transition.to === 'failed' ? 'Failure detail' : 'Message from GEM';
    blocks.push({ type: 'section', text: mrkdwn(`*${label}*\n${escapeSlackWithin(job.message, DETAIL_BUDGET)}`) });
  }
  const from = transition.from === undefined ? 'first seen' : `was ${transition.from}`;
  blocks.push({
    type: 'context',
    elements: [mrkdwn(`gem-watch · ${escapeSlack(transition.to)} (${escapeSlack(from)}) · detected ${formatInstant(transition.detectedAt, timeZone)}`)],
  });

  const textFacts = [...facts, ...statistics];
  if (job.message) textFacts.push({ label: 'Detail', value: job.message });
  return { text: fallback(title, textFacts), blocks: blocks.slice(0, SLACK_LIMITS.blocks), unfurl_links: false, unfurl_media: false };
}

/** A message about gem-watch itself (polling failing, credentials rejected) and its recovery. */
export function renderSlackAlert(alert: OperatorAlert, options: SlackRenderOptions = {}): SlackMessage {
  const timeZone = options.timeZone ?? 'UTC';
  const down = alert.state === 'down';
  const title = down ? `gem-watch alert: ${alert.title}` : `gem-watch recovered: ${alert.title}`;
  const blocks: KnownBlock[] = [
    header(`${down ? ':rotating_light:' : ':large_green_circle:'} ${title}`),
    { type: 'section', text: mrkdwn(escapeSlackWithin(alert.detail || '—', SLACK_LIMITS.sectionText)) },
    {
      type: 'context',
      elements: [mrkdwn(`gem-watch · ${escapeSlackWithin(alert.kind, 100)} ${down ? 'down' : 'up'} since ${formatInstant(alert.since, timeZone)}`)],
    },
  ];
  return {
    text: fallback(title, [{ label: 'Detail', value: alert.detail }]),
    blocks,
    unfurl_links: false,
    unfurl_media: false,
  };
}

/**
 * Every way a message breaks Block Kit's limits, as readable problems; empty when it is valid.
 * The renderers never produce one, and tests prove it on hostile input.
 */
export function slackMessageProblems(message: SlackMessage): string[] {
  const problems: string[] = [];
  if (!message.text) problems.push('text is empty');
  if (message.text.length > SLACK_LIMITS.fallbackText) problems.push(`text has ${message.text.length} characters`);
  if (message.blocks.length > SLACK_LIMITS.blocks) problems.push(`${message.blocks.length} blocks`);
  message.blocks.forEach((block, index) => {
    const where = `blocks[${index}] (${block.type})`;
    if (block.type === 'header') {
      if (block.text.text.length === 0 || block.text.text.length > SLACK_LIMITS.headerText) problems.push(`${where}: header text ${block.text.text.length}`);
    } else if (block.type === 'section') {
      if (!block.text && !block.fields) problems.push(`${where}: neither text nor fields`);
      if (block.text && (block.text.text.length === 0 || block.text.text.length > SLACK_LIMITS.sectionText)) {
        problems.push(`${where}: text ${block.text.text.length}`);
      }
      if (block.fields) {
        if (block.fields.length > SLACK_LIMITS.fields) problems.push(`${where}: ${block.fields.length} fields`);
        block.fields.forEach((item, i) => {
          if (item.text.length === 0 || item.text.length > SLACK_LIMITS.fieldText) problems.push(`${where}: field ${i} has ${item.text.length}`);
        });
      }
    } else if (block.type === 'context') {
      if (block.elements.length === 0 || block.elements.length > SLACK_LIMITS.contextElements) problems.push(`${where}: ${block.elements.length} elements`);
      block.elements.forEach((item, i) => {
        const length = 'text' in item ? item.text.length : 0;
        if (length === 0 || length > SLACK_LIMITS.sectionText) problems.push(`${where}: element ${i} has ${length}`);
      });
    }
  });
  return problems;
}
