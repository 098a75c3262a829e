import type { SlackApiCall } from '../../../src/simulator/slack-api.js';
import type { TeamsSinkRequest } from '../../../src/simulator/teams-workflows-sink.js';
import type { WebhookReceiverRequest } from '../../../src/simulator/webhook-receiver.js';
import type { SlackSinkRequest } from '../../helpers/slack-sink.js';
import type { SmtpSinkMail } from '../../helpers/smtp-sink.js';
import type { DaemonLine } from './daemon-process.js';

/**
 * The ledger of one scenario: which transitions were made (by the test, in the simulator), and
 * what the Slack sink and the SMTP sink received for each. A transition is named by its job id and
 * the status it reached; in the chaos scenarios a job reaches a terminal status once, so that pair
 * names exactly one (job id, version) transition. The version itself is read from the email's
 * Message-ID (the notify task id) when one arrived.
 *
 * Duplicates are copies beyond the first of one transition on one channel. One kind is admitted by
 * the delivery protocol (docs/architecture.md, "Delivery and its crash window"): a SIGKILL after a
 * successful post and before the delivered marker is written. Such a duplicate is counted apart, as `crashWindow`, only
 * when the evidence says so: a replica was SIGKILLed between the two copies, and fewer replicas
 * logged "notification delivered" for the task than the sink received copies (the killed sender
 * never got to write its marker).
 *
 * Slack app mode is judged on its Web API calls: a transition's copy is the thread reply announcing
 * the end, and beside that each job must have one top-level message (chat.postMessage without
 * thread_ts) that, once everything settled, shows the end the reply announces. A second top-level
 * message of one job is a duplicate too, put in the crash window only when its own window explains
 * it (see judgeSlackAppMessages).
 */

export type Channel = 'slack' | 'email' | 'teams' | 'webhook' | 'slack-app';
/** The channels a scenario judges unless it names others. */
export const CHANNELS: readonly Channel[] = ['slack', 'email'];

/** What every sink received: the Slack sink's and the SMTP sink's, and the Teams, webhook and Slack Web API ones' when a scenario uses them. */
export interface SinkRecords {
  slack: readonly SlackSinkRequest[];
  mails: readonly SmtpSinkMail[];
  teams?: readonly TeamsSinkRequest[];
  webhook?: readonly WebhookReceiverRequest[];
  /** Every call the Slack Web API simulator answered, in the order it carried them out. */
  slackApp?: readonly SlackApiCall[];
}

/** A transition the scenario made happen and expects announced. */
export interface ExpectedTransition {
  jobId: string;
  jobType: string;
  status: string;
  /** Epoch ms when the simulator started answering with it. */
  at: number;
}

/** One copy of a message, as a sink received it. */
export interface DeliveryCopy {
  channel: Channel;
  jobId: string;
  status: string;
  /** From the email's Message-ID or the webhook event; unknown for Slack and Teams. */
  version?: number;
  at: number;
}

/**
 * A Redis failover the scenario caused: from the command (`at`) to the topology naming the new
 * primary (`switchedAt`). Writes the old primary acknowledged and never replicated are lost: those
 * after the promotion until each connection follows (a second or so), and any replication lag
 * before it. That is the documented failover window (docs/reliability.md).
 */
export interface FailoverRecord {
  what: string;
  at: number;
  switchedAt: number;
}

/** How long after the topology names the new primary a connection may still write to the old one. */
export const FOLLOW_MS = 2_000;

/** A SIGKILL the scenario sent. */
export interface KillRecord {
  replica: string;
  life: number;
  at: number;
}

export interface ChannelTally {
  /** Transitions delivered at least once. */
  delivered: number;
  /** Copies received in all (transition messages only). */
  copies: number;
  /** Copies beyond the first, in all. */
  duplicates: number;
  /** Of those, the ones the crash window explains. */
  crashWindow: number;
  /** Expected transitions never delivered. */
  lost: number;
  /** Transition messages about a transition the scenario never made (announced history, say). */
  unexpected: number;
  /** Slack app mode: top-level messages about a job (its duplicates are in `duplicates`). */
  jobMessages?: number;
  /** Slack app mode: chat.update calls carried out on those messages. */
  updates?: number;
}

export interface LedgerTally {
  transitions: number;
  byChannel: Record<Channel, ChannelTally>;
  /** Sums over channels. */
  delivered: number;
  duplicates: number;
  crashWindow: number;
  lost: number;
  unexpected: number;
  /** Non-transition messages (operator alerts, digests): counted, never judged here. */
  otherMessages: number;
  /** Readable problems: every lost, unexplained duplicate and unexpected message. */
  problems: string[];
}

const STATUS_WORDS = 'finished|failed|cancelled|queued|running|unknown';
/** The headline both renderers start with: "<TYPE> job <id> <status>[: …]". */
const HEADLINE = new RegExp(`^(?:\\[gem-watch\\] )?([A-Z_]+) job (.+?) (${STATUS_WORDS})(?::.*)?$`);
/** The email channel's Message-ID: <notify-{jobId}-v{version}-{route}-email-{target}@domain>. */
const MESSAGE_ID = /^<?notify-(.+)-v(\d+)-([A-Za-z0-9_.%]+)-email-([A-Za-z0-9_.%]+)@/;

/** Undoes escapeSlack (the headline's id is escaped like any API text). */
function unescapeSlack(text: string): string {
  return text.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
}

/** The transition a Slack post announces, or undefined for other messages. */
export function parseSlack(request: SlackSinkRequest): DeliveryCopy | undefined {
  const first = (request.body?.text ?? '').split('\n')[0] ?? '';
  const match = HEADLINE.exec(unescapeSlack(first));
  if (!match) return undefined;
  return { channel: 'slack', jobId: match[2]!, status: match[3]!, at: request.at };
}

/** Undoes escapeTeams: a backslash before ASCII punctuation. */
function unescapeTeams(text: string): string {
  return text.replace(/\\([!-/:-@[-`{-~])/g, '$1');
}

/** The transition a Teams card announces (read from its fallback text, the headline), or undefined for other cards. */
export function parseTeams(request: TeamsSinkRequest): DeliveryCopy | undefined {
  const fallback = request.card?.fallbackText;
  const match = HEADLINE.exec(unescapeTeams(typeof fallback === 'string' ? fallback : ''));
  if (!match) return undefined;
  return { channel: 'teams', jobId: match[2]!, status: match[3]!, at: request.at };
}

/** The transition a verified webhook event announces (`job.<status>`), or undefined for other events. */
export function parseWebhook(request: WebhookReceiverRequest): DeliveryCopy | undefined {
  const event = request.event;
  const match = /^job\.(finished|failed|cancelled|queued|running|unknown)$/.exec(event?.type ?? '');
  const data = event?.data as { job?: { id?: unknown }; transition?: { version?: unknown } } | undefined;
  if (!match || typeof data?.job?.id !== 'string') return undefined;
  const version = typeof data.transition?.version === 'number' ? data.transition.version : undefined;
  return { channel: 'webhook', jobId: data.job.id, status: match[1]!, at: request.at, ...(version !== undefined ? { version } : {}) };
}

/** A call Slack carried out: answered 200 and `ok`, naming the message's ts. */
function carriedOut(call: SlackApiCall): boolean {
  return call.status === 200 && call.error === undefined && call.ts !== undefined;
}

/** What a route adds before a failure's reply (`<!subteam^S…> <@U…>`): configuration, not data. */
const LEADING_MENTIONS = /^(?:<(?:!subteam\^|@)[A-Z0-9]+>\s*)+/;

/** The job and status the first line of a Slack app text names (a card's fallback, a reply's text). */
export function slackAppHeadline(text: unknown): { jobId: string; status: string } | undefined {
  const first = (typeof text === 'string' ? text : '').replace(LEADING_MENTIONS, '').split('\n')[0] ?? '';
  const match = HEADLINE.exec(unescapeSlack(first));
  return match ? { jobId: match[2]!, status: match[3]! } : undefined;
}

/** The end a Slack app thread reply announces (its text is the headline), or undefined for other calls. */
export function parseSlackAppReply(call: SlackApiCall): DeliveryCopy | undefined {
  if (call.method !== 'chat.postMessage' || !carriedOut(call) || typeof call.body?.thread_ts !== 'string') return undefined;
  const said = slackAppHeadline(call.body.text);
  return said ? { channel: 'slack-app', jobId: said.jobId, status: said.status, at: call.at } : undefined;
}

/** What Slack app mode left in the channel, beside the end replies the ledger counts as copies. */
export interface SlackAppJudgement {
  /** Top-level messages about a job. */
  jobMessages: number;
  /** chat.update calls carried out on them. */
  updates: number;
  /** Top-level messages beyond a job's first. */
  duplicates: number;
  /** Of those, the ones the crash window explains. */
  crashWindow: number;
  /** Messages that are neither a job's card nor an end reply (operator alerts, job alert replies). */
  other: number;
  problems: string[];
}

/**
 * Judges Slack app mode's top-level messages from the Web API calls, replayed in the order Slack
 * carried them out:
 *
 * - one top-level message per job. A second one is the crash window (docs/architecture.md, "Slack
 *   app mode") only when the first was never addressed again (no chat.update of its ts, no reply in
 *   its thread: its ts was never stored) and a replica was SIGKILLed between the two posts, or a
 *   failover lost the stored ts; otherwise it is a problem.
 * - every update and reply lands on a message of the same job.
 * - once settled, the job's last top-level message (the one whose ts is stored) shows the end each
 *   expected transition names, and that end's reply sits in its thread.
 */
export function judgeSlackAppMessages(
  calls: readonly SlackApiCall[],
  expected: Iterable<ExpectedTransition>,
  kills: readonly KillRecord[],
  failovers: readonly FailoverRecord[] = [],
): SlackAppJudgement {
  interface JobMessage {
    jobId: string;
    ts: string;
    postedAt: number;
    /** The status its current text's headline names. */
    shows: string;
    /** Whether any later call addressed it (so its ts had been stored). */
    addressed: boolean;
    /** Ends announced in its thread. */
    ends: Set<string>;
  }
  const messages = new Map<string, JobMessage>();
  const judgement: SlackAppJudgement = { jobMessages: 0, updates: 0, duplicates: 0, crashWindow: 0, other: 0, problems: [] };
  for (const call of calls) {
    if (!carriedOut(call)) continue;
    const said = slackAppHeadline(call.body?.text);
    const threadTs = call.body?.thread_ts;
    if (call.method === 'chat.postMessage' && typeof threadTs !== 'string') {
      if (!said) {
        judgement.other += 1;
        continue;
      }
      messages.set(call.ts!, { jobId: said.jobId, ts: call.ts!, postedAt: call.at, shows: said.status, addressed: false, ends: new Set() });
      judgement.jobMessages += 1;
    } else if (call.method === 'chat.postMessage') {
      const parent = messages.get(threadTs!);
      if (parent) parent.addressed = true;
      const copy = parseSlackAppReply(call);
      if (!copy) {
        judgement.other += 1;
        continue;
      }
      if (!parent || parent.jobId !== copy.jobId) {
        judgement.problems.push(`slack-app: the reply announcing ${keyOf(copy.jobId, copy.status)} is in the thread of ${parent ? `job ${parent.jobId}'s message` : `an unknown message ${threadTs}`}`);
        continue;
      }
      parent.ends.add(copy.status);
    } else if (call.method === 'chat.update') {
      const message = messages.get(call.ts!);
      judgement.updates += 1;
      if (!message) {
        judgement.problems.push(`slack-app: chat.update of ${call.ts}, which is no job's message`);
        continue;
      }
      message.addressed = true;
      if (said?.jobId !== message.jobId) {
        judgement.problems.push(`slack-app: job ${message.jobId}'s message updated to ${said ? `job ${said.jobId}'s card` : 'a text naming no job'}`);
        continue;
      }
      message.shows = said.status;
    }
  }

  const byJob = new Map<string, JobMessage[]>();
  for (const message of messages.values()) byJob.set(message.jobId, [...(byJob.get(message.jobId) ?? []), message]);
  for (const [jobId, posted] of byJob) {
    posted.sort((a, b) => a.postedAt - b.postedAt);
    for (let i = 1; i < posted.length; i += 1) {
      judgement.duplicates += 1;
      const earlier = posted[i - 1]!;
      const later = posted[i]!;
      // Slack stamps the first post, the sender is killed before it stores the ts: a second of
      // slack for clocks, as for the other channels.
      const killedBetween = kills.some((kill) => kill.at >= earlier.postedAt - 1_000 && kill.at <= later.postedAt);
      const failedOverBetween = failovers.some((failover) => earlier.postedAt >= failover.at - 1_000 && earlier.postedAt <= failover.switchedAt + FOLLOW_MS && later.postedAt >= failover.at);
      if ((killedBetween && !earlier.addressed) || failedOverBetween) {
        judgement.crashWindow += 1;
      } else {
        judgement.problems.push(
          `slack-app: job ${jobId} has ${posted.length} top-level messages (message ${i + 1} at +${later.postedAt - earlier.postedAt} ms; the earlier one ${earlier.addressed ? 'was updated or replied to, so its ts was stored' : 'was never addressed again'}; ${killedBetween ? 'a kill' : 'no kill'} in between)`,
        );
      }
    }
  }
  for (const transition of expected) {
    const last = byJob.get(transition.jobId)?.at(-1);
    // No message at all: its end reply is missing too, and counted as lost.
    if (!last) continue;
    const key = keyOf(transition.jobId, transition.status);
    if (last.shows !== transition.status) judgement.problems.push(`slack-app: ${key}, but the job's message shows "${last.shows}"`);
    if (!last.ends.has(transition.status) && byJob.get(transition.jobId)!.some((message) => message.ends.has(transition.status))) {
      judgement.problems.push(`slack-app: ${key} was replied in the thread of an earlier message of the job, not the one it shows`);
    }
  }
  return judgement;
}

/** The transition an email announces, or undefined for other mails. */
export function parseMail(mail: SmtpSinkMail): DeliveryCopy | undefined {
  const subject = HEADLINE.exec(mail.parsed.subject ?? '');
  const id = MESSAGE_ID.exec(mail.parsed.messageId ?? '');
  if (!subject) return undefined;
  let version: number | undefined;
  let jobId = subject[2]!;
  if (id) {
    version = Number(id[2]);
    try {
      jobId = decodeURIComponent(id[1]!);
    } catch {
      // Keep the subject's id.
    }
  }
  return { channel: 'email', jobId, status: subject[3]!, at: mail.at, ...(version !== undefined ? { version } : {}) };
}

function keyOf(jobId: string, status: string): string {
  return `${jobId} ${status}`;
}

export class DeliveryLedger {
  private readonly expected = new Map<string, ExpectedTransition>();

  constructor(readonly channels: readonly Channel[] = CHANNELS) {}

  /** Records a transition the scenario made. */
  expect(transition: ExpectedTransition): void {
    this.expected.set(keyOf(transition.jobId, transition.status), transition);
  }

  get transitions(): ExpectedTransition[] {
    return [...this.expected.values()];
  }

  /**
   * Every transition copy the sinks hold, by channel: what each accepted (Slack's 200, a mail,
   * a card Teams would show, a webhook event verified and answered 204).
   */
  copies(records: SinkRecords): DeliveryCopy[] {
    const { slack, mails } = records;
    const out: DeliveryCopy[] = [];
    if (this.channels.includes('teams')) {
      for (const request of records.teams ?? []) {
        if (request.answer !== 202 || !request.shown) continue;
        const copy = parseTeams(request);
        if (copy) out.push(copy);
      }
    }
    if (this.channels.includes('webhook')) {
      for (const request of records.webhook ?? []) {
        if (request.answer !== 204 || !request.verified) continue;
        const copy = parseWebhook(request);
        if (copy) out.push(copy);
      }
    }
    if (this.channels.includes('slack-app')) {
      for (const call of records.slackApp ?? []) {
        const copy = parseSlackAppReply(call);
        if (copy) out.push(copy);
      }
    }
    if (this.channels.includes('slack')) {
      for (const request of slack) {
        if (request.answer !== 200) continue;
        const copy = parseSlack(request);
        if (copy) out.push(copy);
      }
    }
    if (this.channels.includes('email')) {
      for (const mail of mails) {
        const copy = parseMail(mail);
        if (copy) out.push(copy);
      }
    }
    return out;
  }

  /** True when every expected transition reached every channel at least once. */
  complete(records: SinkRecords): boolean {
    const seen = new Set(this.copies(records).map((copy) => `${copy.channel} ${keyOf(copy.jobId, copy.status)}`));
    for (const key of this.expected.keys()) {
      for (const channel of this.channels) if (!seen.has(`${channel} ${key}`)) return false;
    }
    return true;
  }

  /** How many expected (transition, channel) pairs are still missing. */
  missing(records: SinkRecords): string[] {
    const seen = new Set(this.copies(records).map((copy) => `${copy.channel} ${keyOf(copy.jobId, copy.status)}`));
    const out: string[] = [];
    for (const key of this.expected.keys()) {
      for (const channel of this.channels) if (!seen.has(`${channel} ${key}`)) out.push(`${channel}: ${key}`);
    }
    return out;
  }

  /**
   * The counts of the scenario: delivered, duplicates (split into crash window and unexplained),
   * lost and unexpected, per channel and in all.
   */
  tally(input: SinkRecords & { lines: readonly DaemonLine[]; kills: readonly KillRecord[]; failovers?: readonly FailoverRecord[] }): LedgerTally {
    const copies = this.copies(input);
    const slackApp = this.channels.includes('slack-app') ? judgeSlackAppMessages(input.slackApp ?? [], this.expected.values(), input.kills, input.failovers) : undefined;
    const otherMessages =
      (this.channels.includes('slack') ? input.slack.filter((request) => request.answer === 200).length : 0) +
      (this.channels.includes('email') ? input.mails.length : 0) +
      (this.channels.includes('teams') ? (input.teams ?? []).filter((request) => request.answer === 202 && request.shown).length : 0) +
      (this.channels.includes('webhook') ? (input.webhook ?? []).filter((request) => request.answer === 204 && request.verified).length : 0) -
      copies.filter((copy) => copy.channel !== 'slack-app').length +
      (slackApp?.other ?? 0);
    const deliveredLogs = countDeliveredLogs(input.lines);
    const problems: string[] = [];
    const byChannel = {} as Record<Channel, ChannelTally>;

    for (const channel of this.channels) {
      const tally: ChannelTally = { delivered: 0, copies: 0, duplicates: 0, crashWindow: 0, lost: 0, unexpected: 0 };
      const grouped = new Map<string, DeliveryCopy[]>();
      for (const copy of copies) {
        if (copy.channel !== channel) continue;
        tally.copies += 1;
        const key = keyOf(copy.jobId, copy.status);
        if (!this.expected.has(key)) {
          tally.unexpected += 1;
          problems.push(`${channel}: a message about ${key}, which the scenario never made`);
          continue;
        }
        grouped.set(key, [...(grouped.get(key) ?? []), copy]);
      }
      for (const [key, expected] of this.expected) {
        const received = (grouped.get(key) ?? []).sort((a, b) => a.at - b.at);
        if (received.length === 0) {
          tally.lost += 1;
          problems.push(`${channel}: ${key} was never delivered`);
          continue;
        }
        tally.delivered += 1;
        if (received.length === 1) continue;
        const logged = deliveredLogs.get(`${channel} ${keyOf(expected.jobId, expected.status)}`) ?? 0;
        // Copies no sender recorded as delivered: each needs a SIGKILL to explain it.
        let unrecorded = Math.max(0, received.length - logged);
        for (let i = 1; i < received.length; i += 1) {
          tally.duplicates += 1;
          const earlier = received[i - 1]!;
          const later = received[i]!;
          // The sink stamps a copy when its body is in; the sender is killed after that and before
          // it could log, so the kill lies between the two copies (a second of slack for clocks).
          const killedBetween = input.kills.some((kill) => kill.at >= earlier.at - 1_000 && kill.at <= later.at);
          // A marker lost in a failover: the first copy went out (and was logged) just before or
          // during the failover, the second after it. A second of slack before, as for kills.
          const failedOverBetween = (input.failovers ?? []).some((failover) => earlier.at >= failover.at - 1_000 && earlier.at <= failover.switchedAt + FOLLOW_MS && later.at >= failover.at);
          if (killedBetween && unrecorded > 0) {
            tally.crashWindow += 1;
            unrecorded -= 1;
          } else if (failedOverBetween) {
            tally.crashWindow += 1;
          } else {
            problems.push(
              `${channel}: ${key} delivered ${received.length} times (copy ${i + 1} at +${later.at - earlier.at} ms; ${logged} sender(s) logged delivery; ${killedBetween ? 'a kill' : 'no kill'} in between)`,
            );
          }
        }
      }
      if (channel === 'slack-app' && slackApp) {
        tally.jobMessages = slackApp.jobMessages;
        tally.updates = slackApp.updates;
        tally.duplicates += slackApp.duplicates;
        tally.crashWindow += slackApp.crashWindow;
        problems.push(...slackApp.problems);
      }
      byChannel[channel] = tally;
    }

    const sum = (field: 'delivered' | 'duplicates' | 'crashWindow' | 'lost' | 'unexpected') => this.channels.reduce((total, channel) => total + byChannel[channel][field], 0);
    return {
      transitions: this.expected.size,
      byChannel,
      delivered: sum('delivered'),
      duplicates: sum('duplicates'),
      crashWindow: sum('crashWindow'),
      lost: sum('lost'),
      unexpected: sum('unexpected'),
      otherMessages,
      problems,
    };
  }
}

/**
 * "notification delivered" lines per (channel, job id, status), from every replica. The notify
 * processor's log child carries `channel` and `subject` ("<jobId> v<version> <status>").
 */
function countDeliveredLogs(lines: readonly DaemonLine[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const line of lines) {
    const json = line.json;
    if (!json || json.msg !== 'notification delivered') continue;
    const subject = typeof json.subject === 'string' ? json.subject : '';
    const match = /^(.+) v\d+ (\S+)$/.exec(subject);
    if (!match || typeof json.channel !== 'string') continue;
    const key = `${json.channel} ${keyOf(match[1]!, match[2]!)}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return counts;
}
