import type { DigestModel } from '../domain/digest.js';
import { jobAlertKey, type JobAlert } from '../domain/overdue.js';
import type { OperatorAlert } from '../domain/operator-alert.js';
import type { Destination } from '../domain/routing.js';
import { encodeIdPart, transitionKey, type Transition } from '../domain/transition.js';

/**
 * The notify task: what one delivery carries in the queue, its deterministic id and how it reads
 * to people. The data and the id are stored in Redis, so an old and a new daemon must agree on
 * both byte for byte.
 */

/**
 * One delivery: a transition (or an operator alert) to one channel of one route. Of the
 * destination, `target` is a webhook *name* for Slack (never the URL: no secret in job data) and
 * `route` for email (recipients come from the route's config at send time).
 */
export interface NotifyTaskData extends Destination {
  /** Absent for operator alerts, which carry `alert` instead. */
  transition?: Transition;
  alert?: OperatorAlert;
  /** A stuck or overdue job: once per job, status version and condition. */
  jobAlert?: JobAlert;
  /**
   * A grouped message: a burst's members, or what the route held while muted. The members
   * are read from Redis when it runs (src/state/gathering-store.ts), not carried here.
   */
  group?: GroupRef;
  /** One channel's copy of a digest period (digest/digest-runner.ts queues them). */
  digest?: DigestDelivery;
  /**
   * Slack app mode's liveProgress: this task only updates the job's message with the progress of
   * `transition.job` (its `detectedAt` is the sample's time). The start of the slot it belongs to,
   * epoch ms: one task per job and slot (`progressEveryMinutes`), whichever replica adds it.
   */
  progressSlot?: number;
  /** With `progressSlot`: the estimated end, epoch ms, when the samples give one. */
  etaAt?: number;
}

/**
 * A digest as a delivery: the model is built once, when its period is queued, so every attempt
 * sends the same digest. A channel still refusing it at `giveUpAt` (when the next period is due)
 * gives it up for this period only.
 */
export interface DigestDelivery {
  model: DigestModel;
  /** Epoch ms after which a failed attempt is the last. */
  giveUpAt: number;
}

/** Which gathering a grouped message sends: its kind and its sequence number at the destination. */
export interface GroupRef {
  kind: 'burst' | 'held';
  seq: number;
}

/**
 * The id of a notify task. Every part is encoded (no `-` inside a part), and each kind has its own
 * number of parts or a leading word that no other kind has, so no two kinds can share an id.
 */
export function notifyTaskId(data: Pick<NotifyTaskData, 'transition' | 'alert' | 'jobAlert' | 'group' | 'digest' | 'route' | 'channel' | 'target' | 'progressSlot'>): string {
  const subject = data.digest
    ? `digest-${data.digest.model.period.start}-${data.digest.model.period.end}`
    : data.transition
    ? data.progressSlot !== undefined
      ? `progress-${transitionKey(data.transition)}-t${data.progressSlot}`
      : transitionKey(data.transition)
    : data.jobAlert
      ? `jobalert-${jobAlertKey(data.jobAlert)}`
      : data.group
        ? `${encodeIdPart(data.group.kind)}-g${data.group.seq}`
        : `alert-${encodeIdPart(data.alert!.kind)}-${data.alert!.state}-${data.alert!.since}`;
  return ['notify', subject, encodeIdPart(data.route), encodeIdPart(data.channel), encodeIdPart(data.target)].join('-');
}

/** What a notify task is about, for people: `42 v3 finished`, `burst group 7`, `alert polling down`. */
export function notifySubject(task: Pick<NotifyTaskData, 'transition' | 'alert' | 'jobAlert' | 'group' | 'digest' | 'progressSlot'>): string {
  if (task.digest) return `digest ${new Date(task.digest.model.period.start).toISOString()} – ${new Date(task.digest.model.period.end).toISOString()}`;
  if (task.transition && task.progressSlot !== undefined) return `${task.transition.jobId} v${task.transition.version} progress`;
  if (task.transition) return `${task.transition.jobId} v${task.transition.version} ${task.transition.to}`;
  if (task.jobAlert) return `${task.jobAlert.jobId} v${task.jobAlert.version} ${task.jobAlert.kind}`;
  if (task.group) return `${task.group.kind} group ${task.group.seq}`;
  return task.alert ? `alert ${task.alert.kind} ${task.alert.state}` : '?';
}

/** A task's data, checked: anything malformed is a permanent failure, never a crash. */
export function checkNotifyTask(data: unknown): NotifyTaskData | string {
  if (!data || typeof data !== 'object') return 'task data is not an object';
  const task = data as Partial<NotifyTaskData>;
  for (const field of ['route', 'channel', 'target'] as const) {
    if (typeof task[field] !== 'string' || task[field] === '') return `task data has no ${field}`;
  }
  if (task.transition) {
    const t = task.transition;
    if (typeof t.jobId !== 'string' || typeof t.to !== 'string' || typeof t.version !== 'number' || !t.job || typeof t.job !== 'object') {
      return 'task transition is malformed';
    }
    if (task.progressSlot !== undefined && !Number.isSafeInteger(task.progressSlot)) return 'task progress slot is malformed';
    if (task.etaAt !== undefined && !Number.isFinite(task.etaAt)) return 'task ETA is malformed';
  } else if (task.alert) {
    const a = task.alert;
    if (typeof a.kind !== 'string' || (a.state !== 'down' && a.state !== 'up') || typeof a.title !== 'string' || typeof a.since !== 'number') {
      return 'task alert is malformed';
    }
  } else if (task.jobAlert) {
    const a = task.jobAlert;
    if (typeof a.jobId !== 'string' || typeof a.kind !== 'string' || typeof a.version !== 'number' || typeof a.since !== 'number' || !a.job || typeof a.job !== 'object') {
      return 'task job alert is malformed';
    }
  } else if (task.digest) {
    const d = task.digest;
    const period = d.model && typeof d.model === 'object' ? (d.model as Partial<DigestModel>).period : undefined;
    if (typeof d.giveUpAt !== 'number' || !period || typeof period.start !== 'number' || typeof period.end !== 'number') return 'task digest is malformed';
  } else if (task.group) {
    const g = task.group;
    if ((g.kind !== 'burst' && g.kind !== 'held') || !Number.isInteger(g.seq)) return 'task group is malformed';
  } else {
    return 'task has neither a transition, an alert, a group nor a digest';
  }
  return task as NotifyTaskData;
}
