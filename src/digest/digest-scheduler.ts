import cron, { type ScheduledTask } from 'node-cron';
import type { DigestLedger } from '../state/digest-ledger.js';
import { silentLogger, type Logger } from '../telemetry/logger.js';
import { errorText } from '../telemetry/redact.js';
import { CronSlots } from './cron-slots.js';

/**
 * Puts each digest slot on the housekeeping queue: at every cron slot, and at start for a slot
 * missed while the daemon was down (except at the very first start, which only records where the
 * schedule begins). Every replica that runs the cron adds the same slot under the same task id
 * (queue/digest-queue.ts), so N replicas make one task; the task's work is DigestRunner's.
 *
 * A periodic check adds the latest slot again while its period is not claimed yet (an add that
 * failed with Redis away, a task that failed for good): the id makes it a no-op otherwise.
 */

export interface DigestSchedulerOptions {
  ledger: DigestLedger;
  /** node-cron expression (DIGEST_CRON), 5 fields or 6 with seconds. */
  cron: string;
  /** IANA time zone of the schedule (DIGEST_TIMEZONE). */
  timeZone: string;
  /** Adds the slot's task (deterministic id). */
  enqueueSlot(slot: number): Promise<void>;
  logger?: Logger;
  /** Epoch ms now. Default Date.now. */
  clock?: () => number;
  /** How often each replica checks for a slot whose task is missing, in ms. Default 1 minute. */
  checkEveryMs?: number;
}

export class DigestScheduler {
  private readonly slots: CronSlots;
  private readonly logger: Logger;
  private readonly clock: () => number;
  private task: ScheduledTask | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly options: DigestSchedulerOptions) {
    this.slots = new CronSlots(options.cron, options.timeZone);
    this.logger = options.logger ?? silentLogger();
    this.clock = options.clock ?? Date.now;
  }

  /** Catches up (or, on the very first start, records where the schedule starts), then arms the cron and the check. */
  async start(): Promise<void> {
    if (this.task) return;
    await this.check().catch((error: unknown) => this.logger.warn({ error: errorText(error) }, 'digest: could not check for a missed slot at start; checked again in a minute'));
    this.task = cron.schedule(this.options.cron, (context) => this.fire(context.date), {
      timezone: this.options.timeZone,
      name: 'gem-watch-digest',
    });
    this.timer = setInterval(() => {
      this.check().catch((error: unknown) => this.logger.warn({ error: errorText(error) }, 'digest: slot check failed; checked again in a minute'));
    }, this.options.checkEveryMs ?? 60_000);
    this.timer.unref();
  }

  /** Stops the cron and the check. */
  async stop(): Promise<void> {
    if (this.task) await this.task.destroy();
    this.task = undefined;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.slots.close();
  }

  /**
   * Adds the task of the latest slot at or before `now` when its period is not claimed yet. Before
   * the schedule has any start, sets it to that slot instead: nothing is caught up the first time.
   */
  async check(now: number = this.clock()): Promise<void> {
    const due = this.slots.latestAtOrBefore(now);
    if (due === undefined) return;
    const lastEnd = await this.options.ledger.lastEnd();
    if (lastEnd === undefined) {
      if (await this.options.ledger.initialise(due)) {
        this.logger.info({ from: new Date(due).toISOString() }, 'digest: first start, the first digest will cover the time from this slot');
      }
      return;
    }
    if (lastEnd < due) await this.options.enqueueSlot(due);
  }

  private fire(date: Date | undefined): void {
    // node-cron passes the slot it fires for; the clock may read a hair earlier or later.
    const slot = this.slots.latestAtOrBefore(Math.max(this.clock(), date?.getTime() ?? 0));
    if (slot === undefined) return;
    this.options.enqueueSlot(slot).catch((error: unknown) => {
      this.logger.warn({ error: errorText(error), slot: new Date(slot).toISOString() }, 'digest: could not queue the slot; the check adds it again within a minute');
    });
  }
}
