import { Queue, Worker } from 'bullmq';
import { Redis as IORedis, type Redis } from 'ioredis';
import type { Config } from '../src/config/schema.js';
import type { DigestDeliveryState } from '../src/digest/run-digest.js';
import type { DigestTrackedJob } from '../src/domain/digest.js';
import type { Transition } from '../src/domain/transition.js';
import type { DigestSource } from '../src/digest/digest-source.js';
import { createNotifiers } from '../src/notify/registry.js';
import type { NotifyTaskData } from '../src/notify/task.js';
import { digestJobs, settleDigestTasks } from '../src/queue/digest-queue.js';
import { QUEUE_NAMES } from '../src/queue/names.js';
import { createNotifyStage } from '../src/queue/notify-processor.js';
import { queueOptions } from '../src/queue/queue-options.js';
import { Keys } from '../src/state/keys.js';
import { Metrics } from '../src/telemetry/metrics.js';
import { capturedLogger } from './helpers/notify-config.js';
import { waitFor } from './helpers/pipeline.js';

/**
 * Shared by the digest's Redis tests: the transition stream written in the state store's format,
 * a DigestSource reading it back, and the notify queue and worker that deliver a digest's tasks to
 * the in-process SMTP and Slack sinks.
 */

/** Appends a transition as the state store does: stream id = detection ms, JSON in field `t`. */
export async function addTransition(redis: Redis, keys: Keys, transition: Transition): Promise<void> {
  await redis.xadd(keys.transitions(), `${transition.detectedAt}-*`, 't', JSON.stringify(transition));
}

/**
 * A DigestSource over the real stream (XRANGE, both bounds inclusive, as the state store reads it)
 * and a list of tracked jobs the test sets.
 */
export function streamSource(redis: Redis, keys: Keys, tracked: () => DigestTrackedJob[] = () => []): DigestSource & { reads: Array<[number, number]> } {
  const reads: Array<[number, number]> = [];
  return {
    reads,
    async readTransitions(fromMs, toMs) {
      reads.push([fromMs, toMs]);
      const entries = await redis.xrange(keys.transitions(), String(Math.max(0, fromMs)), String(toMs));
      return entries.map(([, fields]) => JSON.parse(fields[fields.indexOf('t') + 1]!) as Transition);
    },
    async listTracked() {
      return tracked();
    },
  };
}

/** A digest's deliveries over a real queue and worker running the notify stages, as the daemon runs them. */
export interface DigestDelivery {
  /** The housekeeping queue the deliveries are on. */
  notifyQueue: Queue<NotifyTaskData>;
  /** Adds the tasks as the daemon does (queue/digest-queue.ts). */
  enqueue(tasks: NotifyTaskData[]): Promise<void>;
  /** Waits for the tasks, at most `timeoutMs`; where each stands. */
  settle(tasks: NotifyTaskData[], timeoutMs?: number): Promise<DigestDeliveryState[]>;
  /** Waits until no notify task is waiting, running or delayed. */
  drained(): Promise<void>;
  close(): Promise<void>;
}

/**
 * The notify side of a replica: a BullMQ notify queue and worker on `redisUrl` running the real
 * delivery stages with the configuration's channels (e-mail, Slack), the clock of the test deciding
 * when a digest's retries end.
 */
export function digestDelivery(redisUrl: string, config: Config, clock: () => number): DigestDelivery {
  const { logger } = capturedLogger('warn');
  const connections: Redis[] = [];
  const connect = (blocking: boolean) => {
    const connection = new IORedis(redisUrl, blocking ? { maxRetriesPerRequest: null } : {});
    connection.on('error', () => {});
    connections.push(connection);
    return connection;
  };
  const prefix = config.redis.prefix;
  const notifiers = createNotifiers(config, logger);
  // As in the pipeline: a digest's deliveries are notify tasks on the housekeeping queue.
  const notifyQueue = new Queue<NotifyTaskData>(QUEUE_NAMES.housekeeping, queueOptions(connect(false), prefix));
  const stage = createNotifyStage({ config, logger, metrics: new Metrics(), notifiers, now: clock })({ redis: connect(false), keys: new Keys(prefix), notifyQueue });
  const worker = new Worker<NotifyTaskData>(QUEUE_NAMES.housekeeping, stage.processor, { ...stage.workerOptions, connection: connect(true), prefix });
  return {
    notifyQueue,
    async enqueue(tasks) {
      await notifyQueue.addBulk(digestJobs(tasks, stage.jobOptions));
    },
    settle: (tasks, timeoutMs = 20_000) => settleDigestTasks(notifyQueue, tasks, timeoutMs),
    drained: () =>
      waitFor(async () => {
        const counts = await notifyQueue.getJobCounts('waiting', 'active', 'delayed', 'prioritized');
        return Object.values(counts).every((count) => count === 0);
      }, 'the notify queue to drain'),
    async close() {
      await worker.close();
      await notifyQueue.close();
      await notifiers.close();
      for (const connection of connections) connection.disconnect();
    },
  };
}
