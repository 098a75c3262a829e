import type { RedisClient } from './connection.js';
import type { DetailReadMark } from '../domain/detail-reads.js';
import type { Keys } from './keys.js';

/**
 * The latest detail read of each active job, per job type, in the hash `poll:detail-reads:<type>`
 * (job id → `readAt|eventAt|listStatus`). Kept apart from the job's snapshot and status index so
 * that a poll decides from one small hash (only active jobs have an entry) and a daemon of an
 * older version, which reads neither, is not disturbed by it; a job without an entry is read at once.
 */
export class DetailReadStore {
  constructor(
    private readonly redis: RedisClient,
    private readonly keys: Keys,
  ) {}

  /** Every mark of one job type. Unreadable entries are left out (their jobs are read at once). */
  async readAll(jobType: string): Promise<Map<string, DetailReadMark>> {
    // The raw reply, paired by hand, as StateStore.readIndex does.
    const flat = (await this.redis.call('HGETALL', this.keys.detailReads(jobType))) as string[];
    const marks = new Map<string, DetailReadMark>();
    for (let i = 0; i + 1 < flat.length; i += 2) {
      const mark = parseMark(flat[i + 1]!);
      if (mark) marks.set(flat[i]!, mark);
    }
    return marks;
  }

  /** Records a read of an active job. One command: on the auto-pipelined connection it rides along. */
  async record(jobType: string, jobId: string, mark: DetailReadMark): Promise<void> {
    await this.redis.hset(this.keys.detailReads(jobType), jobId, formatMark(mark));
  }

  /** Removes the marks of jobs no longer active (ended, forgotten). */
  async forget(jobType: string, jobIds: readonly string[]): Promise<void> {
    if (jobIds.length > 0) await this.redis.hdel(this.keys.detailReads(jobType), ...jobIds);
  }
}

/** `readAt|eventAt|listStatus`; `eventAt` empty when none. The list status is last: it may hold a bar. */
export function formatMark(mark: DetailReadMark): string {
  return `${Math.round(mark.readAt)}|${mark.eventAt === undefined ? '' : Math.round(mark.eventAt)}|${mark.listStatus}`;
}

export function parseMark(value: string): DetailReadMark | undefined {
  const first = value.indexOf('|');
  const second = first < 0 ? -1 : value.indexOf('|', first + 1);
  if (second < 0) return undefined;
  const readAt = Number(value.slice(0, first));
  const eventText = value.slice(first + 1, second);
  const eventAt = eventText === '' ? undefined : Number(eventText);
  if (!Number.isFinite(readAt) || (eventAt !== undefined && !Number.isFinite(eventAt))) return undefined;
  return { readAt, ...(eventAt === undefined ? {} : { eventAt }), listStatus: value.slice(second + 1) };
}
