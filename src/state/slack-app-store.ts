import type { RedisClient } from './connection.js';
import { execReplies, takeLockWith } from './holder-lock.js';
import type { Keys } from './keys.js';
import { withScripts, type ScriptCommands } from './scripts.js';

/**
 * Slack app mode's state: where each job's one message is (`channel` id + `ts` per Slack channel
 * and job), what it shows, and which thread replies went out; and a per-job lock, so that the
 * first event's delivery posts and stores the `ts` before a later event's delivery, on any replica,
 * reads it to update. Protocol and crash window: docs/architecture.md, "Slack app mode".
 */

/** Where a job's message is and what it shows. */
export interface SlackAppRef {
  /** Channel id Slack answered (chat.update needs the id, not a name). */
  channel: string;
  /** The message's ts: its id in the channel. */
  ts: string;
  /** Status version of the content shown. */
  version: number;
  /** Epoch ms of the content shown (detection or progress sample), to order updates of one version. */
  at: number;
  /** Run of the job id (GEM reuses ids); 0 for the first. */
  gen: number;
  /** Reply ids already posted in the thread. */
  replies: ReadonlySet<string>;
}

/** The job's lock, taken with the ref read under it, or busy. */
export type SlackAppClaim = { locked: true; ref: SlackAppRef | undefined } | { locked: false; ttlMs: number };

export class SlackAppStore {
  private readonly scripts: ScriptCommands;

  constructor(
    private readonly redis: RedisClient,
    private readonly keys: Keys,
    /** How long a ref is kept after its last write, ms (retention.deliveriesDays). */
    private readonly retentionMs: number,
  ) {
    this.scripts = withScripts(redis);
  }

  /**
   * Takes the job's lock as `holder` for `ttlMs` and reads its ref in the same round trip, behind
   * the lock on one connection: a holder stores its ref before releasing, so once the lock is
   * ours the read sees whatever an earlier holder stored.
   */
  async claim(target: string, jobId: string, holder: string, ttlMs: number): Promise<SlackAppClaim> {
    const lock = await takeLockWith(this.redis, this.keys.slackAppLock(target, jobId), holder, ttlMs, this.redis.hgetall(this.keys.slackAppMessage(target, jobId)));
    return lock.locked ? { locked: true, ref: refOf(lock.value) } : lock;
  }

  /** Stores where the job's message is and what it shows now (a post or an update). */
  async save(target: string, jobId: string, ref: Omit<SlackAppRef, 'replies'>): Promise<void> {
    const key = this.keys.slackAppMessage(target, jobId);
    await this.redis.multi().hset(key, fieldsOf(ref)).pexpire(key, this.retentionMs).exec().then(execReplies);
  }

  /** A fresh message replaced the old one (posted anew): the old thread's replies no longer count. */
  async replace(target: string, jobId: string, ref: Omit<SlackAppRef, 'replies'>): Promise<void> {
    const key = this.keys.slackAppMessage(target, jobId);
    await this.redis.multi().del(key).hset(key, fieldsOf(ref)).pexpire(key, this.retentionMs).exec().then(execReplies);
  }

  /** Records that the thread reply `replyId` went out under the message. */
  async saveReply(target: string, jobId: string, replyId: string): Promise<void> {
    await this.redis.hset(this.keys.slackAppMessage(target, jobId), `reply:${replyId}`, String(Date.now()));
  }

  /** Releases the job's lock if `holder` still owns it (lua/release-lock-1.lua). */
  async release(target: string, jobId: string, holder: string): Promise<void> {
    await this.scripts.gemwatchReleaseLock(this.keys.slackAppLock(target, jobId), holder);
  }

  /** The job's ref, unlocked (tests, the demo). */
  async read(target: string, jobId: string): Promise<SlackAppRef | undefined> {
    return refOf(await this.redis.hgetall(this.keys.slackAppMessage(target, jobId)));
  }

  /**
   * Takes a progress-update slot for the job (at most one per `everyMs`) and one of the workspace's
   * (`perMinute` a minute across replicas). True when the update may go now.
   */
  async takeProgressSlot(target: string, jobId: string, everyMs: number, perMinute: number, nowMs: number): Promise<boolean> {
    const jobKey = this.keys.slackAppProgress(target, jobId);
    const taken = await this.redis.set(jobKey, String(nowMs), 'PX', Math.max(1, Math.round(everyMs)), 'NX');
    if (taken !== 'OK') return false;
    const minuteKey = this.keys.slackAppProgressBudget(Math.floor(nowMs / 60_000));
    const [[, count]] = (await this.redis.multi().incr(minuteKey).pexpire(minuteKey, 120_000).exec().then(execReplies)) as [[null, number]];
    if (count <= perMinute) return true;
    // Over the workspace budget: give the job's slot back so the next sample may try again.
    await this.redis.del(jobKey);
    return false;
  }
}

function fieldsOf(ref: Omit<SlackAppRef, 'replies'>): Record<string, string> {
  return { channel: ref.channel, ts: ref.ts, version: String(ref.version), at: String(ref.at), gen: String(ref.gen) };
}

function refOf(fields: Record<string, string>): SlackAppRef | undefined {
  const { channel, ts } = fields;
  if (!channel || !ts) return undefined;
  const replies = new Set(Object.keys(fields).filter((name) => name.startsWith('reply:')).map((name) => name.slice('reply:'.length)));
  const number = (text: string | undefined) => (Number.isFinite(Number(text)) ? Number(text) : 0);
  return { channel, ts, version: number(fields.version), at: number(fields.at), gen: number(fields.gen), replies };
}
