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
 */

export type Channel = 'slack' | 'email' | 'teams' | 'webhook';
/** The channels a scenario judges unless it names others. */
export const CHANNELS: readonly Channel[] = ['slack', 'email'];

/** What every sink received: the Slack sink's and the SMTP sink's, and the Teams and webhook ones' when a scenario uses them. */
export interface SinkRecords {
  slack: readonly SlackSinkRequest[];
  mails: readonly SmtpSinkMail[];
  teams?: readonly TeamsSinkRequest[];
  webhook?: readonly WebhookReceiverRequest[];
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
    const otherMessages =
      (this.channels.includes('slack') ? input.slack.filter((request) => request.answer === 200).length : 0) +
      (this.channels.includes('email') ? input.mails.length : 0) +
      (this.channels.includes('teams') ? (input.teams ?? []).filter((request) => request.answer === 202 && request.shown).length : 0) +
      (this.channels.includes('webhook') ? (input.webhook ?? []).filter((request) => request.answer === 204 && request.verified).length : 0) -
      copies.length;
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
      byChannel[channel] = tally;
    }

    const sum = (field: keyof ChannelTally) => this.channels.reduce((total, channel) => total + byChannel[channel][field], 0);
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
