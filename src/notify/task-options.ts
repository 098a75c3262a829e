import type { BackoffStrategy, JobsOptions } from 'bullmq';
import { isRateLimited } from './errors.js';

/** The backoff `type` notify tasks carry; the Worker must get `notifyWorkerOptions().settings`. */
export const NOTIFY_BACKOFF_TYPE = 'gem-notify';

/** Fraction of a backoff delay taken off at random, so retries of one outage spread out. */
const BACKOFF_JITTER = 0.2;

export interface NotifyBackoffOptions {
  /** First retry delay in ms; doubles each attempt. Default config `notify.backoffMs` (1,000). */
  baseMs: number;
  /** Longest delay in ms. Default config `notify.maxBackoffMs` (300,000). */
  maxMs: number;
  /** Random source in [0, 1); default Math.random. */
  random?: () => number;
}

/**
 * The notify queue's backoff: capped exponential with jitter, base·2^(n−1) capped at `maxMs`, less
 * up to 20% at random (so never above the cap, and the first retry comes within `baseMs`). A
 * rate-limited failure waits at least the Retry-After the service sent (earlier would only burn
 * another attempt; `parseRetryAfter` caps it), but no less than the backoff either: a service that
 * answers 429 with `Retry-After: 1` for an hour would otherwise use up every attempt in a minute.
 */
export function notifyBackoffStrategy(options: NotifyBackoffOptions): BackoffStrategy {
  const random = options.random ?? Math.random;
  return (attemptsMade: number, _type?: string, error?: Error) => {
    const exponent = Math.max(0, attemptsMade - 1);
    const ceiling = Math.min(options.maxMs, options.baseMs * 2 ** Math.min(exponent, 40));
    const backoff = Math.max(1, Math.round(ceiling * (1 - BACKOFF_JITTER * random())));
    if (!isRateLimited(error)) return backoff;
    return Math.max(backoff, Math.ceil(error.retryAfterMs));
  };
}

/** What the notify tasks' options are read from; nested as the configuration's keys, so it is one. */
export interface NotifyTaskConfig {
  /** Delivery attempts per task (`notify.attempts`, default 30). */
  notify: { attempts: number };
  /** Days a failed task is kept (`retention.deliveriesDays`, default 30). */
  retention: { deliveriesDays: number };
}

/**
 * Options for every notify task `add`: attempts from config, our backoff, bounded history.
 * Completed tasks are kept a day but at most 1,000 (their deterministic ids turn a re-add into a
 * no-op; the delivered marker covers longer, so a re-add after they are gone sends nothing either);
 * failed ones for `retention.deliveriesDays`, for `notifications --failed`.
 */
export function notifyJobOptions(config: NotifyTaskConfig): JobsOptions {
  return {
    attempts: config.notify.attempts,
    backoff: { type: NOTIFY_BACKOFF_TYPE },
    // Each completed task keeps its whole transition (~1.9 KB): 10,000 of them were the largest
    // single use of Redis at 50,000 jobs (npm run bench); 1,000 is ~2 MB.
    removeOnComplete: { age: 86_400, count: 1_000 },
    removeOnFail: { age: Math.round(config.retention.deliveriesDays * 86_400), count: 10_000 },
    stackTraceLimit: 3,
  };
}
