import type { JobStatus } from '../../../domain/job.js';
import type { OperatorAlert } from '../../../domain/operator-alert.js';
import type { Transition } from '../../../domain/transition.js';
import { escapeTeams, escapeTeamsWithin } from '../../../templates/escape.js';
import { formatInstant, headline, jobFacts, statisticsFacts, type Fact } from '../../../templates/format.js';

/**
 * Pure renderers of Teams messages: the body a Teams Workflows webhook ("Post to a channel when a
 * webhook request is received") takes, one Adaptive Card 1.4 as its attachment. Every value from
 * the API goes through `escapeTeams`, since TextBlock text and FactSet titles and values are
 * markdown: the card can carry no link, mention, emphasis or HTML that GEM's text brought. Each
 * text is cut to a budget here, and `teamsMessage` cuts whole elements off the end if the body
 * would still pass Teams' 28 KB, so Teams never refuses a message for its size.
 */

/** Teams refuses a message body over 28 KB; the cards keep a margin below it. */
export const TEAMS_LIMITS = {
  /** Largest body sent, in bytes of JSON (UTF-8). */
  bodyBytes: 27 * 1024,
  /** Source characters of one fact value. */
  factValue: 400,
  /** Source characters of a title. */
  title: 200,
  /** Source characters of a failure or alert detail. */
  detail: 3_000,
} as const;

export interface TeamsTextBlock {
  type: 'TextBlock';
  text: string;
  wrap: true;
  weight?: 'Bolder';
  size?: 'Small' | 'Medium' | 'Large';
  color?: 'Default' | 'Good' | 'Attention' | 'Warning' | 'Accent';
  isSubtle?: boolean;
  spacing?: 'None' | 'Small' | 'Medium';
  separator?: boolean;
}

export interface TeamsFactSet {
  type: 'FactSet';
  facts: Array<{ title: string; value: string }>;
}

export type TeamsElement = TeamsTextBlock | TeamsFactSet;

/** An Adaptive Card as gem-watch writes it: text blocks and fact sets, nothing interactive. */
export interface AdaptiveCard {
  $schema: 'http://adaptivecards.io/schemas/adaptive-card.json';
  type: 'AdaptiveCard';
  version: '1.4';
  /** Plain text for clients that cannot show the card (and the Teams notification preview). */
  fallbackText: string;
  body: TeamsElement[];
}

/** The body posted to a Workflows webhook. */
export interface TeamsMessage {
  type: 'message';
  attachments: [{ contentType: 'application/vnd.microsoft.card.adaptive'; contentUrl: null; content: AdaptiveCard }];
}

export interface TeamsRenderOptions {
  /** IANA time zone of the times shown; default UTC. */
  timeZone?: string;
}

const STATUS_MARK: Record<JobStatus, string> = {
  finished: '✅',
  failed: '❌',
  cancelled: '🚫',
  queued: '⏳',
  running: '🔄',
  unknown: '❔',
};

const STATUS_COLOR: Record<JobStatus, TeamsTextBlock['color']> = {
  finished: 'Good',
  failed: 'Attention',
  cancelled: 'Warning',
  queued: 'Default',
  running: 'Accent',
  unknown: 'Default',
};

/** A title line: bold, medium, escaped and cut. */
export function titleBlock(raw: string, color: TeamsTextBlock['color'] = 'Default'): TeamsTextBlock {
  return { type: 'TextBlock', text: escapeTeamsWithin(raw, TEAMS_LIMITS.title), wrap: true, weight: 'Bolder', size: 'Medium', color };
}

/** A bold label above a section. */
export function labelBlock(label: string): TeamsTextBlock {
  return { type: 'TextBlock', text: escapeTeams(label), wrap: true, weight: 'Bolder', spacing: 'Medium' };
}

/** Running text from the API: escaped, line breaks kept, cut to `max` source characters. */
export function textBlock(raw: string, max: number = TEAMS_LIMITS.detail): TeamsTextBlock {
  return { type: 'TextBlock', text: escapeTeamsWithin(raw, max, true), wrap: true };
}

/** The small grey line at the bottom: what changed and when it was seen. */
export function contextBlock(raw: string): TeamsTextBlock {
  return { type: 'TextBlock', text: escapeTeamsWithin(raw, 1_000), wrap: true, size: 'Small', isSubtle: true, separator: true };
}

/** Facts as a FactSet, each title and value escaped and cut. */
export function factSet(facts: readonly Fact[]): TeamsFactSet {
  return {
    type: 'FactSet',
    facts: facts.map((fact) => ({ title: escapeTeamsWithin(fact.label, 80), value: escapeTeamsWithin(fact.value, TEAMS_LIMITS.factValue) })),
  };
}

function bodyBytes(message: TeamsMessage): number {
  return Buffer.byteLength(JSON.stringify(message), 'utf8');
}

/**
 * The Workflows body around a card, within `TEAMS_LIMITS.bodyBytes`: when the card would pass
 * it, elements are cut off its end (the title and the first facts stay) and a last line says so.
 */
export function teamsMessage(fallback: string, body: TeamsElement[]): TeamsMessage {
  const wrap = (elements: TeamsElement[]): TeamsMessage => ({
    type: 'message',
    attachments: [
      {
        contentType: 'application/vnd.microsoft.card.adaptive',
        contentUrl: null,
        content: {
          $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
          type: 'AdaptiveCard',
          version: '1.4',
          fallbackText: escapeTeamsWithin(fallback, 300),
          body: elements,
        },
      },
    ],
  });
  let message = wrap(body);
  if (bodyBytes(message) <= TEAMS_LIMITS.bodyBytes) return message;
  const note: TeamsTextBlock = { type: 'TextBlock', text: '… cut to fit a Teams message', wrap: true, isSubtle: true, size: 'Small' };
  const kept = [...body];
  while (kept.length > 1) {
    kept.pop();
    message = wrap([...kept, note]);
    if (bodyBytes(message) <= TEAMS_LIMITS.bodyBytes) return message;
  }
  // The title alone is at most a few hundred bytes; this is not reached with the budgets above.
  return wrap([titleBlock('gem-watch message (too large to show)'), note]);
}

/** The card inside a message. */
export function cardOf(message: TeamsMessage): AdaptiveCard {
  return message.attachments[0].content;
}

/**
 * A transition as a Teams card: a title with the status, the job's facts (id, type, input →
 * output, release, times, duration), the statistics, GEM's detail for a failure, and a line
 * saying what changed and when it was detected.
 */
export function renderTeamsTransition(transition: Transition, options: TeamsRenderOptions = {}): TeamsMessage {
  const timeZone = options.timeZone ?? 'UTC';
  const { job } = transition;
  const title = headline(job, transition.to);
  const body: TeamsElement[] = [titleBlock(`${STATUS_MARK[transition.to] ?? STATUS_MARK.unknown} ${title}`, STATUS_COLOR[transition.to]), factSet(jobFacts(job, timeZone))];
  const statistics = statisticsFacts(job.statistics);
  if (statistics.length > 0) body.push(labelBlock('Statistics'), factSet(statistics));
  if (job.message !== undefined && job.message.trim() !== '') {
    body.push(labelBlock(transition.to === 'failed' ? 'Failure detail' : 'Message from GEM'), textBlock(job.message));
  }
  const from = transition.from === undefined ? 'first seen' : `was ${transition.from}`;
  body.push(contextBlock(`gem-watch · ${transition.to} (${from}) · detected ${formatInstant(transition.detectedAt, timeZone)}`));
  return teamsMessage(title, body);
}

/** A message about gem-watch itself (polling failing, credentials rejected) and its recovery. */
export function renderTeamsAlert(alert: OperatorAlert, options: TeamsRenderOptions = {}): TeamsMessage {
  const timeZone = options.timeZone ?? 'UTC';
  const down = alert.state === 'down';
  const title = down ? `gem-watch alert: ${alert.title}` : `gem-watch recovered: ${alert.title}`;
  return teamsMessage(title, [
    titleBlock(`${down ? '🚨' : '🟢'} ${title}`, down ? 'Attention' : 'Good'),
    textBlock(alert.detail || '—'),
    contextBlock(`gem-watch · ${alert.kind} ${down ? 'down' : 'up'} since ${formatInstant(alert.since, timeZone)}`),
  ]);
}
