import type { JobAlert } from '../domain/overdue.js';
import { formatDuration, formatInstant, formatPercent, jobFacts, type Fact } from './format.js';

/**
 * Wording shared by the Slack and email job alerts (a job queued too long, overdue or stalled), so
 * the two say the same. Plain text: each renderer escapes for its own medium.
 */

export interface JobAlertRenderOptions {
  /** IANA time zone of the times shown; default UTC. */
  timeZone?: string;
}

/** One line naming the condition, e.g. "ROAD_MATCHING job 42 has been queued for 3 h 5 min". */
export function jobAlertHeadline(alert: JobAlert, now = alert.detectedAt): string {
  const job = `${alert.jobType} job ${alert.jobId}`;
  const elapsed = formatDuration((now - alert.since) / 1000);
  switch (alert.kind) {
    case 'queued-too-long':
      return `${job} has been queued for ${elapsed}`;
    case 'overdue':
      return `${job} is running past its expected end`;
    case 'stalled':
      return `${job}: progress has not moved for ${elapsed}`;
    default:
      return `${job} needs a look`;
  }
}

/** Why gem-watch says so, in one or two sentences. */
export function jobAlertExplanation(alert: JobAlert, timeZone = 'UTC'): string {
  const allowed = formatDuration(alert.allowedMs / 1000);
  switch (alert.kind) {
    case 'queued-too-long':
      return `Queued since ${formatInstant(alert.since, timeZone)}; the limit is ${allowed} (alerts.queuedMaxMinutes).`;
    case 'overdue': {
      const basis = alert.basis === 'size' ? 'its size (number of roads at GEM’s matching speed)' : 'its progress so far';
      const expected = alert.expectedEndAt === undefined ? '' : ` From ${basis} it was expected to end about ${formatInstant(alert.expectedEndAt, timeZone)}.`;
      return `Running since ${formatInstant(alert.since, timeZone)}.${expected} Allowed with the slack factor: ${allowed} (alerts.overdueFactor).`;
    }
    case 'stalled':
      return `Progress has stayed at ${alert.progress === undefined ? 'the same value' : formatPercent(alert.progress)} since ${formatInstant(alert.since, timeZone)}; the limit is ${allowed} (alerts.stalledMinutes).`;
    default:
      return '';
  }
}

/** The job's facts as a job alert shows them: its status and progress, no duration yet. */
export function jobAlertFacts(alert: JobAlert, timeZone: string): Fact[] {
  const out = jobFacts(alert.job, timeZone).filter((fact) => fact.label !== 'Duration');
  out.splice(2, 0, { label: 'Status', value: alert.job.status });
  if (alert.progress !== undefined) out.push({ label: 'Progress', value: formatPercent(alert.progress) });
  return out;
}
