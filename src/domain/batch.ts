import type { JobAlert } from './overdue.js';
import { describeShortfall, qualityShortfalls, type QualityThresholds } from './quality.js';
import type { Transition } from './transition.js';

/**
 * The model of a grouped message: a burst of transitions gathered into one message, or what a
 * route held during quiet hours or a silence, sent as one summary. Pure: the renderers in
 * templates/group-message.ts lay it out for Slack and email.
 */

/** One gathered notification: a transition or a job alert. */
export interface GroupMember {
  transition?: Transition;
  jobAlert?: JobAlert;
}

/** One line of the table. Values are raw API text: renderers escape them. */
export interface GroupRow {
  jobId: string;
  jobType: string;
  /** The new status, or the job alert's kind (`stalled`, `overdue`, `queued-too-long`). */
  what: string;
  /** True for failed transitions and job alerts: shown first. */
  problem: boolean;
  roadsMatchedPct?: number;
  inputFile?: string;
  /** Why it is worth a look: the failure message, the missed threshold, the alert. */
  note?: string;
  /** Epoch ms it was detected. */
  at: number;
}

export interface GroupSummary {
  total: number;
  /** Count per `what`, most frequent first. */
  counts: Array<{ what: string; count: number }>;
  /** Finished jobs below the route's thresholds. */
  belowThreshold: number;
  /** The few that most need a look, worst first. */
  worst: GroupRow[];
  /** Every member, worst first, then by time. */
  rows: GroupRow[];
  /** Epoch ms of the earliest and latest member. */
  from: number;
  to: number;
}

export interface SummarizeOptions {
  /** The route's quality thresholds. */
  thresholds?: QualityThresholds;
  /** Rows in `worst`. Default 5. */
  worstCount?: number;
}

const ALERT_TEXT: Record<string, string> = {
  'queued-too-long': 'queued too long',
  overdue: 'running past its expected end',
  stalled: 'progress stalled',
};

/** Lower is worse: failures, job alerts, below-threshold, cancellations, then the rest. */
function severity(row: GroupRow, belowThreshold: boolean): number {
  if (row.what === 'failed') return 0;
  if (row.problem) return 1;
  if (belowThreshold) return 2;
  if (row.what === 'cancelled') return 3;
  return 4;
}

function rowOf(member: GroupMember, thresholds: QualityThresholds | undefined): { row: GroupRow; below: boolean } | undefined {
  if (member.transition) {
    const t = member.transition;
    const shortfalls = t.to === 'finished' ? qualityShortfalls(t.job.statistics, thresholds) : [];
    const note = shortfalls.length > 0 ? shortfalls.map(describeShortfall).join('; ') : t.to === 'failed' || t.to === 'cancelled' ? t.job.message : undefined;
    const row: GroupRow = { jobId: t.jobId, jobType: t.jobType, what: t.to, problem: t.to === 'failed', at: t.detectedAt };
    if (t.job.statistics?.roadsMatchedPct !== undefined) row.roadsMatchedPct = t.job.statistics.roadsMatchedPct;
    if (t.job.inputFile !== undefined) row.inputFile = t.job.inputFile;
    if (note !== undefined && note.trim() !== '') row.note = note;
    return { row, below: shortfalls.length > 0 };
  }
  if (member.jobAlert) {
    const a = member.jobAlert;
    const row: GroupRow = { jobId: a.jobId, jobType: a.jobType, what: a.kind, problem: true, at: a.detectedAt, note: ALERT_TEXT[a.kind] ?? a.kind };
    if (a.job.inputFile !== undefined) row.inputFile = a.job.inputFile;
    return { row, below: false };
  }
  return undefined;
}

/** The summary of a group's members. Members that are neither transition nor job alert are skipped. */
export function summarizeGroup(members: readonly GroupMember[], options: SummarizeOptions = {}): GroupSummary {
  const ranked: Array<{ row: GroupRow; rank: number }> = [];
  let belowThreshold = 0;
  for (const member of members) {
    const made = rowOf(member, options.thresholds);
    if (!made) continue;
    if (made.below) belowThreshold += 1;
    ranked.push({ row: made.row, rank: severity(made.row, made.below) });
  }
  ranked.sort(
    (a, b) =>
      a.rank - b.rank ||
      (a.row.roadsMatchedPct ?? Number.POSITIVE_INFINITY) - (b.row.roadsMatchedPct ?? Number.POSITIVE_INFINITY) ||
      a.row.at - b.row.at ||
      (a.row.jobId < b.row.jobId ? -1 : a.row.jobId > b.row.jobId ? 1 : 0),
  );
  const rows = ranked.map((entry) => entry.row);
  const counts = new Map<string, number>();
  for (const row of rows) counts.set(row.what, (counts.get(row.what) ?? 0) + 1);
  const times = rows.map((row) => row.at).filter((at) => Number.isFinite(at));
  // Only members that need a look are "worst"; a group of clean finishes has none.
  const worst = ranked.filter((entry) => entry.rank < 3).slice(0, options.worstCount ?? 5).map((entry) => entry.row);
  return {
    total: rows.length,
    counts: [...counts.entries()].map(([what, count]) => ({ what, count })).sort((a, b) => b.count - a.count || (a.what < b.what ? -1 : 1)),
    belowThreshold,
    worst,
    rows,
    from: times.length > 0 ? Math.min(...times) : 0,
    to: times.length > 0 ? Math.max(...times) : 0,
  };
}
