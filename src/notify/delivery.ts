import type { RedisClient } from '../state/connection.js';
import type { Logger } from '../telemetry/logger.js';
import { errorText } from '../telemetry/redact.js';
import { DigestLedger } from '../state/digest-ledger.js';
import type { Keys } from '../state/keys.js';
import { DELIVERED_UNMARKED, DeliveryError, isRateLimited } from './errors.js';
import type { Notifier } from './notifier.js';
import { checkNotifyTask, notifySubject, notifyTaskId } from './task.js';
import { dedupSettings, DeliveryDedup, type DedupConfig } from './stages/dedup.js';
import { decide, type PolicyStage } from './stages/policy.js';
import { EndpointGate } from './stages/rate-gate.js';
import { aboutOf, outcomeReporter, type OutcomeListener } from './stages/record.js';
import { renderFor, type ZoneSettings } from './stages/render.js';
import { classifySendFailure, sendMessage } from './stages/send.js';
import { permanent, storedError } from './stages/signals.js';

/**
 * Delivery of one notify task = one message to one destination, as stages (notify/stages/):
 *
 *   dedup (lock the task; delivered marker set? done) → policy (route, quiet hours, silences,
 *   grouping) → render → rate gate (open? else park, no attempt spent) → send → SET the delivered
 *   marker → record; the queue then completes the task
 *
 * (docs/architecture.md, "Delivery and its crash window"). The marker is written before BullMQ
 * completes the task, so a crash or a lost completion after a successful post makes the retry find
 * the marker instead of posting again. Retryable failures are thrown so BullMQ's attempts and our
 * backoff apply; permanent ones become UnrecoverableError (stages/signals.ts). Nothing stored
 * (failedReason, stack, return value) carries a secret: every text is scrubbed.
 */

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

/** The channels the delivery may use; NotifierRegistry fits. */
export interface NotifierLookup {
  get(name: string): Notifier | undefined;
}

/**
 * What the delivery reads of the configuration: the attempts, the delivery lock's and marker's
 * lifetimes (dedupSettings) and the routes' time zones (render). Nested as the configuration's
 * keys, so the parsed configuration is one.
 */
export interface DeliverySettings extends DedupConfig, ZoneSettings {
  /** Attempts of a task that does not say its own (`notify.attempts`). */
  notify: { attempts: number };
}

/** What the delivery is built from: its settings, channels, Redis client, log and clock. */
export interface DeliveryOptions {
  config: DeliverySettings;
  notifiers: NotifierLookup;
  /** Client for delivery markers, locks and rate gates (not BullMQ's blocking connection). */
  redis: RedisClient;
  keys: Keys;
  logger: Logger;
  /** Called after each step; errors in it are logged, never fail a delivery. */
  onOutcome?: OutcomeListener;
  /**
   * Asked before each send (quiet hours, silences, bursts, warnings, group messages); see
   * notify/stages/policy.ts. Without it every task is sent as it is.
   */
  policy?: PolicyStage;
  /**
   * Who gets the digest by e-mail (digest.to, else email.to): from the configuration, never from
   * task data. Default: the default route's recipients.
   */
  digestRecipients?: readonly string[];
  /** Clock, epoch ms; default Date.now. */
  now?: () => number;
}

/** One run of a task, as the queue hands it over. */
export interface DeliveryAttempt {
  /** The task's data, unchecked. */
  data: unknown;
  /** The queue's id of the task, for the log of a malformed one. */
  id: string | undefined;
  /** Attempts already spent; this run is attempt `attemptsMade + 1`. */
  attemptsMade: number;
  /** Attempts the task has; default config `notify.attempts`. */
  attempts: number | undefined;
  /** Aborts the send (shutdown). */
  signal?: AbortSignal;
  /**
   * Puts the task back to run again in `waitMs` without spending an attempt, and throws the queue's
   * signal for it: it never returns.
   */
  park(waitMs: number): Promise<never>;
}

/** Builds the delivery of notify tasks; the queue's notify processor calls it once per run. */
export function createDelivery(options: DeliveryOptions): (run: DeliveryAttempt) => Promise<NotifyResult> {
  const { config, notifiers, redis, keys } = options;
  const logger = options.logger.child({ component: 'notify' });
  const now = options.now ?? Date.now;
  const dedup = new DeliveryDedup(redis, keys, dedupSettings(config));
  const gate = new EndpointGate(redis, keys);
  const digests = new DigestLedger(redis, keys);
  const report = outcomeReporter(options.onOutcome, logger);

  return async function deliver(run: DeliveryAttempt): Promise<NotifyResult> {
    const checked = checkNotifyTask(run.data);
    if (typeof checked === 'string') {
      logger.error({ jobId: run.id }, `notify task ${run.id ?? '?'} is malformed and is given up: ${checked}`);
      throw permanent(`[clientError] ${checked}`);
    }
    const task = checked;
    const taskId = notifyTaskId(task);
    const attempt = run.attemptsMade + 1;
    const attempts = run.attempts ?? config.notify.attempts;
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

    // Dedup: one sender per task at a time, even if BullMQ hands a stalled task to a second worker.
    const lock = await dedup.claim(taskId, log);
    if (!lock.locked) {
      log.info('another worker is sending this notification; waiting for it');
      await report({ ...base, ...about, outcome: 'deferred', attempt, at: now() });
      return await run.park(lock.waitMs);
    }

    try {
      if (lock.previous !== null) {
        const previous = lock.previous;
        log.info('notification already delivered; not sending it again');
        await report({ ...base, ...about, outcome: 'already-delivered', attempt, at: now() });
        return {
          outcome: 'already-delivered',
          route: task.route,
          channel: task.channel,
          target: task.target,
          at: previous.at ?? now(),
          ...(previous.detail !== undefined ? { detail: previous.detail } : {}),
        };
      }

      // Quiet hours, silences, bursts, warnings and group messages decide before the rate gate: a
      // notification that is held or gathered sends nothing and must not take the endpoint's slot.
      const decision = await decide(options.policy, task, taskId, now());
      if (decision.action === 'wait') {
        log.debug({ waitMs: decision.ms, note: decision.note }, 'group message not due yet: parked');
        await lock.release();
        return await run.park(decision.ms);
      }
      if (decision.action !== 'send') {
        const outcome = decision.action === 'empty' ? 'empty' : decision.action;
        log.info({ note: decision.note }, decision.action === 'held' ? 'route muted: notification held for the summary' : decision.action === 'grouped' ? 'notification gathered into a group message' : 'group message has nothing to send');
        if (outcome !== 'empty') await report({ ...base, ...about, outcome, attempt, detail: decision.note, at: now() });
        return { outcome, route: task.route, channel: task.channel, target: task.target, at: now(), detail: decision.note };
      }

      const waitMs = await gate.admit(notifier, task.channel, task.target);
      if (waitMs > 0) {
        log.debug({ waitMs }, 'endpoint rate limit: parked');
        await report({ ...base, ...about, outcome: 'deferred', attempt, at: now() });
        await lock.release();
        return await run.park(waitMs);
      }

      let detail: string | undefined;
      try {
        const recipients = task.digest && options.digestRecipients?.length ? options.digestRecipients : undefined;
        detail = await sendMessage(notifier, renderFor(notifier, decision.content, task.route, config), task, taskId, run.signal, { state: { redis, keys }, ...(recipients ? { recipients } : {}) });
      } catch (error) {
        throw await failed(error);
      }

      const at = now();
      // The marker goes in before BullMQ completes the task: a crash from here on finds it on retry.
      const record = { at, channel: task.channel, target: task.target, ...(detail ? { detail } : {}) };
      const marking = lock.mark(record, decision);
      // The lock's release goes behind the marker, so whoever takes the lock next finds it: for a
      // plain marker in the same script (lua/mark-delivered-2.lua, and release() is then a no-op);
      // for a group's MULTI in the same write on the same connection, which Redis applies in order.
      const releasing = lock.release();
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
      await lock.release();
    }

    /** Classifies, logs and reports a failed send; returns what to throw to the queue. */
    async function failed(error: unknown): Promise<Error> {
      const classified: DeliveryError = classifySendFailure(error, task.channel);
      const text = errorText(classified);
      if (isRateLimited(classified)) {
        // Every task for this endpoint waits out the Retry-After, not only this one.
        await gate.hold(task.channel, task.target, classified.retryAfterMs).catch((holdError: unknown) => log.warn({ err: holdError }, 'could not record the Retry-After'));
      }
      if (!classified.retryable) {
        log.error({ reason: classified.reason, status: classified.status, attempt }, `notification failed permanently, not retried: ${text}`);
        await report({ ...base, ...about, outcome: 'failed', attempt, reason: classified.reason, error: text, at: now() });
        await digestGivenUp();
        return permanent(`[${classified.reason}] ${text}`);
      }
      // A digest is retried until the next one is due, then given up for its period only: one
      // broken channel must not hold back every later digest.
      const digestDue = task.digest !== undefined && now() >= task.digest.giveUpAt;
      const last = attempt >= attempts || digestDue;
      if (digestDue) {
        log.error(
          { reason: classified.reason, status: classified.status, attempt },
          `digest: ${task.channel} refused the period until the next one was due; given up on ${task.channel}, so later digests go out: ${text}`,
        );
      } else if (last) {
        log.error({ reason: classified.reason, status: classified.status, attempt, attempts }, `notification failed on its last attempt, given up: ${text}`);
      } else {
        log.warn({ reason: classified.reason, status: classified.status, attempt, attempts, retryAfterMs: classified.retryAfterMs }, `notification failed, will retry: ${text}`);
      }
      await report({ ...base, ...about, outcome: last ? 'failed' : 'retrying', attempt, reason: classified.reason, error: text, at: now() });
      if (!last) return storedError(classified);
      await digestGivenUp();
      // Attempts may remain: the digest's end of retries is its period's, not the attempt count.
      return digestDue ? permanent(`[${classified.reason}] ${text}`) : storedError(classified);
    }

    /** A digest a channel gave up: its line in the digest log says so. */
    async function digestGivenUp(): Promise<void> {
      if (!task.digest) return;
      await digests.missed(task.digest.model.period.end, task.channel).catch((error: unknown) => log.warn({ err: error }, 'could not note the given-up digest in the digest log'));
    }
  };
}
