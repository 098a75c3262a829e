import type { Redis } from 'ioredis';
import { formatDuration, formatInstant } from '../templates/format.js';
import type { Logger } from '../telemetry/logger.js';
import { errorText } from '../telemetry/redact.js';
import type { SharedHealthFlag } from '../domain/health-state.js';
import type { OperatorAlert } from '../domain/operator-alert.js';
import type { Keys } from '../state/keys.js';

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
  redis: Redis;
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
const FIELD_PREFIX = 'failingSince:';
const REASON_MAX = 400;

/**
 * Lua: the `failingSince:*` values of the job types in ARGV[3..] (the ones polled), as a list;
 * fields of any other type are deleted on the way (a type no longer polled never succeeds again).
 */
const FAILING_SPELLS = `
local watched = {}
for i = 3, #ARGV do watched['${FIELD_PREFIX}' .. ARGV[i]] = true end
local out = {}
local all = redis.call('HGETALL', KEYS[1])
for i = 1, #all, 2 do
  if string.sub(all[i], 1, ${FIELD_PREFIX.length}) == '${FIELD_PREFIX}' then
    if watched[all[i]] then out[#out + 1] = tonumber(all[i + 1]) else redis.call('HDEL', KEYS[1], all[i]) end
  end
end
`;

/**
 * poll-health-clear-1
 * KEYS[1] poll health hash; ARGV[1] field; ARGV[2] start of the successful poll, epoch ms; ARGV[3..]
 * the job types polled. Removes the job type's "failing since" unless a failure newer than this
 * success set it, and returns how many polled job types are still failing.
 */
const CLEAR = `
local since = redis.call('HGET', KEYS[1], ARGV[1])
if since and tonumber(since) <= tonumber(ARGV[2]) then redis.call('HDEL', KEYS[1], ARGV[1]) end
${FAILING_SPELLS}
return #out
`;

/**
 * poll-health-fail-1
 * KEYS[1] poll health hash; ARGV[1] field; ARGV[2] start of the failed poll, epoch ms; ARGV[3..]
 * the job types polled. Keeps the earliest failure of the job type's current failing spell;
 * returns the earliest `failingSince:*` of any polled job type.
 */
const FAIL = `
redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[2])
${FAILING_SPELLS}
local earliest = nil
for _, value in ipairs(out) do
  if earliest == nil or value < earliest then earliest = value end
end
return tostring(earliest)
`;

export class PollHealthWatcher {
  constructor(private readonly options: PollHealthWatcherOptions) {}

  /** A poll of `jobType` that started at `startedAt` (epoch ms) succeeded. */
  async recordSuccess(jobType: string, startedAt: number): Promise<void> {
    const { redis, keys } = this.options;
    const stillFailing = Number(await redis.eval(CLEAR, 1, keys.pollHealth(), FIELD_PREFIX + jobType, String(startedAt), ...this.options.jobTypes));
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
    const { redis, keys, failureMs } = this.options;
    const earliest = Number(await redis.eval(FAIL, 1, keys.pollHealth(), FIELD_PREFIX + jobType, String(startedAt), ...this.options.jobTypes));
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
