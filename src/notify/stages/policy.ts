import type { JobsOptions, Queue } from 'bullmq';
import type { RedisClient } from '../../state/connection.js';
import { summarizeGroup, type GroupMember } from '../../domain/batch.js';
import { muteState, type MuteState, type Silence } from '../../domain/mute.js';
import type { JobAlert } from '../../domain/overdue.js';
import { qualityShortfalls } from '../../domain/quality.js';
import type { Transition } from '../../domain/transition.js';
import { DeliveryError } from '../errors.js';
import type { NotificationContent } from '../notifier.js';
import { notifySubject, notifyTaskId, type GroupRef, type NotifyTaskData } from '../task.js';
import { errorText } from '../../telemetry/redact.js';
import { storedError } from './signals.js';
import type { Logger } from '../../telemetry/logger.js';
import type { Keys } from '../../state/keys.js';
import { GatheringStore, type Decision, type SentGathering } from '../../state/gathering-store.js';
import { DEFAULT_BURST_MAX_SEC, destinationKey, routeAlertSettings, type AlertConfig, type RouteAlertSettings } from '../../domain/route-settings.js';
import { SilenceStore } from '../../state/silence-store.js';
import { SLACK_APP_CHANNEL } from '../../domain/routing.js';

/**
 * The policy stage, asked before each send: is this notification sent now, as it
 * is or rendered as a warning; held because its route is muted; gathered into a burst; or, for a
 * grouped message, not due yet or empty. The delivery keeps its own protocol (lock, delivered
 * marker, rate gate, marker before completion) around whatever this decides (delivery.ts).
 */

/** A notification a grouped message covers: marked delivered with it, and logged. */
export interface CoveredMember {
  taskId: string;
  /** `JOBID v3 finished`, `JOBID stalled`. */
  subject: string;
  jobId?: string;
  version?: number;
  /** The transition's new status or the job alert's kind. */
  status?: string;
  kind: 'transition' | 'job-alert';
  /** Epoch ms the member's transition was detected (transitions only). */
  detectedAt?: number;
}

export type PolicyDecision =
  | {
      action: 'send';
      content: NotificationContent;
      /** Notifications this message delivers besides its own task (a group's members). */
      covers?: CoveredMember[];
      /** The gathering this message sends: cleaned up with the delivered markers, in one MULTI. */
      gathering?: SentGathering;
      /** Said in the log: `warning`, `group of 39`. */
      note?: string;
    }
  /** Held while the route is muted; the summary follows at `until`. */
  | { action: 'held'; note: string }
  /** Gathered into a burst's group message. */
  | { action: 'grouped'; note: string }
  /** A grouped message not due yet: park the task this long (no attempt spent). */
  | { action: 'wait'; ms: number; note: string }
  /** A grouped message with nothing left to send. */
  | { action: 'empty'; note: string };

/** The queue the follow-up tasks (group messages) go to; BullMQ's Queue fits. */
export type FollowUpQueue = Pick<Queue<NotifyTaskData>, 'add'>;

/** What the policy reads of the configuration: the routes' alert settings and how long markers live. */
export type DeliveryPolicyConfig = AlertConfig & {
  /** Days delivery markers (and so gatherings' members) are kept. */
  retention: { deliveriesDays: number };
};

export interface DeliveryPolicyOptions {
  config: DeliveryPolicyConfig;
  /** Client for decisions, gatherings and silences. */
  redis: RedisClient;
  keys: Keys;
  /** The notify queue: grouped messages are tasks in it, with deterministic ids. */
  queue: FollowUpQueue;
  /** Options of every notify task (attempts, backoff, retention). */
  jobOptions: JobsOptions;
  logger: Logger;
}

/** API text kept per gathered member; a group shows a line per job, not the whole message. */
const MEMBER_MESSAGE_MAX = 500;
const DAY_MS = 86_400_000;

function compactJob<T extends Transition['job']>(job: T): T {
  const message = job.message === undefined ? undefined : job.message.slice(0, MEMBER_MESSAGE_MAX);
  return {
    id: job.id,
    jobType: job.jobType,
    status: job.status,
    rawStatus: job.rawStatus.slice(0, 80),
    ...(job.inputFile !== undefined ? { inputFile: job.inputFile.slice(0, 500) } : {}),
    ...(job.statistics ? { statistics: job.statistics } : {}),
    ...(message !== undefined ? { message } : {}),
    ...(job.createdAt ? { createdAt: job.createdAt } : {}),
    ...(job.modifiedAt ? { modifiedAt: job.modifiedAt } : {}),
  } as T;
}

/** What a gathering keeps of a task: enough for a line in the group message and the log. */
function memberOf(task: NotifyTaskData): GroupMember & { subject: string } {
  if (task.transition) return { transition: { ...task.transition, job: compactJob(task.transition.job) }, subject: notifySubject(task) };
  const alert = task.jobAlert as JobAlert;
  return { jobAlert: { ...alert, job: compactJob(alert.job) }, subject: notifySubject(task) };
}

function parseMember(json: string): (GroupMember & { subject?: string }) | undefined {
  try {
    const value = JSON.parse(json) as GroupMember & { subject?: string };
    return value && typeof value === 'object' && (value.transition || value.jobAlert) ? value : undefined;
  } catch {
    return undefined;
  }
}

export class DeliveryPolicy {
  private readonly gatherings: GatheringStore;
  private readonly silences: SilenceStore;
  private readonly logger: Logger;

  constructor(private readonly options: DeliveryPolicyOptions) {
    this.gatherings = new GatheringStore(options.redis, options.keys);
    this.silences = new SilenceStore(options.redis, options.keys);
    this.logger = options.logger.child({ component: 'delivery-policy' });
  }

  private get windowMs(): number {
    return Math.round(this.options.config.alerts.burstWindowSec * 1000);
  }

  private get ttlMs(): number {
    return Math.round(this.options.config.retention.deliveriesDays * DAY_MS);
  }

  /** Whether a route is muted at `now` (its windows and its silences), and until when. */
  async muteStateOf(
    route: string,
    now: number,
    settings: RouteAlertSettings = routeAlertSettings(route, this.options.config),
    /** The route's silences when the caller has read them already (at `now`). */
    known?: Silence[],
  ): Promise<MuteState> {
    const silences = known ?? (await this.silences.forRoute(route, now));
    if (settings.mute.length === 0 && silences.length === 0) return { muted: false, reasons: [] };
    return muteState({ windows: settings.mute, timeZone: settings.timeZone, silences, now });
  }

  /** Decides what to do with one notify task at `now` (epoch ms). */
  async prepare(task: NotifyTaskData, taskId: string, now: number): Promise<PolicyDecision> {
    if (task.alert) return { action: 'send', content: { alert: task.alert } };
    // The digest is the operators' summary on their schedule: no quiet hours, silence or burst holds it.
    if (task.digest) return { action: 'send', content: { digest: task.digest.model } };
    if (task.group) return this.prepareGroup(task, task.group, now);
    // A progress update edits the job's message: Slack notifies nobody of an edit, so it is neither
    // held by quiet hours nor grouped.
    if (task.transition && task.progressSlot !== undefined) {
      return { action: 'send', content: { transition: task.transition, live: task.etaAt === undefined ? {} : { etaAt: task.etaAt } }, note: 'progress' };
    }

    const settings = routeAlertSettings(task.route, this.options.config);
    const destination = destinationKey(task);
    const breaksThrough = settings.failuresBreakThrough && (task.transition?.to === 'failed' || task.jobAlert !== undefined);
    // Both reads in one round trip: the silences are used only when no earlier decision stands,
    // and both are only read (what decides is the gathering's admit script below).
    const [earlier, silences] = await Promise.all([
      this.gatherings.decision(taskId),
      breaksThrough ? Promise.resolve(undefined) : this.silences.forRoute(task.route, now),
    ]);
    if (earlier) return this.follow(task, earlier, 0, settings, now);

    if (!breaksThrough) {
      const mute = await this.muteStateOf(task.route, now, settings, silences);
      if (mute.muted && task.channel === SLACK_APP_CHANNEL) {
        // Slack app mode keeps each job's message current even in quiet hours: an edit and a
        // thread reply notify nobody once the broadcast and the mentions are left out.
        const single = this.single(task, settings);
        // single() answers a transition, a warning or a job alert, each of which takes `quiet`.
        if (single.action !== 'send') return single;
        return { ...single, content: { ...single.content, quiet: true } as NotificationContent, note: `quiet: ${mute.reasons.join('; ')}` };
      }
      if (mute.muted) {
        const admitted = await this.gatherings.admit({
          mode: 'held',
          destination,
          taskId,
          memberJson: JSON.stringify(memberOf(task)),
          windowMs: 1,
          // Kept at least a day past the mute's end: a silence may outlast deliveriesDays (up to
          // 90 days against a default of 30), and what it held must still be there to summarise.
          ttlMs: Math.max(this.ttlMs, (mute.until ?? now) - now + DAY_MS),
          why: mute.reasons.join('; '),
        });
        if (admitted.what === 'decided') return this.follow(task, admitted.decision, admitted.windowLeftMs, settings, now);
        const seq = admitted.what === 'held' ? admitted.seq : 0;
        await this.ensureGroupTask(task, { kind: 'held', seq }, (mute.until ?? now) - now);
        return { action: 'held', note: `held until ${new Date(mute.until ?? now).toISOString()} (${mute.reasons.join('; ')}); summary ${seq}` };
      }
    }

    // Slack app mode keeps one message per job, updated in place: a job gathered into a group
    // message would leave its own message behind, so its channel is never grouped.
    if (task.transition && this.windowMs > 0 && task.channel !== SLACK_APP_CHANNEL) {
      const admitted = await this.gatherings.admit({
        mode: 'burst',
        destination,
        taskId,
        memberJson: JSON.stringify(memberOf(task)),
        windowMs: this.windowMs,
        ttlMs: this.ttlMs,
      });
      if (admitted.what === 'decided') return this.follow(task, admitted.decision, admitted.windowLeftMs, settings, now);
      if (admitted.what === 'burst') {
        await this.ensureGroupTask(task, { kind: 'burst', seq: admitted.seq }, admitted.windowLeftMs);
        return { action: 'grouped', note: `gathered into burst group ${admitted.seq}` };
      }
    }
    return this.single(task, settings);
  }

  /** Acts on an earlier decision (a retry, a replay, a stalled task run again). */
  private async follow(task: NotifyTaskData, decision: Decision, windowLeftMs: number, settings: RouteAlertSettings, now: number): Promise<PolicyDecision> {
    if (decision.kind === 'solo') return this.single(task, settings);
    if (decision.kind === 'burst') {
      await this.ensureGroupTask(task, { kind: 'burst', seq: decision.seq }, windowLeftMs);
      return { action: 'grouped', note: `gathered into burst group ${decision.seq}` };
    }
    const mute = await this.muteStateOf(task.route, now, settings);
    await this.ensureGroupTask(task, { kind: 'held', seq: decision.seq }, mute.muted ? (mute.until ?? now) - now : 0);
    return { action: 'held', note: `held; summary ${decision.seq}` };
  }

  /** One notification on its own: a transition (as a warning when below a threshold) or a job alert. */
  private single(task: NotifyTaskData, settings: RouteAlertSettings): PolicyDecision {
    if (task.jobAlert) return { action: 'send', content: { jobAlert: task.jobAlert }, note: task.jobAlert.kind };
    const transition = task.transition!;
    const shortfalls = transition.to === 'finished' ? qualityShortfalls(transition.job.statistics, settings.thresholds) : [];
    if (shortfalls.length === 0) return { action: 'send', content: { transition } };
    return {
      action: 'send',
      content: { warning: { transition, shortfalls } },
      note: `warning: below ${shortfalls.map((s) => s.metric).join(', ')}`,
    };
  }

  /** A grouped message: closes its gathering when due and renders it. */
  private async prepareGroup(task: NotifyTaskData, group: GroupRef, now: number): Promise<PolicyDecision> {
    const { config } = this.options;
    const destination = destinationKey(task);
    const settings = routeAlertSettings(task.route, config);
    if (group.kind === 'held') {
      // Muted again (a silence added, the next window) since this summary was scheduled: wait for the new end.
      const mute = await this.muteStateOf(task.route, now, settings);
      if (mute.muted) return { action: 'wait', ms: Math.max(1, (mute.until ?? now) - now), note: 'route still muted' };
    }
    const closed = await this.gatherings.close(group.kind, destination, group.seq, {
      maxHoldMs: (config.alerts.burstMaxSec ?? DEFAULT_BURST_MAX_SEC) * 1000,
      windowMs: Math.max(1, this.windowMs),
    });
    if (closed.what === 'wait') return { action: 'wait', ms: closed.ms, note: 'burst still going on' };

    const members: Array<GroupMember & { subject?: string }> = [];
    const covers: CoveredMember[] = [];
    for (const entry of closed.members) {
      const member = parseMember(entry.json);
      if (!member) {
        this.logger.warn({ task: entry.taskId }, 'a gathered notification could not be read; it is left out of the group message');
        continue;
      }
      members.push(member);
      const t = member.transition;
      const a = member.jobAlert;
      covers.push({
        taskId: entry.taskId,
        subject: member.subject ?? (t ? `${t.jobId} v${t.version} ${t.to}` : `${a!.jobId} v${a!.version} ${a!.kind}`),
        ...(t ? { kind: 'transition' as const, jobId: t.jobId, version: t.version, status: t.to, ...(typeof t.detectedAt === 'number' ? { detectedAt: t.detectedAt } : {}) } : { kind: 'job-alert' as const, jobId: a!.jobId, version: a!.version, status: a!.kind }),
      });
    }
    const fields = closed.members.map((entry) => entry.field);
    const gathering: SentGathering = { kind: group.kind, destination, seq: group.seq, fields };
    if (members.length === 0) return { action: 'empty', note: `${group.kind} group ${group.seq} has nothing to send` };

    const summary = summarizeGroup(members, { thresholds: settings.thresholds });
    const reasons = closed.why ? closed.why.split('; ').filter(Boolean) : [];
    return {
      action: 'send',
      content: { group: { summary, kind: group.kind, route: task.route, reasons } },
      covers,
      gathering,
      note: `${group.kind} group ${group.seq} of ${members.length}`,
    };
  }

  /**
   * Adds the grouped message's task, delayed by `delayMs`, under its deterministic id: the first
   * member adds it, the others (and retries) find it there. A task already waiting keeps its delay.
   */
  private async ensureGroupTask(task: NotifyTaskData, group: GroupRef, delayMs: number): Promise<void> {
    const data: NotifyTaskData = { group, route: task.route, channel: task.channel, target: task.target };
    await this.options.queue.add('group', data, { ...this.options.jobOptions, jobId: notifyTaskId(data), delay: Math.max(0, Math.ceil(delayMs)) });
  }
}

/** What the delivery asks of a policy; DeliveryPolicy fits. */
export interface PolicyStage {
  prepare(task: NotifyTaskData, taskId: string, now: number): Promise<PolicyDecision>;
}

/**
 * Asks the policy about one task at `now` (epoch ms). Without a policy every task is sent as it
 * is. A policy that cannot decide (Redis away) is a retryable failure of the task.
 */
export async function decide(policy: PolicyStage | undefined, task: NotifyTaskData, taskId: string, now: number): Promise<PolicyDecision> {
  try {
    if (policy) return await policy.prepare(task, taskId, now);
    if (task.digest) return { action: 'send', content: { digest: task.digest.model } };
    const live = task.progressSlot === undefined ? {} : { live: task.etaAt === undefined ? {} : { etaAt: task.etaAt } };
    return { action: 'send', content: task.transition ? { transition: task.transition, ...live } : { alert: task.alert! } };
  } catch (error) {
    throw storedError(new DeliveryError(`the delivery policy could not decide: ${errorText(error)}`, { reason: 'serverError', retryable: true, channel: task.channel, cause: error }));
  }
}
