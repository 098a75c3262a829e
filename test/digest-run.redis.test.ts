import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Config } from '../src/config/schema.js';
import { DigestCommandError } from '../src/digest/digest-command-error.js';
import { digestSettings } from '../src/digest/digest-config.js';
import { DigestRunner } from '../src/digest/digest-runner.js';
import { runDigest, type RunDigestContext } from '../src/digest/run-digest.js';
import type { Transition } from '../src/domain/transition.js';
import { DigestLedger } from '../src/state/digest-ledger.js';
import { Keys } from '../src/state/keys.js';
import { addTransition, digestDelivery, streamSource, type DigestDelivery } from './digest-support.js';
import { notifyConfig } from './helpers/notify-config.js';
import type { NotifyTaskData } from '../src/notify/task.js';
import { digestJobs, settleDigestTasks } from '../src/queue/digest-queue.js';
import { QUEUE_NAMES } from '../src/queue/names.js';
import { queueOptions } from '../src/queue/queue-options.js';
import { startRedis, uniquePrefix, type TestRedis } from './helpers/redis.js';
import { startSmtpSink, type SmtpSink } from './helpers/smtp-sink.js';

const HOUR = 3_600_000;
const MIN = 60_000;
const DAY1 = Date.parse('2026-01-20T08:00:00Z');

function finished(id: string, file: string, detectedAt: number): Transition {
  return {
    jobId: id,
    jobType: 'ROAD_MATCHING',
    from: 'running',
    to: 'finished',
    version: 3,
    detectedAt,
    job: { id, jobType: 'ROAD_MATCHING', status: 'finished', rawStatus: 'finished', inputFile: file, statistics: { roadsMatchedPct: 84.68, kmsProcessed: 10, numRoadsProcessed: 5 } },
  };
}

function config(smtpUrl: string, redisUrl: string, prefix: string): Config {
  return notifyConfig({
    smtpUrl,
    emailTo: ['team@example.com'],
    yaml: { digest: { cron: '0 8 * * *', timezone: 'UTC', to: ['digest@example.com'] }, notify: { backoffMs: 10, maxBackoffMs: 20 } },
    env: { REDIS_URL: redisUrl, GEM_WATCH_PREFIX: prefix },
  });
}

describe('gem-watch digest (runDigest)', () => {
  let redisServer: TestRedis;
  let smtp: SmtpSink;
  let redis: Redis;
  let keys: Keys;
  let cfg: Config;
  let delivery: DigestDelivery;
  let dir: string;

  beforeAll(async () => {
    redisServer = await startRedis();
    smtp = await startSmtpSink();
  });
  afterAll(async () => {
    await smtp.close();
    await redisServer.close();
  });
  beforeEach(() => {
    const prefix = uniquePrefix('digest-run');
    keys = new Keys(prefix);
    redis = redisServer.client();
    redis.on('error', () => {});
    cfg = config(smtp.url(), redisServer.url, prefix);
    delivery = digestDelivery(redisServer.url, cfg, () => DAY1);
    smtp.reset();
    dir = mkdtempSync(join(tmpdir(), 'gem-watch-digest-'));
  });
  afterEach(async () => {
    await delivery.close();
    redis.disconnect();
    rmSync(dir, { recursive: true, force: true });
  });

  function context(now: number, stdout = new PassThrough()): RunDigestContext & { output: () => string } {
    const chunks: Buffer[] = [];
    stdout.on('data', (chunk: Buffer) => chunks.push(chunk));
    return {
      settings: digestSettings(cfg),
      ledger: new DigestLedger(redis, keys),
      source: streamSource(redis, keys),
      queue: { enqueue: (tasks) => delivery.enqueue(tasks), settle: (tasks) => delivery.settle(tasks) },
      stdout,
      clock: () => now,
      output: () => Buffer.concat(chunks).toString('utf8'),
    };
  }

  it('--dry-run --out writes the HTML of the period so far, sends nothing and changes nothing', async () => {
    await redis.set(keys.digestLastEnd(), String(DAY1 - 24 * HOUR));
    await addTransition(redis, keys, finished('a', 'dry.parquet', DAY1 - 2 * HOUR));
    const file = join(dir, 'digest.html');
    const result = await runDigest({ dryRun: true, out: file }, context(DAY1 - HOUR));
    expect(result).toMatchObject({ action: 'dry-run', period: { start: DAY1 - 24 * HOUR, end: DAY1 - HOUR } });
    const html = readFileSync(file, 'utf8');
    expect(html).toMatch(/^<!DOCTYPE html>/);
    expect(html).toContain('dry.parquet');
    expect(html).toContain('84.68%');
    expect(smtp.mails).toHaveLength(0);
    expect(await redis.get(keys.digestLastEnd())).toBe(String(DAY1 - 24 * HOUR));
    expect(await redis.exists(keys.digestOpen())).toBe(0);
  });

  it('--dry-run writes the HTML to stdout, from --since', async () => {
    await addTransition(redis, keys, finished('a', 'old.parquet', DAY1 - 30 * HOUR));
    await addTransition(redis, keys, finished('b', 'recent.parquet', DAY1 - 2 * HOUR));
    const ctx = context(DAY1);
    const result = await runDigest({ dryRun: true, since: '2026-01-19T12:00:00Z' }, ctx);
    expect(result.period).toEqual({ start: Date.parse('2026-01-19T12:00:00Z'), end: DAY1 });
    expect(ctx.output()).toContain('recent.parquet');
    expect(ctx.output()).not.toContain('old.parquet');
  });

  it('with no flag prints the plain-text digest of the period so far', async () => {
    await addTransition(redis, keys, finished('b', 'preview.parquet', DAY1 - 2 * HOUR));
    const ctx = context(DAY1 - HOUR);
    // Never sent: the period starts at the latest slot before now.
    expect(await runDigest({}, ctx)).toMatchObject({ action: 'preview', period: { start: DAY1 - 24 * HOUR } });
    expect(ctx.output()).toContain('gem-watch digest: 1 finished');
    expect(ctx.output()).toContain('preview.parquet');
  });

  it('--now sends the next digest now, and the scheduled one starts where it ended', async () => {
    await redis.set(keys.digestLastEnd(), String(DAY1 - 24 * HOUR));
    await addTransition(redis, keys, finished('a', 'early.parquet', DAY1 - 2 * HOUR));
    const now = DAY1 - HOUR;
    const result = await runDigest({ now: true }, context(now));
    expect(result).toMatchObject({ action: 'sent', scheduled: true, channels: ['email'], period: { start: DAY1 - 24 * HOUR, end: now } });
    expect(smtp.mails).toHaveLength(1);
    expect(smtp.mails[0]!.envelope.to).toEqual(['digest@example.com']);
    expect(await redis.get(keys.digestLastEnd())).toBe(String(now));

    await addTransition(redis, keys, finished('b', 'late.parquet', DAY1 - 30 * MIN));
    const runner = new DigestRunner({ ledger: new DigestLedger(redis, keys), source: streamSource(redis, keys), settings: digestSettings(cfg), enqueue: (tasks) => delivery.enqueue(tasks), clock: () => DAY1 });
    expect(await runner.runSlot(DAY1)).toMatchObject({ kind: 'done', digests: [{ period: { start: now, end: DAY1 } }] });
    runner.close();
    await delivery.drained();
    expect(smtp.mails[1]!.parsed.text).toContain('late.parquet');
    expect(smtp.mails[1]!.parsed.text).not.toContain('early.parquet');
  });

  it('--now --since sends an extra digest of that range and leaves the schedule alone', async () => {
    await redis.set(keys.digestLastEnd(), String(DAY1));
    await addTransition(redis, keys, finished('a', 'range.parquet', DAY1 - 5 * HOUR));
    const result = await runDigest({ now: true, since: '2026-01-20T00:00:00Z' }, context(DAY1 + HOUR));
    expect(result).toMatchObject({ action: 'sent', scheduled: false, period: { start: Date.parse('2026-01-20T00:00:00Z'), end: DAY1 + HOUR } });
    expect(smtp.mails[0]!.parsed.text).toContain('range.parquet');
    expect(await redis.get(keys.digestLastEnd())).toBe(String(DAY1));
  });

  it('--now reports a refused send clearly, and the digest log says the period was given up', async () => {
    await redis.set(keys.digestLastEnd(), String(DAY1 - 24 * HOUR));
    smtp.refuseNext(1, { code: 550 });
    const error = await runDigest({ now: true }, context(DAY1 - HOUR)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DigestCommandError);
    expect((error as DigestCommandError).message).toMatch(/sending the digest of .* failed \(email: .*550/s);
    expect((await new DigestLedger(redis, keys).recent(1))[0]).toMatchObject({ end: DAY1 - HOUR, outcome: 'given-up', missed: ['email'] });
  });

  it('--now says plainly when no worker took the digest it queued', async () => {
    // No worker runs: the queue alone, as the CLI has it with no daemon up.
    const queueOnly = new Queue<NotifyTaskData>(QUEUE_NAMES.housekeeping, queueOptions(redis, cfg.redis.prefix));
    await redis.set(keys.digestLastEnd(), String(DAY1 - 24 * HOUR));
    const queue = { enqueue: async (tasks: NotifyTaskData[]) => void (await queueOnly.addBulk(digestJobs(tasks, {}))), settle: (tasks: NotifyTaskData[]) => settleDigestTasks(queueOnly, tasks, 0) };
    const error = await runDigest({ now: true }, { ...context(DAY1 - HOUR), queue }).catch((e: unknown) => e);
    await queueOnly.close();
    expect(error).toBeInstanceOf(DigestCommandError);
    expect((error as Error).message).toMatch(/is queued for email, but no worker took it yet: a running gem-watch sends it/);
    expect(smtp.mails).toHaveLength(0);
  });

  it('rejects bad flags with a clear usage error', async () => {
    const ctx = context(DAY1);
    const usage = async (options: Parameters<typeof runDigest>[0]) => {
      const error = await runDigest(options, ctx).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(DigestCommandError);
      expect((error as DigestCommandError).usage).toBe(true);
      return (error as Error).message;
    };
    expect(await usage({ now: true, dryRun: true })).toBe('--now and --dry-run exclude each other');
    expect(await usage({ out: 'x.html' })).toMatch(/--out is for --dry-run/);
    expect(await usage({ since: 'yesterday' })).toMatch(/--since must be an ISO 8601 time/);
    expect(await usage({ since: '1' })).toMatch(/--since must be an ISO 8601 time/);
    expect(await usage({ since: '2030-01-01T00:00:00Z' })).toBe('--since must lie in the past');
    expect(smtp.mails).toHaveLength(0);
  });

  it('says where it cannot write --out', async () => {
    const error = await runDigest({ dryRun: true, out: join(dir, 'missing', 'x.html') }, context(DAY1)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DigestCommandError);
    expect((error as Error).message).toMatch(/cannot write .*x\.html/);
  });
});
