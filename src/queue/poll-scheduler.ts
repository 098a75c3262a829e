import type { Queue } from 'bullmq';
import cron, { type ScheduledTask } from 'node-cron';
import type { Logger } from '../telemetry/logger.js';
import { errorText } from '../telemetry/redact.js';
import { pollTaskId, type PollTaskData } from './names.js';

export interface PollSchedulerOptions {
  queue: Queue<PollTaskData>;
  jobTypes: readonly string[];
  /** node-cron expression; 6 fields allow seconds. */
  cron: string;
  /** How long finished poll tasks are kept, in seconds: a late replica must find the slot taken. */
  keepSec: number;
  logger: Logger;
}

/**
 * The shortest gap between two runs of a node-cron expression among its next `runs`, in
 * milliseconds: the time the detail fetches of one poll have before the next poll asks again.
 * The shortest, not the longest or the mean: a schedule whose busy hours poll every minute must
 * keep up within that minute, whatever its nights allow. Default 60 s if the schedule runs once.
 */
export function shortestCronGapMs(expression: string, runs = 64): number {
  const task = cron.createTask(expression, () => {}, { name: 'gem-watch-gap-probe' });
  try {
    const times = task.getNextRuns(runs).map((date) => date.getTime());
    let shortest = Number.POSITIVE_INFINITY;
    for (let i = 1; i < times.length; i++) shortest = Math.min(shortest, times[i]! - times[i - 1]!);
    return Number.isFinite(shortest) && shortest > 0 ? shortest : 60_000;
  } finally {
    void task.destroy();
  }
}

/**
 * The cron that drives polling. Every replica runs the same schedule; the task id is derived from the
 * scheduled slot (not the moment the timer fired) and the job type, so N replicas add one poll per
 * slot. With noOverlap a slow enqueue never stacks ticks, and missed ticks are logged, not replayed.
 */
export class PollScheduler {
  private task: ScheduledTask | undefined;

  constructor(private readonly options: PollSchedulerOptions) {}

  start(): void {
    const { logger } = this.options;
    const cronLogger = {
      info: (message: string) => logger.debug({ source: 'node-cron' }, message),
      warn: (message: string) => logger.warn({ source: 'node-cron' }, message),
      error: (message: string | Error, error?: Error) => logger.error({ source: 'node-cron', error: errorText(error ?? message) }, String(message)),
      debug: (message: string | Error) => logger.debug({ source: 'node-cron' }, String(message)),
    };
    this.task = cron.schedule(this.options.cron, (context) => this.tick(context.date), {
      name: 'gem-watch-poll',
      noOverlap: true,
      logger: cronLogger,
    });
    this.task.on('execution:missed', (context) => {
      logger.warn({ slot: context.date.toISOString() }, 'poll tick missed (process busy or clock jumped); not replayed');
    });
    this.task.on('execution:overlap', (context) => {
      logger.warn({ slot: context.date.toISOString() }, 'poll tick skipped: the previous one is still enqueuing');
    });
  }

  /** Adds this slot's poll tasks. Public so tests and `poll-once` can fire a slot by hand. */
  async tick(date: Date): Promise<void> {
    const slot = Math.floor(date.getTime() / 1000) * 1000;
    const keep = { age: this.options.keepSec };
    try {
      await this.options.queue.addBulk(
        this.options.jobTypes.map((jobType) => {
          const data: PollTaskData = { jobType, slot };
          return {
            name: 'poll',
            data,
            opts: {
              jobId: pollTaskId(data),
              attempts: 3,
              backoff: { type: 'exponential', delay: 2_000 },
              removeOnComplete: keep,
              removeOnFail: keep,
            },
          };
        }),
      );
    } catch (error) {
      // Redis away: this slot is lost for this replica; another replica or the next slot polls.
      this.options.logger.warn({ slot: new Date(slot).toISOString(), error: errorText(error) }, 'could not enqueue poll tasks');
    }
  }

  async stop(): Promise<void> {
    await this.task?.stop();
    await this.task?.destroy();
    this.task = undefined;
  }
}
