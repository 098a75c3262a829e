import type { RedisClient } from '../state/connection.js';
import type { DeliveryOutcomeEvent } from './stages/record.js';
import { scrub } from '../telemetry/redact.js';
import type { Keys } from '../state/keys.js';
import { NotificationLogStore, type DeliveryLogEntry, type LogQuery, type NotificationLogOptions } from '../state/notification-log-store.js';

/**
 * The notification log: every delivery attempt and decision (delivered, retrying, failed, deferred,
 * held, grouped, already delivered), newest first, in one Redis list shared by all replicas and
 * trimmed to `retention.notificationLogMax` entries. `gem-watch log` and the status page read it;
 * metrics count the same events (stages/record.ts). A group message's members each get an entry of
 * their own, so `gem-watch log --job ID` shows how that job's news went out.
 */

const DETAIL_MAX = 500;

function entriesOf(event: DeliveryOutcomeEvent): DeliveryLogEntry[] {
  const text = event.error ?? event.detail;
  // What the task's own entry and those of the members it delivered (a group message) share.
  const attemptOf = {
    at: event.at,
    route: event.route,
    channel: event.channel,
    target: event.target,
    outcome: event.outcome,
    attempt: event.attempt,
    attempts: event.attempt,
  };
  const entry: DeliveryLogEntry = {
    ...attemptOf,
    taskId: event.taskId,
    subject: event.subject,
    ...(event.kind ? { kind: event.kind } : {}),
    ...(event.jobId !== undefined ? { jobId: event.jobId } : {}),
    ...(event.version !== undefined ? { version: event.version } : {}),
    ...(event.status !== undefined ? { status: event.status } : {}),
    ...(event.reason ? { reason: event.reason } : {}),
    ...(text ? { detail: scrub(text).slice(0, DETAIL_MAX) } : {}),
  };
  const members = (event.covers ?? []).map(
    (member): DeliveryLogEntry => ({
      ...attemptOf,
      taskId: member.taskId,
      subject: member.subject,
      kind: member.kind,
      ...(member.jobId !== undefined ? { jobId: member.jobId } : {}),
      ...(member.version !== undefined ? { version: member.version } : {}),
      ...(member.status !== undefined ? { status: member.status } : {}),
      detail: `in group message ${event.taskId}`,
      via: event.taskId,
    }),
  );
  return [entry, ...members];
}

export class NotificationLog {
  private readonly store: NotificationLogStore;

  constructor(redis: RedisClient, keys: Keys, options: NotificationLogOptions) {
    this.store = new NotificationLogStore(redis, keys, options);
  }

  /** Records one delivery outcome (and, for a group message, one entry per member). */
  async record(event: DeliveryOutcomeEvent): Promise<void> {
    // Members first, the group's own entry last: newest first reads the group, then what it carried.
    await this.store.push(entriesOf(event).reverse());
  }

  /**
   * The latest `limit` outcomes, newest first: what the status page shows
   * (`HttpServerOptions.recentDeliveries`).
   */
  async recentDeliveries(limit: number): Promise<DeliveryLogEntry[]> {
    return this.query({ limit });
  }

  /** Entries matching the query, newest first. */
  async query(query: LogQuery = {}): Promise<DeliveryLogEntry[]> {
    return this.store.query(query);
  }
}
