import cron, { type ScheduledTask } from 'node-cron';
import type { RedisClient } from '../state/connection.js';
import type { DigestPeriod } from '../domain/digest.js';
import { silentLogger, type Logger } from '../telemetry/logger.js';
import { errorText } from '../telemetry/redact.js';
import type { Keys } from '../state/keys.js';
import { composeDigest } from './compose-digest.js';
import { CronSlots } from './cron-slots.js';
import { DigestLedger, type DigestOutcome, type PendingDigest } from '../state/digest-ledger.js';
import type { DigestSender } from './digest-sender.js';
import type { DigestSource } from './digest-source.js';

/**
 * Sends the digest on its cron schedule: exactly one per period across replicas and restarts, none
 * lost when a send fails or a replica dies mid-way. The protocol (lease, pending period, last end)
 * is described in docs/architecture.md ("The digest"); DigestLedger holds its Redis side.
 *
 * Periods run from where the last digest ended to the cron slot that is due, so a digest missed while
 * every replica was down covers everything since the last one sent (no gap, no overlap). `runDue`
 * is what the cron calls; it takes `now`, so tests drive the schedule without waiting on the clock.
 */

export interface DigestSchedulerOptions {
  redis: RedisClient;
  keys: Keys;
  source: DigestSource;
  sender: DigestSender;
  /** node-cron expression (DIGEST_CRON), 5 fields or 6 with seconds. */
  cron: string;
  /** IANA time zone of the schedule and of the dates in the digest (DIGEST_TIMEZONE). */
  timeZone: string;
  /** E-mail recipients; empty = no e-mail. */
  to: readonly string[];
  /** Also post the Slack summary through `sender.sendSlack`. Default false. */
  slack?: boolean;
  /** Send a "nothing happened" digest for an empty period (digest.sendEmpty). Default false. */
  sendEmpty?: boolean;
  /** A running job without progress this long is shown as stalled, in ms. Default 1 hour. */
  stalledAfterMs?: number;
  logger?: Logger;
  /** Epoch ms now. Default Date.now. */
  clock?: () => number;
  /**
   * Lease on sending, in ms; renewed before each send. A replica that dies holding it blocks the
   * others this long at most. Must exceed the longest single send (SMTP timeouts are 10 s + 30 s).
   * Default 10 minutes.
   */
  lockLeaseMs?: number;
  /**
   * How often each replica checks for a digest due but not sent (a failed send, a replica that
   * died holding the lease), in ms. Default 1 minute.
   */
  checkEveryMs?: number;
  /** First delay before any replica retries a failed send, in ms; doubles per failure. Default 1 minute. */
  retryMinMs?: number;
  /** Longest delay between retries of a failed send, in ms. Default 30 minutes. */
  retryMaxMs?: number;
}

/** One digest finished: sent on its channels, skipped because nothing happened, or given up. */
export interface DigestDone {
  period: DigestPeriod;
  outcome: DigestOutcome;
  channels: string[];
  /** Channels it was given up on: they refused it until the next period was due. */
  missed?: string[];
  subject: string;
}

export type DigestRunResult =
  /** Nothing was due. */
  | { kind: 'idle' }
  /** The very first run: the schedule starts at `from`; nothing is caught up. */
  | { kind: 'initialised'; from: number }
  /** Another replica holds the lease (or took it over mid-way); it does the work. */
  | { kind: 'busy'; digests: DigestDone[] }
  /** Every due digest is done. */
  | { kind: 'done'; digests: DigestDone[] }
  /** A send (or Redis) failed; the period stays pending and is retried. */
  | { kind: 'failed'; error: string; channel?: string; digests: DigestDone[] };

type Channel = 'email' | 'slack';

/** Longest a digest waits for Redis's clock to pass its period's end (see untilServerPasses), in ms. */
const MAX_CLOCK_WAIT_MS = 10_000;

/** What a run is at, for the failure record: the period and the channel being sent. */
interface DeliveryState {
  period?: PendingDigest;
  channel?: Channel;
}

export class DigestScheduler {
  private readonly slots: CronSlots;
  private readonly ledger: DigestLedger;
  private readonly logger: Logger;
  private readonly clock: () => number;
  private readonly channels: Channel[];
  private readonly leaseMs: number;
  private readonly checkEveryMs: number;
  private readonly retryMinMs: number;
  private readonly retryMaxMs: number;
  private task: ScheduledTask | undefined;
  private timer: NodeJS.Timeout | undefined;
  /** Runs of this process, one after another: the cron and the check never overlap here. */
  private chain: Promise<unknown> = Promise.resolve();
  private failures = 0;
  private retryAt = 0;

  constructor(private readonly options: DigestSchedulerOptions) {
    this.slots = new CronSlots(options.cron, options.timeZone);
    this.ledger = new DigestLedger(options.redis, options.keys);
    this.logger = options.logger ?? silentLogger();
    this.clock = options.clock ?? Date.now;
    this.channels = [];
    if (options.to.length > 0) this.channels.push('email');
    if (options.slack) {
      if (!options.sender.sendSlack) throw new Error('digest: Slack is asked for but the sender cannot post to Slack');
      this.channels.push('slack');
    }
    if (this.channels.length === 0) {
      throw new Error('digest: no destination (digest.to and email.to are empty and digest.slackWebhook is not set)');
    }
    this.leaseMs = options.lockLeaseMs ?? 600_000;
    this.checkEveryMs = options.checkEveryMs ?? 60_000;
    this.retryMinMs = options.retryMinMs ?? 60_000;
    this.retryMaxMs = options.retryMaxMs ?? 1_800_000;
  }

  /** The Redis side, for the status page and tools. */
  get state(): DigestLedger {
    return this.ledger;
  }

  /**
   * Catches up (sends a digest missed while the daemon was down, or, on the very first start,
   * only records where the schedule starts), then arms the cron and the periodic check.
   */
  async start(): Promise<DigestRunResult | undefined> {
    if (this.task) return undefined;
    let result: DigestRunResult | undefined;
    try {
      result = await this.runDue();
      this.settle(result);
    } catch (error) {
      this.settleError(error);
    }
    this.task = cron.schedule(this.options.cron, (context) => this.fire(context.date), {
      timezone: this.options.timeZone,
      name: 'gem-watch-digest',
    });
    this.timer = setInterval(() => this.check(), this.checkEveryMs);
    this.timer.unref();
    return result;
  }

  /** Stops the cron and the check, and waits for a run in progress. */
  async stop(): Promise<void> {
    if (this.task) await this.task.destroy();
    this.task = undefined;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.chain.catch(() => undefined);
    this.slots.close();
  }

  /**
   * Sends every digest due at `now` (epoch ms): the period from the last digest's end to the latest
   * cron slot at or before `now`. Safe to call from every replica at any time: it sends nothing
   * twice. The cron calls it at each slot; the periodic check calls it to retry.
   */
  runDue(now: number = this.clock()): Promise<DigestRunResult> {
    return this.serial(() => this.runDueAt(now));
  }

  /**
   * Sends the next digest now (`gem-watch digest --now`): the period from the last digest's end (or,
   * if none was ever sent, the latest cron slot before now) to `now`, even if empty. The scheduled
   * digest that follows starts at `now`.
   */
  sendNow(now: number = this.clock()): Promise<DigestRunResult> {
    return this.serial(() => this.work(now, now, 'now'));
  }

  /** Where the next digest starts: the last one's end, else the latest slot before `now`. */
  async nextStart(now: number): Promise<number> {
    const { lastEnd, pending } = await this.ledger.read();
    return pending?.start ?? lastEnd ?? this.defaultStart(now);
  }

  private serial<T>(run: () => Promise<T>): Promise<T> {
    const next = this.chain.then(run, run);
    this.chain = next.catch(() => undefined);
    return next;
  }

  private defaultStart(now: number): number {
    return this.slots.latestAtOrBefore(now - 1) ?? now - 86_400_000;
  }

  private async runDueAt(now: number): Promise<DigestRunResult> {
    const due = this.slots.latestAtOrBefore(now);
    const { lastEnd, pending } = await this.ledger.read();
    if (lastEnd === undefined && !pending) {
      // Never sent anything: the schedule starts at the latest slot, and nothing is caught up.
      if (due === undefined) return { kind: 'idle' };
      if (await this.ledger.initialise(due)) {
        this.logger.info({ from: new Date(due).toISOString() }, 'digest: first start, the first digest will cover the time from this slot');
      }
      return { kind: 'initialised', from: due };
    }
    if (pending) {
      // A failed send backs off for every replica alike; a new slot does not wait for it, once: a
      // failure after the slot backs off again.
      const newSlot = due !== undefined && due > pending.end && (pending.failedAt ?? Number.NEGATIVE_INFINITY) < due;
      if (pending.retryAt !== undefined && now < pending.retryAt && !newSlot) return { kind: 'idle' };
      return this.work(now, Math.max(due ?? 0, pending.end), 'due');
    }
    if (due === undefined || lastEnd === undefined || lastEnd >= due) return { kind: 'idle' };
    return this.work(now, due, 'due');
  }

  /**
   * Under the lease: finish a pending period if there is one, then send periods until `target`.
   * Returns `busy` when another replica holds the lease or took it over.
   */
  private async work(now: number, target: number, mode: 'due' | 'now'): Promise<DigestRunResult> {
    const token = await this.ledger.acquire(target, this.leaseMs);
    if (!token) return { kind: 'busy', digests: [] };
    const digests: DigestDone[] = [];
    const state: DeliveryState = {};
    try {
      for (;;) {
        const { lastEnd, pending } = await this.ledger.read();
        let period: PendingDigest;
        if (pending) {
          period = pending;
        } else {
          const start = lastEnd ?? (mode === 'now' ? this.defaultStart(now) : undefined);
          if (start === undefined || start >= target) break;
          period = { start, end: target, done: [], force: mode === 'now' };
          // Written before the first send: from here on, a crash leaves this exact period to finish.
          if (!(await this.ledger.writePending(token, period))) return { kind: 'busy', digests };
        }
        // A period still refused when the next one is due gets this last try, then is given up on
        // the channels that refuse it: one broken channel must not hold back every later digest on
        // every channel.
        // Only when a slot is due: `digest --now` retries a failing period, it does not give it up.
        const lastTry = mode === 'due' && (period.failures ?? 0) > 0 && target > period.end;
        const done = await this.deliver(token, period, now, state, lastTry);
        if (!done) return { kind: 'busy', digests };
        digests.push(done);
        // Completed: a failure from here on must not write this period back as pending.
        state.period = undefined;
        if (period.end >= target) break;
      }
      return digests.length > 0 ? { kind: 'done', digests } : { kind: 'idle' };
    } catch (error) {
      const result: DigestRunResult = { kind: 'failed', error: errorText(error), digests };
      if (state.channel) result.channel = state.channel;
      if (state.period) await this.recordFailure(token, state.period, result.error, now);
      return result;
    } finally {
      await this.ledger.release(token).catch((error: unknown) => {
        this.logger.warn({ error: errorText(error) }, 'digest: could not release the lease; it expires by itself');
      });
    }
  }

  /**
   * Keeps the failure in the pending record, with the time before which no replica retries: the
   * backoff is shared, so N replicas do not each hammer a broken SMTP server.
   */
  private async recordFailure(token: string, period: PendingDigest, error: string, now: number): Promise<void> {
    const failures = (period.failures ?? 0) + 1;
    const delay = Math.min(this.retryMaxMs, this.retryMinMs * 2 ** Math.min(30, failures - 1));
    const record: PendingDigest = { ...period, failures, retryAt: now + delay, failedAt: now, lastError: error.slice(0, 500) };
    await this.ledger.writePending(token, record).catch((writeError: unknown) => {
      this.logger.warn({ error: errorText(writeError) }, 'digest: could not record the failure; retried on the next check');
    });
  }

  /**
   * Sends one period on every channel not yet done, each whatever the others did, then completes
   * it. A channel that refuses it fails the run (the period stays pending), unless this is the
   * period's `lastTry`: then it is given up on that channel. Undefined if the lease was lost.
   */
  private async deliver(token: string, period: PendingDigest, now: number, state: DeliveryState, lastTry: boolean): Promise<DigestDone | undefined> {
    state.period = period;
    const range = { start: period.start, end: period.end };
    await this.untilServerPasses(period.end);
    const composed = await composeDigest({
      source: this.options.source,
      period: range,
      timeZone: this.options.timeZone,
      now,
      stalledAfterMs: this.options.stalledAfterMs,
    });
    const skip = composed.model.isEmpty && !this.options.sendEmpty && !period.force && period.done.length === 0;
    let current = period;
    const refused: Array<{ channel: Channel; error: unknown }> = [];
    if (!skip) {
      for (const channel of this.channels) {
        if (current.done.includes(channel)) continue;
        if (!(await this.ledger.extend(token, this.leaseMs))) return undefined;
        try {
          if (channel === 'email') {
            await this.options.sender.sendEmail({ to: [...this.options.to], ...composed.email });
          } else {
            await this.options.sender.sendSlack!(composed.slack);
          }
        } catch (error) {
          refused.push({ channel, error });
          continue;
        }
        current = { ...current, done: [...current.done, channel] };
        state.period = current;
        // A crash before this line sends this channel again: at least once, never lost.
        if (!(await this.ledger.writePending(token, current))) {
          this.logger.warn({ channel }, 'digest: the lease was lost while sending; the replica that took it over finishes the period');
          return undefined;
        }
      }
    }
    if (refused.length > 0 && !lastTry) {
      state.channel = refused[0]!.channel;
      if (refused.length === 1) throw refused[0]!.error;
      throw new Error(refused.map(({ channel, error }) => `${channel}: ${errorText(error)}`).join('; '));
    }
    const missed = refused.map(({ channel }) => channel);
    const outcome: DigestOutcome = skip ? 'skipped-empty' : current.done.length > 0 ? 'sent' : 'given-up';
    const done: DigestDone = {
      period: range,
      outcome,
      channels: skip ? [] : [...current.done],
      ...(missed.length > 0 ? { missed } : {}),
      subject: composed.email.subject,
    };
    const entry = { ...range, outcome, channels: done.channels, ...(done.missed ? { missed: done.missed } : {}), at: this.clock(), subject: done.subject };
    if (!(await this.ledger.complete(token, entry))) return undefined;
    const about = { start: new Date(range.start).toISOString(), end: new Date(range.end).toISOString(), outcome, channels: done.channels };
    for (const { channel, error } of refused) {
      this.logger.error(
        { ...about, channel, error: errorText(error), failures: (period.failures ?? 0) + 1 },
        `digest: ${channel} refused the period until the next one was due; given up on ${channel}, so later digests go out`,
      );
    }
    if (refused.length === 0) this.logger.info(about, skip ? 'digest: nothing happened in the period, skipped' : 'digest: sent');
    return done;
  }

  /**
   * Waits until Redis's clock has passed `end`. A period's transitions are picked by stream id,
   * which is Redis's clock: a replica whose clock runs ahead would otherwise read them while a
   * transition recorded just before the end can still arrive, and it would be in neither digest.
   */
  private async untilServerPasses(end: number): Promise<void> {
    const ahead = end - (await this.ledger.serverTime());
    if (ahead <= 0) return;
    if (ahead > MAX_CLOCK_WAIT_MS) {
      this.logger.warn({ aheadMs: ahead }, "digest: this replica's clock runs ahead of Redis's; waited as long as it may; a transition recorded in the last moments of the period may be missing from its digest");
    }
    await new Promise((resolve) => setTimeout(resolve, Math.min(ahead + 1, MAX_CLOCK_WAIT_MS)));
  }

  private fire(date: Date | undefined): void {
    // node-cron passes the slot it fires for; the clock may read a hair earlier or later.
    const now = Math.max(this.clock(), date?.getTime() ?? 0);
    this.runDue(now).then(
      (result) => this.settle(result),
      (error: unknown) => this.settleError(error),
    );
  }

  private check(): void {
    if (this.clock() < this.retryAt) return;
    this.runDue().then(
      (result) => this.settle(result),
      (error: unknown) => this.settleError(error),
    );
  }

  private settle(result: DigestRunResult): void {
    this.failures = 0;
    this.retryAt = 0;
    if (result.kind === 'failed') {
      // The backoff of a failed send lives in the pending record, shared by every replica.
      this.logger.warn({ channel: result.channel, error: result.error }, 'digest: sending failed; the period stays pending and is retried');
    }
  }

  /** Redis itself failed (no pending record to hold a backoff): this replica backs off on its own. */
  private settleError(error: unknown): void {
    this.failures += 1;
    const delay = Math.min(this.retryMaxMs, this.retryMinMs * 2 ** Math.min(30, this.failures - 1));
    this.retryAt = this.clock() + delay;
    this.logger.warn({ error: errorText(error), retryAt: new Date(this.retryAt).toISOString() }, 'digest: run failed; retried later');
  }
}
