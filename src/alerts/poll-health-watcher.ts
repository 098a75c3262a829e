import type { RedisClient } from '../state/connection.js';
import { formatDuration, formatInstant } from '../templates/format.js';
import type { Logger } from '../telemetry/logger.js';
import { errorText } from '../telemetry/redact.js';
import type { SharedHealthFlag } from '../domain/health-state.js';
import type { OperatorAlert } from '../domain/operator-alert.js';
import type { Keys } from '../state/keys.js';
import { PollHealthStore } from '../state/poll-health-store.js';

/**
 * The watcher's own health: when polling has failed for longer than
 * `alerts.pollFailureMinutes` (the API down, credentials refused), one operator alert to the default
 * route, and one when it works again.
 *
 * Every replica reports each poll's outcome. Since when a job type's polls have been failing is kept
 * in the poll health hash (`failingSince:<type>`, set by the first failure, removed by a success),
 * and the down/up state is the shared HealthFlag `polling`, whose Lua compare-and-set tells exactly
 * one replica that it made the change: that replica sends the alert.
 */

/** The part of the shared flag used here. */
export type PollingFlag = Pick<SharedHealthFlag, 'report'>;

export interface PollHealthWatcherOptions {
  redis: RedisClient;
  keys: Keys;
  /** The shared flag, normally `new HealthFlag(redis, keys, 'polling')`. */
  flag: PollingFlag;
  /** Queues an operator alert; Dispatcher.dispatchAlert fits. */
  dispatchAlert: (alert: OperatorAlert) => Promise<number>;
  /** Polling failing this long raises the alert, ms; config `alerts.pollFailureMinutes` (default 15 min). */
  failureMs: number;
  logger: Logger;
  /** IANA zone of times in the alert text; default UTC. */
  timeZone?: string;
  /**
   * The job types this replica polls (config `gem.jobTypes`). A failing spell of a type no longer
   * among them is dropped: nothing will ever end it with a success.
   */
  jobTypes: readonly string[];
}

export const POLLING_ALERT_KIND = 'polling';
const REASON_MAX = 400;

export class PollHealthWatcher {
  private readonly store: PollHealthStore;

  constructor(private readonly options: PollHealthWatcherOptions) {
    this.store = new PollHealthStore(options.redis, options.keys);
  }

  /** A poll of `jobType` that started at `startedAt` (epoch ms) succeeded. */
  async recordSuccess(jobType: string, startedAt: number): Promise<void> {
    const stillFailing = await this.store.endFailingSpell(jobType, startedAt, this.options.jobTypes);
    if (stillFailing > 0) return;
    const report = await this.options.flag.report(true, '', startedAt);
    if (!report.changed) return;
    this.options.logger.info({ since: new Date(report.since ?? startedAt).toISOString() }, 'polling GEM works again');
    await this.options.dispatchAlert({
      kind: POLLING_ALERT_KIND,
      state: 'up',
      title: 'gem-watch polls GEM again',
      detail: 'Polling works again; job changes missed meanwhile are announced from this poll on.',
      since: report.since ?? startedAt,
    });
  }

  /**
   * A poll of `jobType` that started at `startedAt` failed with `error`. Raises the alert once
   * polling has been failing for `failureMs`.
   */
  async recordFailure(jobType: string, error: unknown, startedAt: number): Promise<void> {
    const { failureMs } = this.options;
    const earliest = await this.store.recordFailingSpell(jobType, startedAt, this.options.jobTypes);
    if (!Number.isFinite(earliest) || startedAt - earliest < failureMs) return;
    const text = errorText(error).replace(/\s+/g, ' ').trim();
    const reason = `${jobType}: ${text.length > REASON_MAX ? `${text.slice(0, REASON_MAX)}…` : text || 'poll failed'}`;
    const report = await this.options.flag.report(false, reason, startedAt);
    if (!report.changed) return;
    const timeZone = this.options.timeZone ?? 'UTC';
    this.options.logger.error({ failingSince: new Date(earliest).toISOString(), reason }, 'polling GEM has been failing; one operator alert is sent');
    await this.options.dispatchAlert({
      kind: POLLING_ALERT_KIND,
      state: 'down',
      title: 'gem-watch cannot poll GEM',
      detail:
        `Polling has been failing since ${formatInstant(earliest, timeZone)} (${formatDuration((startedAt - earliest) / 1000)}). Last error: ${reason}. ` +
        'Job changes are not seen meanwhile; gem-watch keeps trying and sends another message when polling works again.',
      since: report.since ?? startedAt,
    });
  }
}
