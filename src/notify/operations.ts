import type { Queue } from 'bullmq';
import type { RedisClient } from '../state/connection.js';
import { EMAIL_ROUTE_TARGET } from '../domain/routing.js';
import { errorText } from '../telemetry/redact.js';
import { DeliveryMarks } from '../state/delivery-marks.js';
import type { Keys } from '../state/keys.js';
import { isDeliveryError, storedFailureReason, wasDeliveredUnmarked, type DeliveryFailureReason } from './errors.js';
import type { Notifier } from './notifier.js';
import { sampleAlert, sampleTransition } from './sample-data.js';
import { notifyTaskId, type NotifyTaskData } from './task.js';

/**
 * What the CLI calls for operators: `gem-watch test-notify [--channel NAME]` and
 * `gem-watch notifications --failed | --retry`. Each function returns data; printing is the CLI's.
 */

/** A channel lookup; NotifierRegistry fits. */
export interface NotifierList {
  get(name: string): Notifier | undefined;
  list(): Notifier[];
}

export interface TestNotifyOptions {
  notifiers: NotifierList;
  /** Only this channel (`slack`, `email`, `teams`, `webhook`); default every configured one. */
  channel?: string;
  /** Only this target (a webhook or endpoint name, or for email a route name); default every endpoint. */
  target?: string;
  /** What to send: a sample finished job (default), a failed one, or an operator alert. */
  sample?: 'finished' | 'failed' | 'alert';
  /** Epoch ms stamped on the sample; default Date.now(). */
  now?: number;
  /** The time zone a route's messages show times in (`timeZoneFor` over the config); default UTC. */
  timeZoneOf?: (route: string) => string;
}

export interface TestNotifyResult {
  channel: string;
  route: string;
  target: string;
  ok: boolean;
  /** The channel's receipt, or the scrubbed error. */
  detail: string;
  reason?: DeliveryFailureReason;
  retryable?: boolean;
}

/** A clear error for the CLI (exit code 2): the channel asked for is not configured. */
export class UnknownChannelError extends Error {
  override readonly name = 'UnknownChannelError';
  constructor(
    readonly channel: string,
    readonly configured: string[],
  ) {
    super(
      configured.length === 0
        ? `no notification channel is configured (set SLACK_WEBHOOK_URL, SMTP_URL, TEAMS_WEBHOOK_URL and/or WEBHOOK_URL)`
        : `channel "${channel}" is not configured; configured: ${configured.join(', ')}`,
    );
  }
}

/**
 * Sends a sample message built from sample data, directly (not through the queue), to every
 * endpoint of one or all channels, and reports each outcome. Never throws for a failed send.
 */
export async function testNotify(options: TestNotifyOptions): Promise<TestNotifyResult[]> {
  const configured = options.notifiers.list();
  let channels = configured;
  if (options.channel !== undefined) {
    const one = options.notifiers.get(options.channel);
    if (!one) throw new UnknownChannelError(options.channel, configured.map((notifier) => notifier.name));
    channels = [one];
  } else if (configured.length === 0) {
    throw new UnknownChannelError('', []);
  }
  const now = options.now ?? Date.now();
  const sample = options.sample ?? 'finished';
  const content = sample === 'alert' ? { alert: sampleAlert(now) } : { transition: sampleTransition(sample, now, `test-${now}`) };

  const results: TestNotifyResult[] = [];
  for (const notifier of channels) {
    // --target names a webhook for Slack, and a route for email (whose target is always `route`).
    const endpoints = notifier
      .endpoints()
      .filter((endpoint) => options.target === undefined || endpoint.target === options.target || (endpoint.target === EMAIL_ROUTE_TARGET && endpoint.route === options.target));
    for (const endpoint of endpoints) {
      try {
        const message = notifier.render(content, { timeZone: options.timeZoneOf?.(endpoint.route) ?? 'UTC' });
        const receipt = await notifier.send(message, { route: endpoint.route, target: endpoint.target });
        results.push({ channel: notifier.name, ...endpoint, ok: true, detail: receipt.detail ?? 'sent' });
      } catch (error) {
        results.push({
          channel: notifier.name,
          ...endpoint,
          ok: false,
          detail: errorText(error),
          ...(isDeliveryError(error) ? { reason: error.reason, retryable: error.retryable } : {}),
        });
      }
    }
  }
  return results;
}

/** One delivery that exhausted its attempts or failed permanently. */
export interface FailedDelivery {
  /** BullMQ job id (the deterministic notify task id). */
  id: string;
  route: string;
  channel: string;
  target: string;
  /** What it was about: `JOBID v3 failed` or `alert polling down`. */
  subject: string;
  attemptsMade: number;
  /** Why, scrubbed, as stored: `[serverError] Slack webhook "default" answered 500`. */
  failedReason: string;
  reason: DeliveryFailureReason | 'unknown';
  /** Epoch ms it failed for good. */
  failedAt?: number;
}

export interface FailedDeliveriesOptions {
  /** The notify queue (QUEUE_NAMES.notify, with the deployment's prefix). */
  queue: Queue<NotifyTaskData>;
  /** At most this many, newest first; default 100. */
  limit?: number;
}

function describe(data: NotifyTaskData | undefined): string {
  if (data?.transition) return `${data.transition.jobId} v${data.transition.version} ${data.transition.to}`;
  if (data?.alert) return `alert ${data.alert.kind} ${data.alert.state}`;
  if (data?.jobAlert) return `${data.jobAlert.jobId} v${data.jobAlert.version} ${data.jobAlert.kind}`;
  if (data?.group) return `${data.group.kind} group ${data.group.seq}`;
  return '?';
}

/** The notify queue's failed tasks, newest first. */
export async function listFailedDeliveries(options: FailedDeliveriesOptions): Promise<FailedDelivery[]> {
  const limit = Math.max(1, options.limit ?? 100);
  const jobs = await options.queue.getFailed(0, limit - 1);
  return jobs
    .filter((job) => job !== undefined && job !== null)
    .map((job) => {
      const failedReason = job.failedReason ?? '';
      return {
        id: String(job.id),
        route: job.data?.route ?? '?',
        channel: job.data?.channel ?? '?',
        target: job.data?.target ?? '?',
        subject: describe(job.data),
        attemptsMade: job.attemptsMade,
        failedReason,
        reason: storedFailureReason(failedReason),
        ...(job.finishedOn ? { failedAt: job.finishedOn } : {}),
      };
    });
}

export interface RetryFailedOptions extends FailedDeliveriesOptions {
  /** Only these task ids; default every failed one (up to `limit`). */
  ids?: string[];
  /** With `keys`: tasks whose delivered marker exists are not re-queued (they were sent). */
  redis?: RedisClient;
  keys?: Keys;
}

export interface RetryFailedResult {
  /** Task ids put back in the queue with fresh attempts. */
  retried: string[];
  /** Ids asked for that are not failed tasks. */
  notFound: string[];
  /**
   * Failed tasks whose message was in fact delivered (marker set, or, in a retry of every failed
   * task, a failure that says the marker could not be written); left alone.
   */
  alreadyDelivered: string[];
}

/**
 * Re-queues failed deliveries with their attempts reset, under their own ids (so a replay stays
 * deduplicated). The processor checks the delivered marker again before sending.
 */
export async function retryFailedDeliveries(options: RetryFailedOptions): Promise<RetryFailedResult> {
  const limit = Math.max(1, options.limit ?? 1_000);
  const result: RetryFailedResult = { retried: [], notFound: [], alreadyDelivered: [] };
  const candidates = options.ids
    ? await Promise.all(
        options.ids.map(async (id) => {
          const job = await options.queue.getJob(id);
          const state = job ? await job.getState() : undefined;
          if (!job || state !== 'failed') result.notFound.push(id);
          return state === 'failed' ? job : undefined;
        }),
      )
    : await options.queue.getFailed(0, limit - 1);
  const marks = options.redis && options.keys ? new DeliveryMarks(options.redis, options.keys) : undefined;
  for (const job of candidates) {
    if (!job) continue;
    // Sent, but unmarked: only an operator who names the task re-sends it.
    if (!options.ids && wasDeliveredUnmarked(job.failedReason)) {
      result.alreadyDelivered.push(String(job.id));
      continue;
    }
    if (marks && job.data && (job.data.transition || job.data.alert || job.data.jobAlert || job.data.group)) {
      if (await marks.isDelivered(notifyTaskId(job.data))) {
        result.alreadyDelivered.push(String(job.id));
        continue;
      }
    }
    await job.retry('failed', { resetAttemptsMade: true, resetAttemptsStarted: true });
    result.retried.push(String(job.id));
  }
  return result;
}
