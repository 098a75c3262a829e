import type { JobAlert } from '../../../domain/overdue.js';
import { formatInstant } from '../../../templates/format.js';
import { jobAlertExplanation, jobAlertFacts, jobAlertHeadline, type JobAlertRenderOptions } from '../../../templates/job-alert-format.js';
import { contextBlock, factSet, teamsMessage, textBlock, titleBlock, type TeamsMessage } from './teams-message.js';

/**
 * A stuck or overdue job as a Teams card: queued too long, running past its expected end, or with
 * progress that has stopped moving. Sent once per job and condition; its end is announced as usual.
 */
export function renderTeamsJobAlert(alert: JobAlert, options: JobAlertRenderOptions = {}): TeamsMessage {
  const timeZone = options.timeZone ?? 'UTC';
  const heading = jobAlertHeadline(alert);
  return teamsMessage(heading, [
    titleBlock(`⌛ ${heading}`, 'Warning'),
    textBlock(jobAlertExplanation(alert, timeZone)),
    factSet(jobAlertFacts(alert, timeZone)),
    contextBlock(`gem-watch · ${alert.kind} · detected ${formatInstant(alert.detectedAt, timeZone)} · sent once; its end is announced as usual`),
  ]);
}
