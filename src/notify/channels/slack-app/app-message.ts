import type { KnownBlock, MrkdwnElement } from '@slack/types';
import type { JobStatus } from '../../../domain/job.js';
import type { JobAlert } from '../../../domain/overdue.js';
import type { QualityShortfall } from '../../../domain/quality.js';
import type { Transition } from '../../../domain/transition.js';
import { escapeSlackWithin } from '../../../templates/escape.js';
import { formatDuration, formatInstant, formatPercent, headline, secondsBetween } from '../../../templates/format.js';
import { jobAlertExplanation, jobAlertHeadline } from '../../../templates/job-alert-format.js';
import { warningText } from '../../../templates/warning-format.js';
import { renderSlackTransition, SLACK_LIMITS, type SlackMessage } from '../slack/slack-message.js';
import { renderSlackWarning } from '../slack/warning-message.js';

/**
 * Slack app mode's messages, pure: a job's one top-level message (its card, rendered by the
 * incoming-webhook renderers so both read alike, with a progress bar while it runs) and the
 * replies in its thread (its end, a stuck or overdue alert). API text is escaped by those
 * renderers and by `escapeSlackWithin` here; every mrkdwn object is `verbatim`. Mentions are never
 * rendered here: the notifier adds the route's own (from YAML) to a failure's reply.
 */

/** A reply in a job's thread. */
export interface SlackAppReply {
  /** Stable id of the reply within the job (`end-v3`, `alert-v2-stalled`): posted once. */
  id: string;
  /** The end it announces (finished, failed, cancelled), if it is one: broadcast and mentions follow it. */
  end?: 'finished' | 'failed' | 'cancelled';
  text: string;
  blocks: KnownBlock[];
}

/** What the Slack app channel sends for one notification. */
export interface SlackAppMessage {
  /** The top-level message: the job's card, or the whole message when it is not about one job. */
  main: SlackMessage;
  /** Set when the message is one job's: its one top-level message, posted once and updated after. */
  job?: {
    jobId: string;
    /** Status version the card shows. */
    version: number;
    /** When what the card shows was seen (detection or progress sample), epoch ms: orders updates of one version. */
    at: number;
    /** Run of the job id (GEM reuses ids); 0 for the first. */
    gen: number;
    /**
     * False when the card is only a stand-in (an alert about a job whose message this channel has
     * not got): it is posted when there is no message yet, but never replaces the one there is.
     */
    updatesMain: boolean;
    /** A progress update (liveProgress): the lowest priority, skipped when the workspace's budget is spent. */
    progress?: true;
  };
  reply?: SlackAppReply;
  /** The route is muted (quiet hours, a silence): the reply is neither broadcast nor mentions anyone. */
  quiet?: boolean;
}

const ENDS = new Set<JobStatus>(['finished', 'failed', 'cancelled']);

function mrkdwn(text: string): MrkdwnElement {
  return { type: 'mrkdwn', text, verbatim: true };
}

/** A text progress bar: `▓▓▓▓▓░░░░░ 52%`. */
export function progressBar(progress: number, width = 20): string {
  const clamped = Math.max(0, Math.min(100, progress));
  const filled = Math.round((clamped / 100) * width);
  return `${'▓'.repeat(filled)}${'░'.repeat(width - filled)} ${formatPercent(Math.round(clamped * 10) / 10)}`;
}

/** What the card shows while a job runs: progress and, when known, an ETA line (already formatted). */
export interface LiveProgress {
  progress: number;
  /** E.g. "about 40 min left (15:20)"; rendered as given, escaped. */
  eta?: string;
}

/** The job's card: the transition's message, with a progress section while the job is active. */
export function renderJobCard(transition: Transition, timeZone: string, live?: LiveProgress): SlackMessage {
  const card = renderSlackTransition(transition, { timeZone });
  const progress = live?.progress ?? transition.job.progress;
  if ((transition.to !== 'running' && transition.to !== 'queued') || progress === undefined || !Number.isFinite(progress)) return card;
  const eta = live?.eta ? `\n${escapeSlackWithin(live.eta, 200)}` : '';
  const section: KnownBlock = { type: 'section', text: mrkdwn(`*Progress*\n\`${progressBar(progress)}\`${eta}`) };
  // After the header: the first thing read on a running job.
  const blocks = [card.blocks[0]!, section, ...card.blocks.slice(1)].slice(0, SLACK_LIMITS.blocks);
  return { ...card, blocks };
}

/** The short reply announcing a job's end in its thread (Slack notifies nobody of an edit). */
export function renderEndReply(transition: Transition, shortfalls: readonly QualityShortfall[] = []): SlackAppReply {
  const end = transition.to as 'finished' | 'failed' | 'cancelled';
  const { job } = transition;
  const emoji = end === 'finished' ? (shortfalls.length > 0 ? ':warning:' : ':white_check_mark:') : end === 'failed' ? ':x:' : ':no_entry_sign:';
  const took = formatDuration(secondsBetween(job.createdAt, job.modifiedAt));
  const parts = [`${emoji} *${escapeSlackWithin(headline(job, end), 600)}*`];
  if (took !== '—') parts.push(`after ${took}`);
  let text = parts.join(' ');
  if (shortfalls.length > 0) text += `\n${escapeSlackWithin(warningText(shortfalls), 1_000)}`;
  if (end === 'failed' && job.message) text += `\n>${escapeSlackWithin(job.message.replace(/\s+/g, ' '), 1_200)}`;
  const fallback = escapeSlackWithin(headline(job, end), 1_000);
  return { id: `end-v${transition.version}`, end, text: fallback, blocks: [{ type: 'section', text: mrkdwn(text.slice(0, SLACK_LIMITS.sectionText)) }] };
}

/** A stuck, overdue or stalled job as a reply in its thread. */
export function renderAlertReply(alert: JobAlert, timeZone: string): SlackAppReply {
  const heading = jobAlertHeadline(alert);
  const text = `:hourglass: *${escapeSlackWithin(heading, 500)}*\n${escapeSlackWithin(jobAlertExplanation(alert, timeZone), 2_000)}`;
  return {
    id: `alert-v${alert.version}-${alert.kind}`,
    text: escapeSlackWithin(heading, 1_000),
    blocks: [{ type: 'section', text: mrkdwn(text.slice(0, SLACK_LIMITS.sectionText)) }],
  };
}

/** Whether a status is an end (its message gets a thread reply). */
export function isEnd(status: JobStatus): status is 'finished' | 'failed' | 'cancelled' {
  return ENDS.has(status);
}

/** A transition: the card updated, and for an end a reply in the thread. */
export function renderAppTransition(transition: Transition, timeZone: string, shortfalls?: readonly QualityShortfall[]): SlackAppMessage {
  const main = shortfalls && shortfalls.length > 0 ? renderSlackWarning(transition, shortfalls, { timeZone }) : renderJobCard(transition, timeZone);
  return {
    main,
    job: { jobId: transition.jobId, version: transition.version, at: transition.detectedAt, gen: transition.generation ?? 0, updatesMain: true },
    ...(isEnd(transition.to) ? { reply: renderEndReply(transition, shortfalls) } : {}),
  };
}

/** A job alert: a reply in the job's thread; the card is only posted if the channel has none yet. */
export function renderAppJobAlert(alert: JobAlert, timeZone: string): SlackAppMessage {
  const standIn: Transition = { jobId: alert.jobId, jobType: alert.jobType, to: alert.job.status, version: alert.version, detectedAt: alert.detectedAt, job: alert.job };
  return {
    main: renderJobCard(standIn, timeZone, alert.progress === undefined ? undefined : { progress: alert.progress }),
    job: { jobId: alert.jobId, version: alert.version, at: alert.detectedAt, gen: 0, updatesMain: false },
    reply: renderAlertReply(alert, timeZone),
  };
}

/** The ETA line of a running job's card: "ETA 15:20 (about 40 min)". */
export function etaLine(etaAt: number, at: number, timeZone: string): string {
  const left = Math.max(0, Math.round((etaAt - at) / 1000));
  return etaAt <= at ? `Expected end ${formatInstant(etaAt, timeZone)} (behind its pace)` : `ETA ${formatInstant(etaAt, timeZone)} (about ${formatDuration(left)} left)`;
}

/** A progress update of a running job's card (liveProgress): the card with its bar and ETA, no reply. */
export function renderAppProgress(transition: Transition, timeZone: string, etaAt?: number): SlackAppMessage {
  const progress = transition.job.progress;
  const live = progress === undefined ? undefined : { progress, ...(etaAt === undefined ? {} : { eta: etaLine(etaAt, transition.detectedAt, timeZone) }) };
  const card = renderJobCard(transition, timeZone, live);
  // The transition's context line says what changed; an update says when the progress was seen.
  const context: KnownBlock = { type: 'context', elements: [mrkdwn(`gem-watch · running · progress seen ${formatInstant(transition.detectedAt, timeZone)}`)] };
  const blocks = card.blocks[card.blocks.length - 1]?.type === 'context' ? [...card.blocks.slice(0, -1), context] : card.blocks;
  return {
    main: { ...card, blocks },
    job: { jobId: transition.jobId, version: transition.version, at: transition.detectedAt, gen: transition.generation ?? 0, updatesMain: true, progress: true },
  };
}
