import type { QueueOptions } from 'bullmq';
import type { RedisClient } from '../state/connection.js';

/**
 * Entries kept in each queue's event stream. Nothing in gem-watch reads the stream (no
 * QueueEvents); BullMQ's default of 10,000 was ~1 MB of Redis per queue. Each `new Queue` writes
 * this setting into the queue's meta, so every Queue gem-watch opens must take it from here.
 */
export const QUEUE_EVENTS_MAX_LEN = 1_000;

/** Options every gem-watch Queue is opened with: connection, key prefix, event stream cap. */
export function queueOptions(connection: RedisClient, prefix: string): QueueOptions {
  return { connection, prefix, streams: { events: { maxLen: QUEUE_EVENTS_MAX_LEN } } };
}
