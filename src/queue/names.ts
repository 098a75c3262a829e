import { jobAlertKey, type JobAlert } from '../domain/overdue.js';
import type { OperatorAlert } from '../domain/operator-alert.js';
import type { Destination } from '../domain/routing.js';
import { encodeIdPart, transitionKey, type Transition } from '../domain/transition.js';

/**
 * Queue names and deterministic BullMQ job ids. BullMQ rejects custom ids containing `:`, and an id
 * it already holds makes `add` a no-op: that is how N replicas and replays collapse to one task.
 */
export const QUEUE_NAMES = {
  /** One task per (job type, cron slot): the list call and the choice of details to fetch. */
  poll: 'gem-poll',
  /**
   * Detail fetch, atomic diff, dispatch of the transition. Task ids carry the poll slot, but at most
   * one task per job is pending at a time (see `detailDeduplicationId`).
   */
  detail: 'gem-detail',
  /** One task per (transition, route, channel): delivery. */
  notify: 'gem-notify',
  /** Digests, scheduled alerts and other housekeeping. */
  housekeeping: 'gem-housekeeping',
} as const;

export interface PollTaskData {
  jobType: string;
  /** Epoch ms of the cron slot this poll belongs to. */
  slot: number;
}

export interface DetailTaskData {
  jobId: string;
  jobType: string;
  slot: number;
  /**
   * Status word the list showed; absent for a job the list no longer shows. The detail answer is
   * the source of truth: this says only whether a 404 contradicts the list.
   */
  listStatus?: string;
}

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
}

/** Which gathering a grouped message sends: its kind and its sequence number at the destination. */
export interface GroupRef {
  kind: 'burst' | 'held';
  seq: number;
}

export function pollTaskId(data: PollTaskData): string {
  return `poll-${encodeIdPart(data.jobType)}-${data.slot}`;
}

export function detailTaskId(data: Pick<DetailTaskData, 'jobId' | 'slot'>): string {
  return `detail-${encodeIdPart(data.jobId)}-${data.slot}`;
}

/**
 * BullMQ's deduplication id of a job's detail tasks: while one task of the job is waiting, delayed
 * for a retry or running, adding another is a no-op, so the queue holds at most one task per job
 * however far the fetches fall behind the polls. BullMQ deletes the key in the same script that
 * completes, fails for good or removes the task, so the first poll after that adds a new one.
 */
export function detailDeduplicationId(jobId: string): string {
  return `detail-${encodeIdPart(jobId)}`;
}

/**
 * The id of a notify task. Every part is encoded (no `-` inside a part), and each kind has its own
 * number of parts or a leading word that no other kind has, so no two kinds can share an id.
 */
export function notifyTaskId(data: Pick<NotifyTaskData, 'transition' | 'alert' | 'jobAlert' | 'group' | 'route' | 'channel' | 'target'>): string {
  const subject = data.transition
    ? transitionKey(data.transition)
    : data.jobAlert
      ? `jobalert-${jobAlertKey(data.jobAlert)}`
      : data.group
        ? `${encodeIdPart(data.group.kind)}-g${data.group.seq}`
        : `alert-${encodeIdPart(data.alert!.kind)}-${data.alert!.state}-${data.alert!.since}`;
  return ['notify', subject, encodeIdPart(data.route), encodeIdPart(data.channel), encodeIdPart(data.target)].join('-');
}

/** What a notify task is about, for people: `42 v3 finished`, `burst group 7`, `alert polling down`. */
export function notifySubject(task: Pick<NotifyTaskData, 'transition' | 'alert' | 'jobAlert' | 'group'>): string {
  if (task.transition) return `${task.transition.jobId} v${task.transition.version} ${task.transition.to}`;
  if (task.jobAlert) return `${task.jobAlert.jobId} v${task.jobAlert.version} ${task.jobAlert.kind}`;
  if (task.group) return `${task.group.kind} group ${task.group.seq}`;
  return task.alert ? `alert ${task.alert.kind} ${task.alert.state}` : '?';
}
