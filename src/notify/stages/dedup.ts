import { randomUUID } from 'node:crypto';
import type { RedisClient } from '../../state/connection.js';
import type { Logger } from '../../telemetry/logger.js';
import { DeliveryMarks, type MarkExtras } from '../../state/delivery-marks.js';
import type { Keys } from '../../state/keys.js';

/**
 * The dedup stage: the task's delivery lock and its delivered marker (state/delivery-marks.ts). The
 * lock keeps one sender per task at a time, even when BullMQ hands a stalled task to a second
 * worker; the marker, read under the lock, says a send already succeeded. The delivery writes the
 * marker before BullMQ completes the task (see delivery.ts for the crash window).
 */

/** How long the lock and the marker live, in ms. */
export interface DedupSettings {
  lockTtlMs: number;
  markerTtlMs: number;
}

/**
 * What the lock's and marker's lifetimes are read from: every channel's send timeout counts. The
 * nesting follows the configuration's keys, so the parsed configuration is one; the channels that
 * came after Slack and email may be absent (configurations built by hand before them).
 */
export interface DedupConfig {
  /** Days a delivered marker is kept (`retention.deliveriesDays`). */
  retention: { deliveriesDays: number };
  /** Deadline of one Slack post, in ms. */
  slack: { timeoutMs: number };
  /** SMTP connection and socket inactivity timeouts, in ms. */
  email: { connectionTimeoutMs: number; socketTimeoutMs: number };
  /** Deadline of one Teams post, in ms. */
  teams?: { timeoutMs: number };
  /** Deadline of one signed webhook POST, in ms. */
  webhook?: { timeoutMs: number };
  /** Deadline of one Slack Web API call, in ms. */
  slackApp?: { timeoutMs: number };
}

/** The lock's and the marker's lifetimes from the configuration. */
export function dedupSettings(config: DedupConfig): DedupSettings {
  // A Slack app send waits for the job's lock (at most one call's timeout), then makes up to three
  // calls (update, a fresh post when the message is gone, the thread reply).
  const slowestSendMs = Math.max(
    config.slack.timeoutMs,
    config.email.connectionTimeoutMs + config.email.socketTimeoutMs,
    config.teams?.timeoutMs ?? 0,
    config.webhook?.timeoutMs ?? 0,
    config.slackApp ? 4 * config.slackApp.timeoutMs : 0,
  );
  return {
    markerTtlMs: Math.round(config.retention.deliveriesDays * 86_400_000),
    // Long enough for the slowest send (connect + socket timeout), so it only expires on a crash.
    lockTtlMs: 2 * slowestSendMs + 5_000,
  };
}

/** What the marker of an earlier successful send says. */
export interface PreviousDelivery {
  /** Epoch ms of that send, when the marker says. */
  at?: number;
  /** Its channel receipt, when the marker says. */
  detail?: string;
}

/** A task's lock, taken. */
export interface HeldLock {
  locked: true;
  /** The marker of an earlier send; null when the task was never delivered. */
  previous: PreviousDelivery | null;
  /**
   * Releases the lock, once however often it is called; a failed release is logged (the lock
   * expires by itself). The release is issued before this returns its first await, so it goes
   * behind a marker written just before on the same connection.
   */
  release(): Promise<void>;
  /**
   * Writes the delivered marker (with a group's members and cleanup, as one MULTI). The commands
   * are queued on the connection before this returns, so a command issued after it goes behind.
   * A plain marker (no members, no gathering) takes the lock's release with it in the same script,
   * so a `release()` called after it is a no-op; should the write fail, `release()` tries again.
   */
  mark(record: Record<string, unknown>, extras: MarkExtras): Promise<unknown>;
}

/** The lock held by another sender: wait this long and try again. */
export interface BusyLock {
  locked: false;
  waitMs: number;
}

/** Claims notify tasks for one sender at a time and reads what an earlier send left. */
export class DeliveryDedup {
  private readonly marks: DeliveryMarks;

  constructor(redis: RedisClient, keys: Keys, private readonly settings: DedupSettings) {
    this.marks = new DeliveryMarks(redis, keys);
  }

  /** Takes the task's lock and reads its marker; `log` hears of a failed release. */
  async claim(taskId: string, log: Logger): Promise<HeldLock | BusyLock> {
    // randomUUID draws from a buffer Node refills in batches; randomBytes was a getrandom call per
    // task (1.4% of the daemon's CPU in a burst, npm run bench --profile).
    const holder = `${process.pid}-${randomUUID()}`;
    const lock = await this.marks.lock(taskId, holder, this.settings.lockTtlMs);
    if (!lock.locked) return { locked: false, waitMs: lock.ttlMs > 0 ? Math.min(lock.ttlMs, 5_000) : 1_000 };
    let released = false;
    const marks = this.marks;
    const { markerTtlMs } = this.settings;
    return {
      locked: true,
      previous: lock.marker === null ? null : previousOf(lock.marker),
      async release() {
        if (released) return;
        released = true;
        try {
          await marks.release(taskId, holder);
        } catch (error) {
          log.warn({ err: error }, 'could not release the delivery lock; it expires by itself');
        }
      },
      mark(record, { covers, gathering }) {
        if (covers || gathering || released) return marks.mark(taskId, record, markerTtlMs, { ...(covers ? { covers } : {}), ...(gathering ? { gathering } : {}) });
        // Set before the first await: the delivery's release() right after this call is then a
        // no-op, and the script releases behind the marker.
        released = true;
        return marks.markAndRelease(taskId, holder, record, markerTtlMs).catch((error: unknown) => {
          released = false;
          throw error;
        });
      },
    };
  }
}

/** A marker as written by `mark`; anything unreadable still says the task was delivered. */
function previousOf(marker: string): PreviousDelivery {
  const previous = safeJson(marker);
  return {
    ...(typeof previous?.at === 'number' ? { at: previous.at } : {}),
    ...(typeof previous?.detail === 'string' ? { detail: previous.detail } : {}),
  };
}

function safeJson(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return value && typeof value === 'object' ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
