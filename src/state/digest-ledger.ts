import type { RedisClient } from './connection.js';
import type { Keys } from './keys.js';
import { DigestStateError } from './digest-state-error.js';
import { withScripts, type ScriptCommands } from './scripts.js';

/**
 * The digest's state in Redis, shared by every replica (protocol: docs/architecture.md, "The digest"):
 * - `digest:last-end`: where the last period claimed ended; the next one starts there.
 * - `digest:open`: the periods claimed whose messages are not yet all queued, by end. A slot's task
 *   claims its period (lua/digest-claim-4.lua) before it reads or sends anything, so a crash leaves
 *   the exact period for the task's retry, or for the next slot's task, to finish.
 * - `digest:log`: the latest digests, for people and the status page; a channel that gives a period
 *   up is noted on its line (lua/digest-missed-1.lua).
 * Sending is not here: each channel's copy of a digest is a notify task (notify/task.ts), with the
 * delivery's lock, marker and retries.
 */

/** A digest period claimed for sending: [start, end), epoch ms. */
export interface OpenDigest {
  start: number;
  end: number;
  /** Sent even when empty (`digest --now`). */
  force: boolean;
}

/**
 * How a period ended: queued for its channels (`sent`), skipped because nothing happened, or given
 * up because every channel refused it until the next period was due.
 */
export type DigestOutcome = 'sent' | 'skipped-empty' | 'given-up';

/** One line of the digest log. */
export interface DigestLogEntry {
  start: number;
  end: number;
  outcome: DigestOutcome;
  /** Channels the digest was queued for. */
  channels: string[];
  /** Channels that refused the period until the next one was due; it was given up on them. */
  missed?: string[];
  /** Epoch ms it was queued (or skipped). */
  at: number;
  subject?: string;
}

/** What claiming a slot's period found. */
export type DigestClaim =
  | { kind: 'open'; period: OpenDigest }
  /** The last period ends at or after the slot: nothing to send. */
  | { kind: 'done' }
  /** The schedule has no start yet: a very first start catches nothing up. */
  | { kind: 'uninitialised' }
  /** A daemon from before the digest ran on the queue is sending; try again later. */
  | { kind: 'busy' };

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

  /** Where the last period claimed ended, if the schedule has started. */
  async lastEnd(): Promise<number | undefined> {
    const value = await this.redis.get(this.keys.digestLastEnd());
    return value !== null && Number.isFinite(Number(value)) ? Number(value) : undefined;
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

  /**
   * Claims the period from the last end to `end`, or finds the one claimed for `end` before.
   * `startIfNone` (digest --now) claims even before the schedule started, from that start; such a
   * period is sent even when empty.
   */
  async claim(end: number, startIfNone?: number): Promise<DigestClaim> {
    const force = startIfNone !== undefined;
    const reply = (await this.scripts.gemwatchDigestClaim(
      this.keys.digestLastEnd(),
      this.keys.digestOpen(),
      this.keys.digestLock(),
      this.keys.digestPending(),
      String(end),
      force ? '1' : '0',
      String(startIfNone ?? 0),
    )) as [string, string?];
    if (reply[0] === 'open') return { kind: 'open', period: parseOpen(reply[1]) };
    if (reply[0] === 'done' || reply[0] === 'uninitialised' || reply[0] === 'busy') return { kind: reply[0] };
    throw new DigestStateError(`the digest claim answered ${JSON.stringify(reply[0])}`);
  }

  /** Every period claimed and not yet closed, oldest first: a crash or a failed slot left them. */
  async open(): Promise<OpenDigest[]> {
    const records = await this.redis.hvals(this.keys.digestOpen());
    return records.map(parseOpen).sort((a, b) => a.end - b.end);
  }

  /** Closes a period: it leaves the open ones and the log gets its line. False if closed before. */
  async close(entry: DigestLogEntry): Promise<boolean> {
    const closed = await this.scripts.gemwatchDigestClose(this.keys.digestOpen(), this.keys.digestLog(), String(entry.end), JSON.stringify(entry), String(this.logMax));
    return closed === 1;
  }

  /** Notes on the period's log line that `channel` gave it up. */
  async missed(end: number, channel: string): Promise<void> {
    await this.scripts.gemwatchDigestMissed(this.keys.digestLog(), String(end), channel);
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

/** An open period that cannot be read is a fault to report, not a period to guess. */
function parseOpen(json: string | undefined): OpenDigest {
  let value: unknown;
  try {
    value = JSON.parse(json ?? '');
  } catch (error) {
    throw new DigestStateError('an open digest period in Redis is not JSON', { cause: error });
  }
  const record = value as Partial<OpenDigest> | null;
  if (!record || typeof record.start !== 'number' || typeof record.end !== 'number' || !(record.end > record.start)) {
    throw new DigestStateError('an open digest period in Redis is malformed');
  }
  return { start: record.start, end: record.end, force: record.force === true };
}
