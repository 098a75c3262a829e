import type { JobsOptions, Queue } from 'bullmq';
import type { DigestDeliveryState } from '../digest/run-digest.js';
import { notifySubject, notifyTaskId, type NotifyTaskData } from '../notify/task.js';

/**
 * A digest's notify tasks on the housekeeping queue (names.ts says why not the notify queue): how
 * they are added (one per channel, under ids that carry the period, with attempts to spare: a
 * digest's retries end when the next one is due, see notify/delivery.ts) and how
 * `gem-watch digest --now` watches them go out.
 */

/** Attempts of a digest's notify task: more than a week of the capped backoff allows. */
const DIGEST_ATTEMPTS = 100_000;

/** The bulk entries that queue a digest's notify tasks. */
export function digestJobs(tasks: readonly NotifyTaskData[], jobOptions: JobsOptions): Array<{ name: string; data: NotifyTaskData; opts: JobsOptions }> {
  return tasks.map((data) => ({ name: 'digest', data, opts: { ...jobOptions, attempts: DIGEST_ATTEMPTS, jobId: notifyTaskId(data) } }));
}

/**
 * Polls the tasks until each is delivered or failed for good, or `timeoutMs` passed; answers
 * where each stands. A task already gone from the queue (removed after completing) counts as delivered.
 */
export async function settleDigestTasks(queue: Queue<NotifyTaskData>, tasks: readonly NotifyTaskData[], timeoutMs: number, pollMs = 250): Promise<DigestDeliveryState[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const states = await Promise.all(
      tasks.map(async (task): Promise<DigestDeliveryState> => {
        const job = await queue.getJob(notifyTaskId(task));
        if (!job) return { channel: task.channel, state: 'delivered' };
        const state = await job.getState();
        if (state === 'completed') return { channel: task.channel, state: 'delivered' };
        if (state === 'failed') return { channel: task.channel, state: 'failed', error: job.failedReason || `${notifySubject(task)} failed` };
        return { channel: task.channel, state: 'waiting', ...(job.failedReason ? { error: job.failedReason } : {}) };
      }),
    );
    if (states.every((entry) => entry.state !== 'waiting') || Date.now() >= deadline) return states;
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}
