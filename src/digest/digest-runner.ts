import type { DigestPeriod } from '../domain/digest.js';
import type { NotifyTaskData } from '../notify/task.js';
import { silentLogger, type Logger } from '../telemetry/logger.js';
import { digestSubject } from '../templates/digest-format.js';
import type { DigestLedger, DigestOutcome, OpenDigest } from '../state/digest-ledger.js';
import { readDigest } from './compose-digest.js';
import { CronSlots } from './cron-slots.js';
import type { DigestSettings } from './digest-config.js';
import type { DigestSource } from './digest-source.js';

/**
 * The work of one digest slot, as the housekeeping queue runs it (protocol: docs/architecture.md,
 * "The digest"): claim the period from the last digest's end to the slot, read it once, and queue
 * one notify task per channel, each with the digest's model and a deterministic id; then close the
 * period. Sending, retrying and recording belong to the notify stages like any other message.
 *
 * Every step may be repeated after a crash: the claim finds the period claimed before, the tasks'
 * ids make a second add a no-op (and their delivered markers a second send), and closing twice
 * closes once. Periods a crash or a failed slot left open are finished first, oldest first.
 */

export interface DigestRunnerOptions {
  ledger: DigestLedger;
  source: DigestSource;
  settings: Pick<DigestSettings, 'cron' | 'timeZone' | 'sendEmpty' | 'stalledAfterMs' | 'destinations'>;
  /** Adds notify tasks under their deterministic ids (queue/digest-queue.ts). */
  enqueue(tasks: NotifyTaskData[]): Promise<void>;
  logger?: Logger;
  /** Epoch ms now. Default Date.now. */
  clock?: () => number;
  /** Waits `ms` (the wait for Redis's clock to pass a period's end). Default a timer. */
  sleep?: (ms: number) => Promise<void>;
}

/** One period dealt with. */
export interface DigestDone {
  period: DigestPeriod;
  outcome: DigestOutcome;
  /** Channels it was queued for (`sent`). */
  channels: string[];
  subject: string;
}

export type DigestRunResult =
  /** Nothing was due: the last period already ends at or after the slot. */
  | { kind: 'idle'; digests: DigestDone[] }
  /** The very first run: the schedule starts at `from`; nothing is caught up. */
  | { kind: 'initialised'; from: number; digests: DigestDone[] }
  /** Periods queued or skipped. */
  | { kind: 'done'; digests: DigestDone[] };

/** Longest a digest waits for Redis's clock to pass its period's end (see untilServerPasses), in ms. */
const MAX_CLOCK_WAIT_MS = 10_000;

/**
 * Thrown while a daemon from before the digest ran on the queue holds its digest lease: the slot's
 * task is retried by the queue, and the older daemon sends the period meanwhile.
 */
export class DigestBusyError extends Error {
  override readonly name = 'DigestBusyError';
}

export class DigestRunner {
  private readonly slots: CronSlots;
  private readonly logger: Logger;
  private readonly clock: () => number;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(private readonly options: DigestRunnerOptions) {
    if (options.settings.destinations.length === 0) {
      throw new Error('digest: no destination (digest.to and email.to are empty and digest.slackWebhook is not set)');
    }
    this.slots = new CronSlots(options.settings.cron, options.settings.timeZone);
    this.logger = options.logger ?? silentLogger();
    this.clock = options.clock ?? Date.now;
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
  }

  /** Runs the slot's task: open periods first, then the period ending at `slot`. */
  async runSlot(slot: number): Promise<DigestRunResult> {
    const digests = await this.finishOpen();
    const claim = await this.options.ledger.claim(slot);
    switch (claim.kind) {
      case 'open':
        digests.push(await this.queuePeriod(claim.period));
        return { kind: 'done', digests };
      case 'busy':
        throw new DigestBusyError('a gem-watch from before the digest ran on the queue is sending a digest; this slot is retried');
      case 'uninitialised':
        // A task that ran before any replica's start set the schedule's start: it starts here.
        if (await this.options.ledger.initialise(slot)) {
          this.logger.info({ from: new Date(slot).toISOString() }, 'digest: first start, the first digest will cover the time from this slot');
        }
        return { kind: 'initialised', from: slot, digests };
      default:
        return digests.length > 0 ? { kind: 'done', digests } : { kind: 'idle', digests };
    }
  }

  /**
   * `gem-watch digest --now`: claims the period from the last digest's end (or, before the first,
   * from the latest slot) to `now` and queues it, sent even when empty. The next scheduled digest
   * starts at `now`.
   */
  async sendNow(now: number = this.clock()): Promise<DigestRunResult> {
    const digests = await this.finishOpen();
    const start = this.slots.latestAtOrBefore(now - 1) ?? now - 86_400_000;
    const claim = await this.options.ledger.claim(now, start);
    if (claim.kind === 'busy') throw new DigestBusyError('a gem-watch from before the digest ran on the queue is sending a digest; try again in a minute');
    if (claim.kind === 'open') digests.push(await this.queuePeriod({ ...claim.period, force: true }));
    return digests.length > 0 ? { kind: 'done', digests } : { kind: 'idle', digests };
  }

  /** Where the next digest starts: the last one's end, else the latest slot before `now`. */
  async nextStart(now: number): Promise<number> {
    return (await this.options.ledger.lastEnd()) ?? this.slots.latestAtOrBefore(now - 1) ?? now - 86_400_000;
  }

  /** Releases the cron matcher. */
  close(): void {
    this.slots.close();
  }

  private async finishOpen(): Promise<DigestDone[]> {
    const done: DigestDone[] = [];
    for (const period of await this.options.ledger.open()) done.push(await this.queuePeriod(period));
    return done;
  }

  /** Reads one claimed period, queues its notify tasks (or skips it as empty) and closes it. */
  private async queuePeriod(period: OpenDigest): Promise<DigestDone> {
    const { settings } = this.options;
    const range = { start: period.start, end: period.end };
    await this.untilServerPasses(period.end);
    const now = this.clock();
    const model = await readDigest({ source: this.options.source, period: range, timeZone: settings.timeZone, now, stalledAfterMs: settings.stalledAfterMs });
    const skip = model.isEmpty && !settings.sendEmpty && !period.force;
    const subject = digestSubject(model);
    // A channel still refusing the period when the next one is due gives it up (notify/delivery.ts).
    const giveUpAt = this.slots.nextAfter(period.end) ?? period.end + 86_400_000;
    const destinations = skip ? [] : settings.destinations;
    if (destinations.length > 0) {
      await this.options.enqueue(destinations.map((destination) => ({ ...destination, digest: { model, giveUpAt } })));
    }
    const outcome: DigestOutcome = skip ? 'skipped-empty' : 'sent';
    const channels = destinations.map((destination) => destination.channel);
    const closed = await this.options.ledger.close({ ...range, outcome, channels, at: now, subject });
    const about = { start: new Date(range.start).toISOString(), end: new Date(range.end).toISOString(), outcome, channels };
    if (closed) this.logger.info(about, skip ? 'digest: nothing happened in the period, skipped' : 'digest: queued for its channels');
    return { period: range, outcome, channels, subject };
  }

  /**
   * Waits until Redis's clock has passed `end`. A period's transitions are picked by stream id,
   * which is Redis's clock: a replica whose clock runs ahead would otherwise read them while a
   * transition recorded just before the end can still arrive, and it would be in neither digest.
   */
  private async untilServerPasses(end: number): Promise<void> {
    const ahead = end - (await this.options.ledger.serverTime());
    if (ahead <= 0) return;
    if (ahead > MAX_CLOCK_WAIT_MS) {
      this.logger.warn({ aheadMs: ahead }, "digest: this replica's clock runs ahead of Redis's; waited as long as it may; a transition recorded in the last moments of the period may be missing from its digest");
    }
    await this.sleep(Math.min(ahead + 1, MAX_CLOCK_WAIT_MS));
  }
}
