import type { GroupSummary } from '../../../domain/batch.js';
import type { DigestModel } from '../../../domain/digest.js';
import type { Job, JobStatistics } from '../../../domain/job.js';
import type { OperatorAlert } from '../../../domain/operator-alert.js';
import type { JobAlert } from '../../../domain/overdue.js';
import type { QualityShortfall } from '../../../domain/quality.js';
import type { Transition } from '../../../domain/transition.js';
import { sanitizeText, truncate } from '../../../templates/escape.js';
import type { GroupContent } from '../../notifier.js';

/**
 * The signed webhook's events: one JSON object per message, `{type, timestamp, data}` as the
 * Standard Webhooks specification shapes them, published as a JSON Schema in
 * docs/webhook-event.schema.json (a test checks every kind against it). Pure: the same content
 * gives the same event, byte for byte, so every attempt of a delivery signs the same body.
 *
 * | type                                    | data                                          |
 * | --------------------------------------- | --------------------------------------------- |
 * | `job.finished` `job.failed` `job.cancelled` (and `job.queued` `job.running` `job.unknown` when NOTIFY_ON names them) | `job`, `transition`; a finished job below a route's thresholds adds `shortfalls` |
 * | `job.queued-too-long` `job.overdue` `job.stalled` | `job`, `alert`                      |
 * | `gemwatch.down` `gemwatch.up`           | `alert`: gem-watch's own trouble and its end  |
 * | `group.burst` `group.held`              | `group`: updates sent as one message          |
 * | `digest`                                | `digest`: the period's summary                |
 *
 * Text from the API is data here, escaped by JSON itself; control characters other than newline
 * and tab are removed and each text is cut at `WEBHOOK_TEXT_MAX` characters (`WEBHOOK_ITEM_TEXT_MAX`
 * in lists), so a hostile 1 MB field cannot make an event of megabytes.
 */

/** Characters kept of any one text from the API; longer ones end with an ellipsis. */
export const WEBHOOK_TEXT_MAX = 8_192;

export interface WebhookJob {
  id: string;
  jobType: string;
  status: string;
  rawStatus: string;
  progress?: number;
  storageId?: string;
  inputFile?: string;
  outputFile?: string;
  outputFileDerived?: boolean;
  overtureRelease?: string;
  orbisVersion?: string;
  createdAt?: string;
  modifiedAt?: string;
  statistics?: JobStatistics;
  message?: string;
}

export interface WebhookEvent {
  type: string;
  /** ISO 8601: when gem-watch detected what the event reports. */
  timestamp: string;
  data: Record<string, unknown>;
}

/** Characters kept of a text in a list entry (a group's items, the digest's jobs), which may be many. */
export const WEBHOOK_ITEM_TEXT_MAX = 1_000;

function text(value: string, max: number = WEBHOOK_TEXT_MAX): string {
  // Cut before cleaning: a hostile value of megabytes is not copied whole first.
  return truncate(sanitizeText(value.length > max * 2 ? value.slice(0, max * 2) : value), max);
}

function optionalText(value: string | undefined, max: number = WEBHOOK_TEXT_MAX): string | undefined {
  return value === undefined ? undefined : text(value, max);
}

const itemText = (value: string) => text(value, WEBHOOK_ITEM_TEXT_MAX);
const optionalItemText = (value: string | undefined) => optionalText(value, WEBHOOK_ITEM_TEXT_MAX);

function iso(ms: number | undefined): string | undefined {
  return ms === undefined || !Number.isFinite(ms) ? undefined : new Date(ms).toISOString();
}

/** Drops undefined members, so the JSON has no `null` where the schema expects absence. */
function defined<T extends Record<string, unknown>>(object: T): T {
  return Object.fromEntries(Object.entries(object).filter(([, value]) => value !== undefined)) as T;
}

/** Every field gem-watch knows of a job; statistics as numbers (percentages 0–100). */
export function webhookJob(job: Job): WebhookJob {
  const statistics = job.statistics ? defined({ ...job.statistics }) : undefined;
  return defined({
    id: text(job.id),
    jobType: text(job.jobType),
    status: job.status,
    rawStatus: text(job.rawStatus),
    progress: job.progress,
    storageId: optionalText(job.storageId),
    inputFile: optionalText(job.inputFile),
    outputFile: optionalText(job.outputFile),
    outputFileDerived: job.outputFileDerived,
    overtureRelease: optionalText(job.overtureRelease),
    orbisVersion: optionalText(job.orbisVersion),
    createdAt: optionalText(job.createdAt),
    modifiedAt: optionalText(job.modifiedAt),
    statistics: statistics && Object.keys(statistics).length > 0 ? statistics : undefined,
    message: optionalText(job.message),
  });
}

/** A transition: `job.<new status>`. */
export function transitionEvent(transition: Transition, shortfalls: readonly QualityShortfall[] = []): WebhookEvent {
  const detectedAt = iso(transition.detectedAt)!;
  return {
    type: `job.${transition.to}`,
    timestamp: detectedAt,
    data: defined({
      job: webhookJob(transition.job),
      transition: defined({ from: transition.from ?? null, to: transition.to, version: transition.version, detectedAt, generation: transition.generation }),
      shortfalls: shortfalls.length > 0 ? shortfalls.map((item) => ({ metric: item.metric, label: item.label, actual: item.actual, threshold: item.threshold })) : undefined,
    }),
  };
}

/** A stuck or overdue job: `job.<alert kind>`. */
export function jobAlertEvent(alert: JobAlert): WebhookEvent {
  const detectedAt = iso(alert.detectedAt)!;
  return {
    type: `job.${alert.kind}`,
    timestamp: detectedAt,
    data: {
      job: webhookJob(alert.job),
      alert: defined({
        kind: alert.kind,
        version: alert.version,
        since: iso(alert.since),
        allowedMs: alert.allowedMs,
        expectedEndAt: iso(alert.expectedEndAt),
        basis: alert.basis,
        progress: alert.progress,
        detectedAt,
      }),
    },
  };
}

/** gem-watch's own trouble (`gemwatch.down`) and its end (`gemwatch.up`). */
export function operatorAlertEvent(alert: OperatorAlert): WebhookEvent {
  const since = iso(alert.since)!;
  return {
    type: `gemwatch.${alert.state}`,
    timestamp: since,
    data: { alert: { kind: text(alert.kind), state: alert.state, title: text(alert.title), detail: text(alert.detail), since } },
  };
}

/** Updates sent as one message: a burst (`group.burst`) or what a muted route held (`group.held`). */
export function groupEvent(group: GroupContent): WebhookEvent {
  const summary: GroupSummary = group.summary;
  return {
    type: `group.${group.kind}`,
    timestamp: iso(summary.to)!,
    data: {
      group: {
        kind: group.kind,
        route: text(group.route),
        reasons: group.reasons.map((reason) => text(reason)),
        total: summary.total,
        counts: summary.counts.map(({ what, count }) => ({ what: text(what), count })),
        belowThreshold: summary.belowThreshold,
        from: iso(summary.from)!,
        to: iso(summary.to)!,
        items: summary.rows.map((row) =>
          defined({
            jobId: itemText(row.jobId),
            jobType: itemText(row.jobType),
            what: itemText(row.what),
            problem: row.problem,
            roadsMatchedPct: row.roadsMatchedPct,
            inputFile: optionalItemText(row.inputFile),
            note: optionalItemText(row.note),
            at: iso(row.at)!,
          }),
        ),
      },
    },
  };
}

function jobRef(job: { jobId: string; jobType: string; inputFile?: string; outputFile?: string }): Record<string, unknown> {
  return defined({ jobId: itemText(job.jobId), jobType: itemText(job.jobType), inputFile: optionalItemText(job.inputFile), outputFile: optionalItemText(job.outputFile) });
}

/** The period's summary: `digest`. */
export function digestEvent(model: DigestModel): WebhookEvent {
  const generatedAt = iso(model.generatedAt)!;
  return {
    type: 'digest',
    timestamp: generatedAt,
    data: {
      digest: {
        period: { start: iso(model.period.start)!, end: iso(model.period.end)! },
        timeZone: model.timeZone,
        generatedAt,
        counts: { ...model.counts },
        totals: defined({ ...model.totals }),
        finished: model.finished.map((job) =>
          defined({
            ...jobRef(job),
            finishedAt: iso(job.finishedAt),
            matchedPct: job.matchedPct,
            fullyMatchedPct: job.fullyMatchedPct,
            partiallyMatchedPct: job.partiallyMatchedPct,
            kmProcessed: job.kmProcessed,
            roadsProcessed: job.roadsProcessed,
            durationSec: job.durationSec,
          }),
        ),
        ended: [...model.failed, ...model.cancelled].map((job) => defined({ ...jobRef(job), status: job.status, endedAt: iso(job.endedAt), message: optionalItemText(job.message) })),
        running: model.running.map((job) =>
          defined({
            ...jobRef(job),
            progress: job.progress,
            runningSince: iso(job.runningSince),
            expectedEndAt: iso(job.expectedEndAt),
            overdue: job.overdue,
            stalled: job.stalled,
          }),
        ),
        queued: model.queued.map((job) => defined({ ...jobRef(job), queuedSince: iso(job.queuedSince) })),
      },
    },
  };
}
