import { randomUUID } from 'node:crypto';
import type { RedisClient } from './connection.js';
import type { Keys } from './keys.js';
import { DigestStateError } from './digest-state-error.js';
import { withScripts, type ScriptCommands } from './scripts.js';

/**
 * The digest's state in Redis, shared by every replica (protocol: docs/architecture.md, "The digest"):
 * - `digest:last-end`: where the last digest sent, or skipped as empty, ended; the next starts there.
 * - `digest:lock`: a lease on sending; one replica at a time works on digests.
 * - `digest:pending`: the period being sent and the channels already done. Written before the first
 *   send, so a crash leaves the exact period behind for whoever comes next.
 * - `digest:log`: the latest digests, for people and the status page.
 * Every write made while working (pending, completion) checks the lease first, in one Lua script, so
 * a replica that lost its lease cannot overwrite the work of the one that took it over
 * (lua/digest-write-pending-2.lua, lua/digest-complete-4.lua; the lease: lua/extend-lock-1.lua,
 * lua/release-lock-1.lua).
 */

/** A digest period being sent. */
export interface PendingDigest {
  /** [start, end), epoch ms. */
  start: number;
  end: number;
  /** Channels already delivered (`email`, `slack`). */
  done: string[];
  /** Sent even when empty (`digest --now`). */
  force?: boolean;
  /** Failed attempts so far. */
  failures?: number;
  /** Epoch ms before which no replica retries (shared backoff after a failed send). */
  retryAt?: number;
  /** Epoch ms of the last failed attempt: a new slot skips the backoff once, not on every check. */
  failedAt?: number;
  /** The last failure, scrubbed, for people and the status page. */
  lastError?: string;
}

/**
 * How a period ended: sent on at least one channel, skipped because nothing happened, or given up
 * because every channel refused it until the next period was due.
 */
export type DigestOutcome = 'sent' | 'skipped-empty' | 'given-up';

/** One line of the digest log. */
export interface DigestLogEntry {
  start: number;
  end: number;
  outcome: DigestOutcome;
  channels: string[];
  /** Channels that refused the period until the next one was due; it was given up on them. */
  missed?: string[];
  /** Epoch ms it was completed. */
  at: number;
  subject?: string;
}

export interface DigestLedgerOptions {
  /** Entries kept in the digest log. Default 100. */
  logMax?: number;
}

export class DigestLedger {
  private readonly logMax: number;
  private readonly scripts: ScriptCommands;

  constructor(
    private readonly redis: RedisClient,
    private readonly keys: Keys,
    options: DigestLedgerOptions = {},
  ) {
    this.logMax = options.logMax ?? 100;
    this.scripts = withScripts(redis);
  }

  /** Where the last digest ended and the period being sent, if any. */
  async read(): Promise<{ lastEnd?: number; pending?: PendingDigest }> {
    const [lastEnd, pending] = await this.redis.mget(this.keys.digestLastEnd(), this.keys.digestPending());
    const out: { lastEnd?: number; pending?: PendingDigest } = {};
    if (lastEnd !== null && lastEnd !== undefined && Number.isFinite(Number(lastEnd))) out.lastEnd = Number(lastEnd);
    if (pending !== null && pending !== undefined) out.pending = parsePending(pending);
    return out;
  }

  /** Sets where the first digest starts, unless anything is set already. True if this call set it. */
  async initialise(lastEnd: number): Promise<boolean> {
    return (await this.redis.set(this.keys.digestLastEnd(), String(lastEnd), 'NX')) === 'OK';
  }

  /** Redis's clock, epoch ms: the clock the transition stream's ids, and so the periods, are cut by. */
  async serverTime(): Promise<number> {
    const [seconds, micros] = await this.redis.time();
    return Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
  }

  /** Takes the sending lease for `leaseMs`; the token to pass on, or undefined when another holds it. */
  async acquire(due: number, leaseMs: number): Promise<string | undefined> {
    const token = `${due}:${randomUUID()}`;
    const ok = await this.redis.set(this.keys.digestLock(), token, 'PX', leaseMs, 'NX');
    return ok === 'OK' ? token : undefined;
  }

  /** Extends our lease; false when it was lost (expired, taken over). */
  async extend(token: string, leaseMs: number): Promise<boolean> {
    return (await this.scripts.gemwatchExtendLock(this.keys.digestLock(), token, leaseMs)) === 1;
  }

  /** Gives the lease back if it is still ours. */
  async release(token: string): Promise<void> {
    await this.scripts.gemwatchReleaseLock(this.keys.digestLock(), token);
  }

  /** Records the period being sent; false (and nothing written) when the lease is not ours. */
  async writePending(token: string, pending: PendingDigest): Promise<boolean> {
    return (await this.scripts.gemwatchDigestWritePending(this.keys.digestLock(), this.keys.digestPending(), token, JSON.stringify(pending))) === 1;
  }

  /** Marks the period done: last-end moves to its end, pending is cleared, the log gets a line. */
  async complete(token: string, entry: DigestLogEntry): Promise<boolean> {
    const result = await this.scripts.gemwatchDigestComplete(
      this.keys.digestLock(),
      this.keys.digestLastEnd(),
      this.keys.digestPending(),
      this.keys.digestLog(),
      token,
      String(entry.end),
      JSON.stringify(entry),
      String(this.logMax),
    );
    return result === 1;
  }

  /** The latest digests, newest first. */
  async recent(count = 10): Promise<DigestLogEntry[]> {
    const lines = await this.redis.lrange(this.keys.digestLog(), 0, Math.max(0, count - 1));
    return lines.flatMap((line) => {
      try {
        return [JSON.parse(line) as DigestLogEntry];
      } catch {
        return [];
      }
    });
  }
}

/** A pending record that cannot be read is a fault to report, not a period to guess. */
function parsePending(json: string): PendingDigest {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch (error) {
    throw new DigestStateError('the pending digest record in Redis is not JSON', { cause: error });
  }
  const record = value as Partial<PendingDigest> | null;
  if (
    !record ||
    typeof record.start !== 'number' ||
    typeof record.end !== 'number' ||
    !(record.end > record.start) ||
    !Array.isArray(record.done)
  ) {
    throw new DigestStateError('the pending digest record in Redis is malformed');
  }
  const pending: PendingDigest = {
    start: record.start,
    end: record.end,
    done: record.done.filter((item): item is string => typeof item === 'string'),
    force: record.force === true,
  };
  if (typeof record.failures === 'number') pending.failures = record.failures;
  if (typeof record.retryAt === 'number') pending.retryAt = record.retryAt;
  if (typeof record.failedAt === 'number') pending.failedAt = record.failedAt;
  if (typeof record.lastError === 'string') pending.lastError = record.lastError;
  return pending;
}
