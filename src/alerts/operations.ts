import type { Queue } from 'bullmq';
import type { RedisClient } from '../state/connection.js';
import type { Silence } from '../domain/mute.js';
import type { DeliveryLogEntry } from '../state/notification-log-store.js';
import { notifyTaskId, type NotifyTaskData } from '../notify/task.js';
import { notifyJobOptions, type NotifyTaskConfig } from '../notify/task-options.js';
import type { Keys } from '../state/keys.js';
import { sanitizeHeader } from '../templates/escape.js';
import { formatDuration } from '../templates/format.js';
import { GatheringStore } from '../state/gathering-store.js';
import { destinationKey, routeDestinations, routeExists, type AlertConfig } from '../domain/route-settings.js';
import { SilenceInputError, SilenceStore } from '../state/silence-store.js';

/**
 * What `gem-watch silence add|list|remove` and `gem-watch log` do, as functions returning data and
 * text; cli.ts only parses arguments and prints.
 */

/**
 * What the silence commands read of the configuration: the routes and the default route's
 * endpoints (which destinations a silence held), and the notify tasks' options. The parsed
 * configuration is one.
 */
export type SilenceConfig = Pick<AlertConfig, 'routes' | 'slack' | 'email' | 'teams' | 'webhook'> & NotifyTaskConfig;

export interface SilenceContext {
  config: SilenceConfig;
  redis: RedisClient;
  keys: Keys;
  /** The notify queue: removing a silence sends what it held now. */
  queue: Pick<Queue<NotifyTaskData>, 'getJob' | 'add'>;
  /** Epoch ms. */
  now: number;
}

/** Adds a silence on a route the configuration has; throws SilenceInputError otherwise. */
export async function addSilence(context: SilenceContext, input: { route: string; durationMs: number; comment?: string }): Promise<Silence> {
  if (!routeExists(input.route, context.config)) {
    const names = ['default', ...context.config.routes.map((route) => route.name)];
    throw new SilenceInputError(`route "${input.route}" is not configured; routes: ${names.join(', ')}`);
  }
  return new SilenceStore(context.redis, context.keys).add({ ...input, now: context.now });
}

export interface RemovedSilence {
  silence: Silence;
  /** Summaries of what the route held, sent now (task ids). */
  released: string[];
}

/**
 * Removes a silence and sends at once the summaries of what its route held, when nothing else
 * mutes it (a summary task that finds the route still muted, by a window or another silence, waits
 * for that end by itself). Undefined when there is no such silence.
 */
export async function removeSilence(context: SilenceContext, id: string): Promise<RemovedSilence | undefined> {
  const silence = await new SilenceStore(context.redis, context.keys).remove(id);
  if (!silence) return undefined;
  const gatherings = new GatheringStore(context.redis, context.keys);
  const released: string[] = [];
  for (const destination of routeDestinations(silence.route, context.config)) {
    const seq = await gatherings.openSeq('held', destinationKey(destination));
    if (seq === undefined) continue;
    const data: NotifyTaskData = { group: { kind: 'held', seq }, ...destination };
    const taskId = notifyTaskId(data);
    const task = await context.queue.getJob(taskId);
    if (task && (await task.isDelayed())) {
      await task.promote();
      released.push(taskId);
    } else if (!task) {
      await context.queue.add('group', data, { ...notifyJobOptions(context.config), jobId: taskId });
      released.push(taskId);
    }
  }
  return { silence, released };
}

/** Silences not over yet, soonest end first. */
export async function listSilences(context: Pick<SilenceContext, 'redis' | 'keys' | 'now'>): Promise<Silence[]> {
  return new SilenceStore(context.redis, context.keys).list(context.now);
}

/** One silence as a line: id, route, until, what is left, comment. */
export function formatSilence(silence: Silence, now: number): string {
  const left = silence.startsAt > now ? `starts in ${formatDuration((silence.startsAt - now) / 1000)}` : `${formatDuration((silence.endsAt - now) / 1000)} left`;
  const comment = silence.comment ? `  ${sanitizeHeader(silence.comment, 120)}` : '';
  return `${silence.id}  route ${silence.route}  until ${new Date(silence.endsAt).toISOString()} (${left})${comment}`;
}

/** One notification log entry as a line. */
export function formatLogEntry(entry: DeliveryLogEntry): string {
  const reason = entry.reason ? ` [${entry.reason}]` : '';
  const detail = entry.detail ? `  ${sanitizeHeader(entry.detail, 300)}` : '';
  return `${new Date(entry.at).toISOString()}  ${entry.outcome.padEnd(17)} ${`${entry.channel}/${entry.target}`.padEnd(16)} route ${entry.route}  ${sanitizeHeader(entry.subject, 120)}  attempt ${entry.attempt}${reason}${detail}`;
}
