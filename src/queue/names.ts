import { encodeIdPart } from '../domain/transition.js';
import type { NotifyTaskData } from '../notify/task.js';

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
  /**
   * The digest: one task per slot, which claims the period (digest/digest-runner.ts), and one per
   * channel of each period, which the notify stages deliver like any notify task. They are not on
   * the notify queue so that a replica from before the digest ran on the queue, which would refuse
   * a digest delivery as malformed, never takes one during an upgrade.
   */
  housekeeping: 'gem-housekeeping',
} as const;

/** The task of a digest slot: the period ending at it. */
export interface DigestSlotTaskData {
  /** Epoch ms of the digest's cron slot. */
  digestSlot: number;
}

/** A housekeeping task: a digest slot, or one channel's copy of a digest (a notify task). */
export type HousekeepingTaskData = DigestSlotTaskData | NotifyTaskData;

/** True for a digest slot's task. */
export function isDigestSlotTask(data: HousekeepingTaskData): data is DigestSlotTaskData {
  return typeof data === 'object' && data !== null && 'digestSlot' in data;
}

/** One id per slot: every replica's cron adds the same task. */
export function digestSlotTaskId(slot: number): string {
  return `digest-${slot}`;
}

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
