import { randomUUID } from 'node:crypto';
import { DelayedError, UnrecoverableError, type BackoffStrategy, type Job, type JobsOptions, type Processor, type WorkerOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import type { CoveredMember, PolicyDecision } from '../alerts/delivery-policy.js';
import type { Config } from '../config/schema.js';
import { DELIVERED_UNMARKED, DeliveryError, isDeliveryError, isRateLimited, type DeliveryFailureReason } from '../notify/errors.js';
import { timeZoneFor, type NotificationContent, type Notifier } from '../notify/notifier.js';
import type { Logger } from '../telemetry/logger.js';
import { errorText, scrub } from '../telemetry/redact.js';
import { DeliveryMarks } from '../state/delivery-marks.js';
import type { Keys } from '../state/keys.js';
import { RateGate } from '../state/rate-gate.js';
import { notifySubject, notifyTaskId, type NotifyTaskData } from './names.js';

/**
 * The notify queue's processor: one task = one message to one destination. The protocol (see
 * docs/architecture.md, "Delivery and its crash window"):
 *
 *   lock the task → delivered marker set? done → rate gate open? else park (no attempt spent)
 *   → send → SET the delivered marker → complete
 *
 * The marker is written before BullMQ completes the task, so a crash or a lost completion after a
 * successful post makes the retry find the marker instead of posting again. Retryable failures are
 * thrown so BullMQ's attempts and our backoff apply; permanent ones become UnrecoverableError.
 * Nothing stored (failedReason, stack, return value) carries a secret: every text is scrubbed.
 */

/** The backoff `type` notify tasks carry; the Worker must get `notifyWorkerOptions().settings`. */
export const NOTIFY_BACKOFF_TYPE = 'gem-notify';

/** Fraction of a backoff delay taken off at random, so retries of one outage spread out. */
const BACKOFF_JITTER = 0.2;

/** What a finished task returns (BullMQ keeps it as the job's return value). */
export interface NotifyResult {
  /**
   * `held`: the route is muted, the notification waits for the summary; `grouped`: gathered into a
   * burst's group message; `empty`: a group message with nothing left to send.
   */
  outcome: 'delivered' | 'already-delivered' | 'held' | 'grouped' | 'empty';
  route: string;
  channel: string;
  target: string;
  /** Channel's receipt: SMTP message id, Slack's answer. */
  detail?: string;
  /** Epoch ms of the successful send (for `already-delivered`, of the original). */
  at: number;
}

/** One step of a delivery, for metrics and the notification log. */
export interface DeliveryOutcomeEvent {
  taskId: string;
  route: string;
  channel: string;
  target: string;
  outcome: 'delivered' | 'already-delivered' | 'deferred' | 'retrying' | 'failed' | 'held' | 'grouped';
  /** 1-based attempt this event belongs to. */
  attempt: number;
  reason?: DeliveryFailureReason;
  /** Scrubbed error text. */
  error?: string;
  /** Transition (job id + version) or alert the task is about. */
  subject: string;
  at: number;
  /** What the task carries: a transition, an operator alert, a stuck/overdue job, a grouped message. */
  kind?: 'transition' | 'alert' | 'job-alert' | 'group';
  /** The job, for transitions and job alerts. */
  jobId?: string;
  version?: number;
  /** The transition's new status, or the job alert's kind. */
  status?: string;
  /** Epoch ms the transition was detected (transitions only): with `at`, its time to delivery. */
  detectedAt?: number;
  /** The channel's receipt, or what the delivery policy decided (held until …, warning, group of 39). */
  detail?: string;
  /** A group message's members, delivered by it. */
  covers?: CoveredMember[];
}

/** The channels the processor may use; NotifierRegistry fits. */
export interface NotifierLookup {
  get(name: string): Notifier | undefined;
}

export interface NotifyProcessorOptions {
  config: Config;
  notifiers: NotifierLookup;
  /** Client for delivery markers, locks and rate gates (not BullMQ's blocking connection). */
  redis: Redis;
  keys: Keys;
  logger: Logger;
  /** Called after each step; errors in it are logged, never fail a delivery. */
  onOutcome?: (event: DeliveryOutcomeEvent) => void | Promise<void>;
  /**
   * Asked before each send (quiet hours, silences, bursts, warnings, group messages); see
   * alerts/delivery-policy.ts. Without it every task is sent as it is.
   */
  policy?: { prepare(task: NotifyTaskData, taskId: string, now: number): Promise<PolicyDecision> };
  /** Clock, epoch ms; default Date.now. */
  now?: () => number;
}

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

/**
 * Options of the notify Worker (besides connection and prefix): the concurrency from config, the
 * stall limit and the backoff strategy. Without these `settings` BullMQ cannot retry a notify task (its backoff type is
 * custom), so always spread them into the Worker's options.
 */
export function notifyWorkerOptions(config: Config, random?: () => number): Pick<WorkerOptions, 'concurrency' | 'settings' | 'maxStalledCount'> {
  return {
    concurrency: config.notify.concurrency,
    // BullMQ fails a task found stalled more than this many times (default once), spending none of
    // its attempts: two replicas killed while holding the same task would lose its message. A
    // stall only delays a delivery here (the marker and the lock keep it from repeating), so it
    // gets as many as the task has attempts.
    maxStalledCount: config.notify.attempts,
    settings: {
      backoffStrategy: notifyBackoffStrategy({ baseMs: config.notify.backoffMs, maxMs: config.notify.maxBackoffMs, ...(random ? { random } : {}) }),
    },
  };
}

/**
 * Options for every notify task `add`: attempts from config, our backoff, bounded history.
 * Completed tasks are kept a day but at most 1,000 (their deterministic ids turn a re-add into a
 * no-op; the delivered marker covers longer, so a re-add after they are gone sends nothing either);
 * failed ones for `retention.deliveriesDays`, for `notifications --failed`.
 */
export function notifyJobOptions(config: Config): JobsOptions {
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

/** A task's data, checked: anything malformed is a permanent failure, never a crash. */
function checkTask(data: unknown): NotifyTaskData | string {
  if (!data || typeof data !== 'object') return 'task data is not an object';
  const task = data as Partial<NotifyTaskData>;
  for (const field of ['route', 'channel', 'target'] as const) {
    if (typeof task[field] !== 'string' || task[field] === '') return `task data has no ${field}`;
  }
  if (task.transition) {
    const t = task.transition;
    if (typeof t.jobId !== 'string' || typeof t.to !== 'string' || typeof t.version !== 'number' || !t.job || typeof t.job !== 'object') {
      return 'task transition is malformed';
    }
  } else if (task.alert) {
    const a = task.alert;
    if (typeof a.kind !== 'string' || (a.state !== 'down' && a.state !== 'up') || typeof a.title !== 'string' || typeof a.since !== 'number') {
      return 'task alert is malformed';
    }
  } else if (task.jobAlert) {
    const a = task.jobAlert;
    if (typeof a.jobId !== 'string' || typeof a.kind !== 'string' || typeof a.version !== 'number' || typeof a.since !== 'number' || !a.job || typeof a.job !== 'object') {
      return 'task job alert is malformed';
    }
  } else if (task.group) {
    const g = task.group;
    if ((g.kind !== 'burst' && g.kind !== 'held') || !Number.isInteger(g.seq)) return 'task group is malformed';
  } else {
    return 'task has neither a transition nor an alert';
  }
  return task as NotifyTaskData;
}

/** The event fields that say what a task is about (for the notification log). */
function aboutOf(task: NotifyTaskData): Pick<DeliveryOutcomeEvent, 'kind' | 'jobId' | 'version' | 'status' | 'detectedAt'> {
  if (task.transition) return { kind: 'transition', jobId: task.transition.jobId, version: task.transition.version, status: task.transition.to, detectedAt: task.transition.detectedAt };
  if (task.jobAlert) return { kind: 'job-alert', jobId: task.jobAlert.jobId, version: task.jobAlert.version, status: task.jobAlert.kind };
  if (task.group) return { kind: 'group' };
  return { kind: 'alert', status: task.alert!.state };
}

/** The error BullMQ stores: reason first, scrubbed, with a stack that quotes nothing else. */
function storedError(error: DeliveryError): DeliveryError {
  const stored = new DeliveryError(`[${error.reason}] ${errorText(error)}`, {
    reason: error.reason,
    retryable: error.retryable,
    channel: error.channel,
    ...(error.status !== undefined ? { status: error.status } : {}),
    ...(error.code !== undefined ? { code: error.code } : {}),
    ...(error.retryAfterMs !== undefined ? { retryAfterMs: error.retryAfterMs } : {}),
  });
  stored.stack = scrub(stored.stack ?? stored.message);
  return stored;
}

function permanent(message: string): UnrecoverableError {
  const error = new UnrecoverableError(scrub(message));
  error.stack = scrub(error.stack ?? error.message);
  return error;
}

/**
 * Builds the notify processor. Give the Worker `notifyWorkerOptions(config)` too.
 */
export function createNotifyProcessor(options: NotifyProcessorOptions): Processor<NotifyTaskData, NotifyResult> {
  const { config, notifiers, redis, keys } = options;
  const logger = options.logger.child({ component: 'notify' });
  const now = options.now ?? Date.now;
  const gate = new RateGate(redis, keys);
  const marks = new DeliveryMarks(redis, keys);
  const markerTtlMs = Math.round(config.retention.deliveriesDays * 86_400_000);
  // Long enough for the slowest send (connect + socket timeout), so it only expires on a crash.
  const lockTtlMs = 2 * Math.max(config.slack.timeoutMs, config.email.connectionTimeoutMs + config.email.socketTimeoutMs) + 5_000;

  const report = async (event: DeliveryOutcomeEvent) => {
    if (!options.onOutcome) return;
    try {
      await options.onOutcome(event);
    } catch (error) {
      logger.warn({ err: error }, 'delivery outcome hook failed');
    }
  };

  /** Parks the task as delayed until `at` without spending an attempt (BullMQ's DelayedError). */
  const park = async (job: Job<NotifyTaskData, NotifyResult>, token: string | undefined, waitMs: number): Promise<never> => {
    if (!token) throw new DeliveryError(`cannot park task without a worker token`, { reason: 'serverError', retryable: true, channel: job.data.channel });
    await job.moveToDelayed(now() + Math.max(1, Math.ceil(waitMs)), token);
    throw new DelayedError();
  };

  return async function processNotifyTask(job: Job<NotifyTaskData, NotifyResult>, token: string | undefined, signal: AbortSignal | undefined): Promise<NotifyResult> {
    const checked = checkTask(job.data);
    if (typeof checked === 'string') {
      logger.error({ jobId: job.id }, `notify task ${job.id ?? '?'} is malformed and is given up: ${checked}`);
      throw permanent(`[clientError] ${checked}`);
    }
    const task = checked;
    const taskId = notifyTaskId(task);
    const attempt = job.attemptsMade + 1;
    const attempts = job.opts.attempts ?? config.notify.attempts;
    const base = { taskId, route: task.route, channel: task.channel, target: task.target, subject: notifySubject(task) };
    const about = aboutOf(task);
    const log = logger.child(base);

    const notifier = notifiers.get(task.channel);
    if (!notifier) {
      const message = `[clientError] channel "${task.channel}" is not configured; the delivery is given up`;
      log.error(message);
      await report({ ...base, ...about, outcome: 'failed', attempt, reason: 'clientError', error: message, at: now() });
      throw permanent(message);
    }

    // One sender per task at a time, even if BullMQ hands a stalled task to a second worker.
    // randomUUID draws from a buffer Node refills in batches; randomBytes was a getrandom call per
    // task (1.4% of the daemon's CPU in a burst, npm run bench --profile).
    const holder = `${process.pid}-${randomUUID()}`;
    const lock = await marks.lock(taskId, holder, lockTtlMs);
    if (!lock.locked) {
      const ttl = lock.ttlMs;
      log.info('another worker is sending this notification; waiting for it');
      await report({ ...base, ...about, outcome: 'deferred', attempt, at: now() });
      return await park(job, token, ttl > 0 ? Math.min(ttl, 5_000) : 1_000);
    }
    const marker = lock.marker;
    let released = false;
    const release = async () => {
      if (released) return;
      released = true;
      try {
        await marks.release(taskId, holder);
      } catch (error) {
        log.warn({ err: error }, 'could not release the delivery lock; it expires by itself');
      }
    };

    try {
      if (marker !== null) {
        const previous = safeJson(marker);
        log.info('notification already delivered; not sending it again');
        await report({ ...base, ...about, outcome: 'already-delivered', attempt, at: now() });
        return {
          outcome: 'already-delivered',
          route: task.route,
          channel: task.channel,
          target: task.target,
          at: typeof previous?.at === 'number' ? previous.at : now(),
          ...(typeof previous?.detail === 'string' ? { detail: previous.detail } : {}),
        };
      }

      // Quiet hours, silences, bursts, warnings and group messages decide before the rate gate: a
      // notification that is held or gathered sends nothing and must not take the endpoint's slot.
      let decision: PolicyDecision;
      try {
        decision = options.policy
          ? await options.policy.prepare(task, taskId, now())
          : { action: 'send', content: task.transition ? { transition: task.transition } : { alert: task.alert! } };
      } catch (error) {
        throw storedError(new DeliveryError(`the delivery policy could not decide: ${errorText(error)}`, { reason: 'serverError', retryable: true, channel: task.channel, cause: error }));
      }
      if (decision.action === 'wait') {
        log.debug({ waitMs: decision.ms, note: decision.note }, 'group message not due yet: parked');
        await release();
        return await park(job, token, decision.ms);
      }
      if (decision.action !== 'send') {
        const outcome = decision.action === 'empty' ? 'empty' : decision.action;
        log.info({ note: decision.note }, decision.action === 'held' ? 'route muted: notification held for the summary' : decision.action === 'grouped' ? 'notification gathered into a group message' : 'group message has nothing to send');
        if (outcome !== 'empty') await report({ ...base, ...about, outcome, attempt, detail: decision.note, at: now() });
        return { outcome, route: task.route, channel: task.channel, target: task.target, at: now(), detail: decision.note };
      }

      if (notifier.perTargetPerSecond !== undefined && notifier.perTargetPerSecond > 0) {
        const waitMs = await gate.acquire(task.channel, task.target, 1_000 / notifier.perTargetPerSecond);
        if (waitMs > 0) {
          log.debug({ waitMs }, 'endpoint rate limit: parked');
          await report({ ...base, ...about, outcome: 'deferred', attempt, at: now() });
          await release();
          return await park(job, token, waitMs);
        }
      }

      const content: NotificationContent = decision.content;
      let detail: string | undefined;
      try {
        const receipt = await notifier.send(notifier.render(content, { timeZone: timeZoneFor(task.route, config) }), { route: task.route, target: task.target, idempotencyKey: taskId, ...(signal ? { signal } : {}) });
        detail = receipt.detail === undefined ? undefined : scrub(receipt.detail);
      } catch (error) {
        throw await failed(error);
      }

      const at = now();
      // The marker goes in before BullMQ completes the task: a crash from here on finds it on retry.
      const record = { at, channel: task.channel, target: task.target, ...(detail ? { detail } : {}) };
      const marking = writeMarker(record, decision);
      // The lock's release leaves in the same write, behind the marker on the same connection: Redis
      // applies them in that order, so whoever takes the lock next finds the marker.
      const releasing = release();
      try {
        await marking;
      } catch (error) {
        const message = `[serverError] ${DELIVERED_UNMARKED} (${errorText(error)}); not retried, so it is not sent twice`;
        log.error(message);
        throw permanent(message);
      } finally {
        await releasing;
      }
      log.info({ attempt, detail, ...(decision.note ? { note: decision.note } : {}) }, 'notification delivered');
      const said = [decision.note, detail].filter(Boolean).join('; ');
      await report({ ...base, ...about, outcome: 'delivered', attempt, at, ...(said ? { detail: said } : {}), ...(decision.covers ? { covers: decision.covers } : {}) });
      return { outcome: 'delivered', route: task.route, channel: task.channel, target: task.target, at, ...(detail ? { detail } : {}) };
    } finally {
      await release();
    }

    /** Classifies, logs and reports a failed send; returns what to throw to BullMQ. */
    async function failed(error: unknown): Promise<Error> {
      const classified = isDeliveryError(error)
        ? error
        : new DeliveryError(`${task.channel} failed unexpectedly: ${errorText(error)}`, { reason: 'serverError', retryable: true, channel: task.channel, cause: error });
      const text = errorText(classified);
      if (isRateLimited(classified)) {
        // Every task for this endpoint waits out the Retry-After, not only this one.
        await gate.hold(task.channel, task.target, classified.retryAfterMs).catch((holdError: unknown) => log.warn({ err: holdError }, 'could not record the Retry-After'));
      }
      if (!classified.retryable) {
        log.error({ reason: classified.reason, status: classified.status, attempt }, `notification failed permanently, not retried: ${text}`);
        await report({ ...base, ...about, outcome: 'failed', attempt, reason: classified.reason, error: text, at: now() });
        return permanent(`[${classified.reason}] ${text}`);
      }
      const last = attempt >= attempts;
      if (last) {
        log.error({ reason: classified.reason, status: classified.status, attempt, attempts }, `notification failed on its last attempt, given up: ${text}`);
      } else {
        log.warn({ reason: classified.reason, status: classified.status, attempt, attempts, retryAfterMs: classified.retryAfterMs }, `notification failed, will retry: ${text}`);
      }
      await report({ ...base, ...about, outcome: last ? 'failed' : 'retrying', attempt, reason: classified.reason, error: text, at: now() });
      return storedError(classified);
    }

    /**
     * Writes the delivered marker (with a group's members and cleanup, as one MULTI). The commands
     * are queued on the connection before this returns, so a command issued after it goes behind.
     */
    function writeMarker(record: Record<string, unknown>, { covers, gathering }: Extract<PolicyDecision, { action: 'send' }>): Promise<unknown> {
      return marks.mark(taskId, record, markerTtlMs, { ...(covers ? { covers } : {}), ...(gathering ? { gathering } : {}) });
    }
  };
}

function safeJson(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return value && typeof value === 'object' ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
