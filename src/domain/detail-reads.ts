import { estimateEnd } from './eta.js';
import type { ProgressPoint } from './eta.js';
import type { JobStatus } from './job.js';

/**
 * When an active job's details are worth reading again. The list already tells a status change;
 * a detail read of a job whose list status has not changed only samples its progress, so it is
 * made once per `poll.progressEverySeconds`, or sooner when something is due that a fresh sample
 * can decide (the expected end, a stuck or overdue threshold). Pure: the poll asks with `now`.
 */

/** What the latest detail read of an active job left for the polls to decide with. */
export interface DetailReadMark {
  /** Epoch ms of the read. */
  readAt: number;
  /**
   * Epoch ms of the next moment a fresh sample can tell something (the expected end, a stuck or
   * overdue threshold), or undefined when none lies ahead.
   */
  eventAt?: number;
  /** The list's raw status when the read was asked for ('' for a job the list did not show). */
  listStatus: string;
}

/** The part of a list status that is compared (detail tasks carry the same 40 characters). */
export function listStatusWord(rawStatus: string): string {
  return rawStatus.slice(0, 40);
}

/**
 * Whether an active job whose list entry says `listStatus` needs a detail read at `now`: always
 * without a mark (never read, or read by a version that kept none), when the list's word changed
 * since the read, when `everyMs` has passed since it (0: every poll), or when its `eventAt` has come.
 */
export function isDetailReadDue(mark: DetailReadMark | undefined, listStatus: string, now: number, everyMs: number): boolean {
  if (everyMs <= 0 || mark === undefined) return true;
  if (mark.listStatus !== listStatusWord(listStatus)) return true;
  // A read stamped in the future (a replica's clock ahead) is not trusted to postpone the next one.
  if (mark.readAt > now) return true;
  if (now - mark.readAt >= everyMs) return true;
  return mark.eventAt !== undefined && now >= mark.eventAt;
}

/** What the next-event rule reads of a tracked job; TrackedJob fits. */
export interface SampledJob {
  status: JobStatus;
  firstSeenAt: number;
  lastChangeAt: number;
  progress: readonly ProgressPoint[];
}

/**
 * The expected end of a running job from its progress history (domain/eta.ts), when it lies after
 * `now`: the moment a fresh read may find it ended although the list has not said so yet.
 */
export function expectedEndAhead(tracked: SampledJob, now: number): number | undefined {
  if (tracked.status !== 'running') return undefined;
  const sawItStart = tracked.lastChangeAt > tracked.firstSeenAt;
  const end = estimateEnd(tracked.progress, now, sawItStart ? { origin: [tracked.lastChangeAt, 0] } : {});
  return end !== undefined && end > now ? end : undefined;
}

/** The earliest of the instants given that lie after `now`, or undefined. */
export function earliestAhead(now: number, ...instants: Array<number | undefined>): number | undefined {
  let earliest: number | undefined;
  for (const at of instants) {
    if (at === undefined || !Number.isFinite(at) || at <= now) continue;
    if (earliest === undefined || at < earliest) earliest = at;
  }
  return earliest;
}
