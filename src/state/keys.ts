import { encodeIdPart } from '../domain/transition.js';

/**
 * Every Redis key gem-watch writes, built in this one place so that all of them live under the
 * deployment's prefix (two deployments can share a Redis) and none is spelled twice. BullMQ's own
 * keys use the same prefix through its `prefix` option.
 */
export class Keys {
  constructor(readonly prefix: string) {}

  private key(...parts: string[]): string {
    return [this.prefix, ...parts].join(':');
  }

  /** SCAN pattern of every key under the prefix, BullMQ's included (the demo wipes them). */
  everything(): string {
    return this.key('*');
  }

  // --- Watch pipeline (state store) ---

  /** Hash: job id → compact snapshot JSON of every tracked job. */
  jobs(): string {
    return this.key('jobs');
  }
  /** Hash: job id → canonical status, per job type; what the poll compares the list against. */
  statusIndex(jobType: string): string {
    return this.key('status', encodeIdPart(jobType));
  }
  /**
   * String: epoch ms when the first sync of this job type completed (set once, never moved). A job
   * first seen already ended before it is history, not news.
   */
  synced(jobType: string): string {
    return this.key('synced', encodeIdPart(jobType));
  }
  /**
   * String counter: jobs of this type first seen already ended before the first sync, recorded as
   * history by the detail worker since the last poll logged the count.
   */
  historyCount(jobType: string): string {
    return this.key('history', encodeIdPart(jobType));
  }
  /** Stream: every status change, trimmed by age; the digest reads it. */
  transitions(): string {
    return this.key('transitions');
  }
  /** Sorted set: transitions detected but not yet known dispatched, scored by detection time. */
  outbox(): string {
    return this.key('outbox');
  }
  /** Hash: outbox member → transition JSON. */
  outboxData(): string {
    return this.key('outbox', 'data');
  }
  /** Hash: job id → "ms|jobType" for jobs gone from the API; forgotten after the retention. */
  vanished(): string {
    return this.key('vanished');
  }
  /** String: the newest poll slot started for a job type; older slots are skipped, never piled up. */
  lastPollSlot(jobType: string): string {
    return this.key('poll', 'slot', encodeIdPart(jobType));
  }
  /** Hash: poll bookkeeping (last success, last failure). */
  pollHealth(): string {
    return this.key('poll', 'health');
  }
  /**
   * Hash: job type → `fetches|allowed|at`: the detail fetches its latest poll asked for and what
   * poll.rateLimit allows between two polls (the backlog shown on /readyz and the status page).
   */
  detailWork(): string {
    return this.key('poll', 'detail-work');
  }
  /**
   * Hash per job type: job id → `readAt|eventAt|listStatus` of each active job's latest detail
   * read, so every replica's poll knows when the next read is due (domain/detail-reads.ts).
   * Entries of jobs no longer active are removed by the polls.
   */
  detailReads(jobType: string): string {
    return this.key('poll', 'detail-reads', encodeIdPart(jobType));
  }

  /**
   * BullMQ's hash of one task (`<prefix>:<queue>:<task id>`, as BullMQ spells it under the same
   * prefix): read, never written, to see that a task exists on the server at hand.
   */
  queueTask(queue: string, taskId: string): string {
    return this.key(queue, taskId);
  }

  // --- Notifications ---

  /** String: a delivery that succeeded; checked before sending so a replay never repeats it. */
  delivered(taskId: string): string {
    return this.key('delivered', taskId);
  }

  // --- Delivery: see docs/architecture.md, "Delivery and its crash window" ---

  /** String with PX: a delivery in flight; a second worker on the same task waits instead of sending twice. */
  deliveryLock(taskId: string): string {
    return this.key('delivering', taskId);
  }
  /**
   * String with PX: epoch ms (Redis clock) before which the next message to one channel endpoint
   * (a Slack webhook) must not go: its rate limit, and a Retry-After it sent.
   */
  rateGate(channel: string, target: string): string {
    return this.key('rate', encodeIdPart(channel), encodeIdPart(target));
  }

  // --- Health flags shared by all replicas (credentials, polling) ---

  /** Hash: ok ('1'/'0'), reason, since (epoch ms) of one named health flag such as `auth`. */
  healthFlag(name: string): string {
    return this.key('health', encodeIdPart(name));
  }

  // --- Digest: the protocol is in docs/architecture.md, "The digest" ---

  /** String: epoch ms where the last digest sent (or skipped as empty) ended; the next one starts there. */
  digestLastEnd(): string {
    return this.key('digest', 'last-end');
  }
  /** Hash: period end → JSON `{start, end, force}` of each digest period claimed and not yet queued. */
  digestOpen(): string {
    return this.key('digest', 'open');
  }
  /**
   * String with a lease, written only by daemons from before the digest ran on the queue: while it
   * is held (or their pending period is set) a claim waits, so the two never send one period twice
   * during an upgrade.
   */
  digestLock(): string {
    return this.key('digest', 'lock');
  }
  /** String: JSON of the period an older daemon is sending (see digestLock). */
  digestPending(): string {
    return this.key('digest', 'pending');
  }
  /** List: the latest digests sent or skipped, newest first, JSON; bounded. */
  digestLog(): string {
    return this.key('digest', 'log');
  }

  // --- Alerts: job alerts, grouping, quiet hours, silences, notification log ---
  // See the "Alerts" section of docs/architecture.md for the protocol these keys carry.

  /** String with PX: a stuck/overdue alert for (job, version, condition) was dispatched; never again. */
  jobAlertSent(alertKey: string): string {
    return this.key('alert', 'job', alertKey);
  }
  /**
   * String (PX for bursts): the sequence number of the gathering open for one destination, `kind`
   * `burst` (a burst being grouped; expires after a quiet window) or `held` (quiet hours, a silence).
   */
  gatherOpen(kind: string, destination: string): string {
    return this.key('gather', encodeIdPart(kind), destination, 'open');
  }
  /** Hash: `<seq>|<task id>` → task JSON of every member not yet delivered, of every gathering of a destination. */
  gatherMembers(kind: string, destination: string): string {
    return this.key('gather', encodeIdPart(kind), destination, 'members');
  }
  /** Hash: `<seq>:opened` (Redis ms), `<seq>:closed` of a destination's gatherings. */
  gatherMeta(kind: string, destination: string): string {
    return this.key('gather', encodeIdPart(kind), destination, 'meta');
  }
  /** String counter: the last gathering sequence number used for a destination. */
  gatherSeq(kind: string, destination: string): string {
    return this.key('gather', encodeIdPart(kind), destination, 'seq');
  }
  /** String with PX: what was decided for one notify task: `solo`, `burst:<seq>` or `held:<seq>`. */
  gatherDecision(taskId: string): string {
    return this.key('gathered', taskId);
  }
  /** Hash: silence id → JSON (route, start, end, comment); `gem-watch silence add|list|remove`. */
  silences(): string {
    return this.key('silences');
  }
  /** List: the latest delivery outcomes, newest first, JSON; trimmed to retention.notificationLogMax. */
  notificationLog(): string {
    return this.key('notify', 'log');
  }

  // --- Slack app mode: one message per job, kept current (docs/architecture.md, "Slack app mode") ---

  /**
   * Hash: where a job's message is in one Slack channel (`channel` id, `ts`), what it shows
   * (`version`, `at`, `gen`) and which thread replies went out (`reply:<id>`).
   */
  slackAppMessage(target: string, jobId: string): string {
    return this.key('slackapp', 'msg', encodeIdPart(target), encodeIdPart(jobId));
  }
  /** String with PX: one delivery at a time posts or updates a job's message in one channel. */
  slackAppLock(target: string, jobId: string): string {
    return this.key('slackapp', 'lock', encodeIdPart(target), encodeIdPart(jobId));
  }
  /** String with PX: a job's last progress update in one channel (liveProgress), epoch ms. */
  slackAppProgress(target: string, jobId: string): string {
    return this.key('slackapp', 'progress', encodeIdPart(target), encodeIdPart(jobId));
  }
  /** String counter with PX: progress updates sent in one minute (epoch minute), workspace-wide. */
  slackAppProgressBudget(minute: number): string {
    return this.key('slackapp', 'progress-budget', String(minute));
  }
}
