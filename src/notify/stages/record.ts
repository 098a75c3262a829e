import type { Logger } from '../../telemetry/logger.js';
import type { Metrics, NotificationOutcome } from '../../telemetry/metrics.js';
import type { DeliveryFailureReason } from '../errors.js';
import type { NotifyTaskData } from '../task.js';
import type { CoveredMember } from './policy.js';

/**
 * The record stage: every step of a delivery becomes an event, counted in the metrics and written
 * to the notification log (notify/notification-log.ts), then handed to any further listener. A
 * listener that fails is logged and never fails the delivery.
 */

/** One step of a delivery, for metrics and the notification log. */
export interface DeliveryOutcomeEvent {
  taskId: string;
  route: string;
  channel: string;
  target: string;
  outcome: 'delivered' | 'already-delivered' | 'deferred' | 'retrying' | 'failed' | 'held' | 'grouped';
  /** 1-based attempt this event belongs to. */
  attempt: number;
  reason?: DeliveryFailureReason;
  /** Scrubbed error text. */
  error?: string;
  /** Transition (job id + version) or alert the task is about. */
  subject: string;
  at: number;
  /** What the task carries: a transition, an operator alert, a stuck/overdue job, a grouped message. */
  kind?: 'transition' | 'alert' | 'job-alert' | 'group' | 'digest';
  /** The job, for transitions and job alerts. */
  jobId?: string;
  version?: number;
  /** The transition's new status, or the job alert's kind. */
  status?: string;
  /** Epoch ms the transition was detected (transitions only): with `at`, its time to delivery. */
  detectedAt?: number;
  /** The channel's receipt, or what the delivery policy decided (held until …, warning, group of 39). */
  detail?: string;
  /** A group message's members, delivered by it. */
  covers?: CoveredMember[];
}

/** A listener of delivery outcomes. */
export type OutcomeListener = (event: DeliveryOutcomeEvent) => void | Promise<void>;

/** The event fields that say what a task is about (for the notification log). */
export function aboutOf(task: NotifyTaskData): Pick<DeliveryOutcomeEvent, 'kind' | 'jobId' | 'version' | 'status' | 'detectedAt'> {
  if (task.transition) return { kind: 'transition', jobId: task.transition.jobId, version: task.transition.version, status: task.transition.to, detectedAt: task.transition.detectedAt };
  if (task.jobAlert) return { kind: 'job-alert', jobId: task.jobAlert.jobId, version: task.jobAlert.version, status: task.jobAlert.kind };
  if (task.group) return { kind: 'group' };
  if (task.digest) return { kind: 'digest' };
  return { kind: 'alert', status: task.alert!.state };
}

/** Hands each event to `listener`; a listener that throws is logged, and the delivery goes on. */
export function outcomeReporter(listener: OutcomeListener | undefined, logger: Logger): (event: DeliveryOutcomeEvent) => Promise<void> {
  return async (event) => {
    if (!listener) return;
    try {
      await listener(event);
    } catch (error) {
      logger.warn({ err: error }, 'delivery outcome hook failed');
    }
  };
}

const METRIC_OUTCOME: Record<DeliveryOutcomeEvent['outcome'], NotificationOutcome> = {
  delivered: 'sent',
  'already-delivered': 'skipped',
  // Waiting for the endpoint's rate limit or for another worker's send is no failure: counted
  // apart, so an alert on retries does not fire on every burst.
  deferred: 'deferred',
  retrying: 'retry',
  failed: 'failed',
  held: 'held',
  grouped: 'grouped',
};

/**
 * Seconds from detection to delivery of each transition a delivered message announced: its own, or
 * each member's of a group message (a held or gathered transition counts the time it was held, which
 * is what its reader waited). Job and operator alerts are no transitions; a replayed delivery
 * (`already-delivered`) was counted when it went out.
 */
export function detectionToDeliverySeconds(event: DeliveryOutcomeEvent): number[] {
  if (event.outcome !== 'delivered') return [];
  const detected = event.kind === 'transition' ? [event.detectedAt] : (event.covers ?? []).filter((member) => member.kind === 'transition').map((member) => member.detectedAt);
  // Detection and delivery may be on two replicas' clocks: a skew never makes a negative time.
  return detected.filter((at): at is number => typeof at === 'number' && Number.isFinite(at)).map((at) => Math.max(0, (event.at - at) / 1000));
}

/** Where the record stage counts, writes and passes on each outcome. */
export interface RecordOptions {
  metrics: Metrics;
  /** The notification log; NotificationLog fits. */
  log: { record(event: DeliveryOutcomeEvent): Promise<void> };
  /** Further listeners of delivery outcomes, besides the metrics and the notification log. */
  onOutcome?: OutcomeListener;
}

/** The listener that counts each outcome, writes it to the notification log and passes it on. */
export function recordOutcomes({ metrics, log, onOutcome }: RecordOptions): OutcomeListener {
  return async (event) => {
    metrics.notifications.labels(event.channel, METRIC_OUTCOME[event.outcome]).inc();
    for (const seconds of detectionToDeliverySeconds(event)) metrics.detectionToDelivery.labels(event.channel).observe(seconds);
    await log.record(event);
    await onOutcome?.(event);
  };
}
