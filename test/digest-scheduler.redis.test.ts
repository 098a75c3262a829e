import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DigestScheduler, type DigestSchedulerOptions } from '../src/digest/digest-scheduler.js';
import type { DigestTrackedJob } from '../src/domain/digest.js';
import type { Transition } from '../src/domain/transition.js';
import type { JobStatus } from '../src/domain/job.js';
import { normalizeJob } from '../src/gem/normalize.js';
import { Keys } from '../src/state/keys.js';
import type { TrackedJob } from '../src/domain/tracked-job.js';
import { addTransition, streamSource, testSender, type TestSender } from './digest-support.js';
import { startRedis, uniquePrefix, type TestRedis } from './helpers/redis.js';
import { startSlackSink, type SlackSink } from './helpers/slack-sink.js';
import { startSmtpSink, type SmtpSink } from './helpers/smtp-sink.js';

const HOUR = 3_600_000;
const MIN = 60_000;
/** 08:00 UTC slots of DIGEST_CRON "0 8 * * *". */
const DAY1 = Date.parse('2026-01-20T08:00:00Z');
const DAY2 = DAY1 + 24 * HOUR;
const DAY3 = DAY2 + 24 * HOUR;
const DAY4 = DAY3 + 24 * HOUR;

const HOSTILE = '<!channel> <https://evil.example|click> <script>x</script>';

/** The completed job of the GEM Get job page's example, as the API sends it. */
function finishedAnswer(id: string, inputFileName: string) {
  return {
    jobRunId: id,
    storageId: 'storage-001',
    inputFileName,
    outputFileName: inputFileName.replace(/\.parquet$/, '_matched.parquet'),
    matchingType: 'road',
    overtureRelease: '2026-01-14.0',
    status: 'finished',
    createdAt: '2026-01-20T10:00:00Z',
    modifiedAt: '2026-01-20T10:25:00Z',
    statistics: {
      roads_matched: '84.68%',
      roads_unmatched: '15.31%',
      roads_fully_matched: '67.5%',
      roads_partially_matched: '17.18%',
      confidence_threshold: 60,
      execution_time_sec: 9751.75,
      kms_processed: 141977.62151907186,
      num_roads_processed: 32456,
    },
  };
}

/** A failed job in the public documentation's shape (snake_case, upper-case status), with a message. */
function failedAnswer(id: number, inputFilename: string, message: string) {
  return { job_id: id, job_type: 'ROAD_MATCHING', status: 'FAILED', input_filename: inputFilename, requested_at: '2026-01-20T11:00:00Z', message };
}

function transitionFrom(answer: unknown, detectedAt: number, from: JobStatus = 'running'): Transition {
  const { job } = normalizeJob(answer, 'ROAD_MATCHING');
  return { jobId: job.id, jobType: job.jobType, from, to: job.status, version: 3, detectedAt, job };
}

function simpleFinished(id: string, file: string, detectedAt: number): Transition {
  return transitionFrom(finishedAnswer(id, file), detectedAt);
}

describe('digest scheduler (real Redis, real SMTP)', () => {
  let redisServer: TestRedis;
  let smtp: SmtpSink;
  let slack: SlackSink;
  let redis: Redis;
  let keys: Keys;
  let tracked: TrackedJob[];
  const clients: Redis[] = [];
  const schedulers: DigestScheduler[] = [];
  const senders: TestSender[] = [];

  beforeAll(async () => {
    redisServer = await startRedis();
    smtp = await startSmtpSink();
    slack = await startSlackSink();
  });

  afterAll(async () => {
    await smtp.close();
    await slack.close();
    await redisServer.close();
  });

  beforeEach(() => {
    keys = new Keys(uniquePrefix('digest'));
    redis = client();
    tracked = [];
    smtp.reset();
    slack.reset();
  });

  afterEach(async () => {
    await Promise.all(schedulers.splice(0).map((scheduler) => scheduler.stop()));
    for (const sender of senders.splice(0)) sender.close();
    for (const c of clients.splice(0)) c.disconnect();
  });

  function client(): Redis {
    const c = redisServer.client();
    c.on('error', () => {});
    clients.push(c);
    return c;
  }

  /** One replica: its own Redis connection, sender and scheduler, like a separate process. */
  function replica(over: Partial<DigestSchedulerOptions> = {}): DigestScheduler {
    const connection = client();
    const sender = testSender(smtp.url(), slack.webhookUrl('digest-secret'));
    senders.push(sender);
    const scheduler = new DigestScheduler({
      redis: connection,
      keys,
      source: streamSource(connection, keys, () => tracked),
      sender,
      cron: '0 8 * * *',
      timeZone: 'UTC',
      to: ['team@example.com'],
      retryMinMs: 1,
      ...over,
    });
    schedulers.push(scheduler);
    return scheduler;
  }

  it('sends one e-mail when two replicas are due at the same time, day after day', async () => {
    const a = replica();
    const b = replica();
    expect(await a.runDue(DAY1 - HOUR)).toEqual({ kind: 'initialised', from: DAY1 - 24 * HOUR });
    for (let day = 0; day < 10; day++) {
      const slot = DAY1 + day * 24 * HOUR;
      await addTransition(redis, keys, simpleFinished(`job-${day}`, `day-${day}.parquet`, slot - 3 * HOUR));
      const results = await Promise.all([a.runDue(slot + 3), b.runDue(slot + 7)]);
      expect(results.map((result) => result.kind).sort()).toContain('done');
    }
    expect(smtp.mails).toHaveLength(10);
    // Every day's job in exactly one e-mail, and each e-mail holds exactly one day.
    for (let day = 0; day < 10; day++) {
      expect(smtp.mails.filter((mail) => mail.parsed.text?.includes(`day-${day}.parquet`))).toHaveLength(1);
    }
    expect(smtp.mails.every((mail) => (mail.parsed.text?.match(/day-\d+\.parquet/g) ?? []).length === 1)).toBe(true);
    // Late calls for the same slot do nothing.
    expect(await a.runDue(DAY1 + 9 * 24 * HOUR + MIN)).toEqual({ kind: 'idle' });
    expect(smtp.mails).toHaveLength(10);
  });

  it('does not send again after a restart', async () => {
    const first = replica();
    await first.runDue(DAY1 - HOUR);
    await addTransition(redis, keys, simpleFinished('job-a', 'a.parquet', DAY1 - 2 * HOUR));
    expect((await first.runDue(DAY1)).kind).toBe('done');
    await first.stop();

    const restarted = replica({ clock: () => DAY1 + 5 * MIN });
    expect(await restarted.start()).toEqual({ kind: 'idle' });
    expect(smtp.mails).toHaveLength(1);
  });

  it('sends a period missed while stopped once at start, covering everything since the last one sent', async () => {
    const first = replica();
    await first.runDue(DAY1 - HOUR);
    await addTransition(redis, keys, simpleFinished('job-1', 'before.parquet', DAY1 - 2 * HOUR));
    await first.runDue(DAY1);
    await first.stop();
    expect(smtp.mails).toHaveLength(1);

    // Down from DAY1 + 1 h to DAY3 + 2 h: the DAY2 and DAY3 digests were never sent.
    await addTransition(redis, keys, simpleFinished('job-2', 'day2.parquet', DAY1 + 5 * HOUR));
    await addTransition(redis, keys, simpleFinished('job-3', 'day3.parquet', DAY2 + 5 * HOUR));
    await addTransition(redis, keys, simpleFinished('job-4', 'after.parquet', DAY3 + HOUR)); // after the DAY3 slot: next digest

    const [x, y] = [replica({ clock: () => DAY3 + 2 * HOUR }), replica({ clock: () => DAY3 + 2 * HOUR })];
    const results = await Promise.all([x.start(), y.start()]);
    expect(results.map((result) => result?.kind).sort()).toContain('done');
    expect(smtp.mails).toHaveLength(2);
    const caughtUp = smtp.mails[1]!.parsed;
    expect(caughtUp.text).toContain('Period: 2026-01-20 08:00 UTC – 2026-01-22 08:00 UTC');
    expect(caughtUp.text).toContain('day2.parquet');
    expect(caughtUp.text).toContain('day3.parquet');
    expect(caughtUp.text).not.toContain('before.parquet');
    expect(caughtUp.text).not.toContain('after.parquet');

    // The next slot covers exactly what came after.
    expect((await x.runDue(DAY4)).kind).toBe('done');
    expect(smtp.mails).toHaveLength(3);
    expect(smtp.mails[2]!.parsed.text).toContain('after.parquet');
    expect(smtp.mails[2]!.parsed.text).not.toContain('day3.parquet');
  });

  it('catches nothing up on a very first start: the first digest comes at the next slot', async () => {
    await addTransition(redis, keys, simpleFinished('old', 'old.parquet', DAY1 - 30 * HOUR));
    await addTransition(redis, keys, simpleFinished('new', 'new.parquet', DAY1 - 2 * HOUR));
    const scheduler = replica({ clock: () => DAY1 - HOUR });
    expect(await scheduler.start()).toEqual({ kind: 'initialised', from: DAY1 - 24 * HOUR });
    expect(smtp.mails).toHaveLength(0);
    expect((await scheduler.runDue(DAY1)).kind).toBe('done');
    expect(smtp.mails).toHaveLength(1);
    expect(smtp.mails[0]!.parsed.text).toContain('new.parquet');
    expect(smtp.mails[0]!.parsed.text).not.toContain('old.parquet');
  });

  it('lists finished and failed jobs with the figures the API returned, and running jobs with progress and ETA', async () => {
    const scheduler = replica();
    await scheduler.runDue(DAY1 - HOUR);
    await addTransition(redis, keys, transitionFrom(finishedAnswer('job-abc123-def456', 'your_data.parquet'), DAY1 - 20 * HOUR));
    await addTransition(redis, keys, transitionFrom(failedAnswer(4711, 'bad_input.parquet', 'Input check failed: no geometry column'), DAY1 - 10 * HOUR, 'queued'));
    const now = DAY1 + 2_000;
    tracked = [
      {
        job: normalizeJob({ jobRunId: 'job-run-1', inputFileName: 'still_running.parquet', status: 'running', progress: 65, createdAt: '2026-01-20T05:00:00Z' }, 'ROAD_MATCHING').job,
        status: 'running',
        version: 1,
        // First seen already running: the ETA comes from the samples alone.
        firstSeenAt: now - HOUR,
        lastChangeAt: now - HOUR,
        lastFetchedAt: now,
        progress: [
          [now - HOUR, 35],
          [now - 30 * MIN, 50],
          [now, 65],
        ],
      },
    ];
    expect((await scheduler.runDue(now)).kind).toBe('done');
    expect(smtp.mails).toHaveLength(1);
    const { html, text, subject, to } = smtp.mails[0]!.parsed;
    expect(subject).toBe('[gem-watch] Digest 2026-01-20: 1 finished, 1 failed, 1 running, 0 queued');
    expect(JSON.stringify(to)).toContain('team@example.com');
    for (const part of [String(html), String(text)]) {
      expect(part).toContain('your_data.parquet');
      expect(part).toContain('84.68%');
      expect(part).toContain('67.5%');
      expect(part).toContain('141,977.6');
      expect(part).toContain('32,456');
      expect(part).toContain('2 h 42 min');
      expect(part).toContain('bad_input.parquet');
      expect(part).toContain('Input check failed: no geometry column');
      expect(part).toContain('still_running.parquet');
      expect(part).toContain('65%');
      // 30 %/h from the samples: 35 % to go = 70 minutes.
      expect(part).toContain('2026-01-20 09:10 UTC');
      expect(part).toContain('in 1 h 10 min');
    }
    expect(text).toMatch(/matched 84\.68% \[#{17}-{3}\] · fully 67\.5% · 141,977\.6 km · 32,456 roads · 2 h 42 min/);
    expect(String(html)).toMatch(/>141,977\.6<\/td>.*>32,456<\/td>.*>2 h 42 min<\/td>/);
    expect(String(html)).toContain('width="85"');
  });

  it('keeps hostile file names inert in the e-mail and the Slack summary', async () => {
    const scheduler = replica({ slack: true });
    await scheduler.runDue(DAY1 - HOUR);
    await addTransition(redis, keys, simpleFinished('job-evil', HOSTILE, DAY1 - 2 * HOUR));
    await addTransition(redis, keys, transitionFrom(failedAnswer(66, `${HOSTILE}.parquet`, `${HOSTILE}\r\nBcc: victim@example.com`), DAY1 - HOUR));
    expect((await scheduler.runDue(DAY1)).kind).toBe('done');

    const mail = smtp.mails[0]!;
    const html = String(mail.parsed.html);
    expect(html).not.toContain('<script');
    expect(html).not.toContain('<!channel>');
    expect(html).not.toContain('<https://evil.example');
    expect(html).toContain('&lt;!channel&gt; &lt;https://evil.example|click&gt; &lt;script&gt;x&lt;/script&gt;');
    expect(mail.parsed.text).toContain(HOSTILE);
    expect(mail.parsed.subject).not.toContain('<');
    expect(mail.envelope.to).toEqual(['team@example.com']);
    expect(mail.parsed.headers.has('bcc')).toBe(false);

    await slack.waitFor((requests) => requests.length === 1);
    const request = slack.accepted()[0]!;
    expect(request.raw).not.toContain('<!channel>');
    expect(request.raw).not.toContain('<https://evil.example');
    expect(request.raw).toContain('&lt;!channel&gt; &lt;https://evil.example|click&gt;');
  });

  it('retries a send the SMTP server refused, and loses nothing', async () => {
    const scheduler = replica();
    await scheduler.runDue(DAY1 - HOUR);
    await addTransition(redis, keys, simpleFinished('job-r', 'retry.parquet', DAY1 - 2 * HOUR));
    smtp.refuseNext(2, { code: 451 });
    const failed = await scheduler.runDue(DAY1);
    expect(failed).toMatchObject({ kind: 'failed', channel: 'email' });
    expect(await redis.get(keys.digestPending())).toContain(`"end":${DAY1}`);
    expect((await scheduler.runDue(DAY1 + MIN)).kind).toBe('failed');
    expect(smtp.mails).toHaveLength(0);
    expect(await scheduler.runDue(DAY1 + 2 * MIN)).toMatchObject({ kind: 'done', digests: [{ outcome: 'sent', channels: ['email'] }] });
    expect(smtp.mails).toHaveLength(1);
    expect(smtp.mails[0]!.parsed.text).toContain('retry.parquet');
    expect(smtp.mails[0]!.parsed.text).toContain('Period: 2026-01-19 08:00 UTC – 2026-01-20 08:00 UTC');
    expect(await redis.get(keys.digestPending())).toBeNull();
  });

  it('backs off a failed send for every replica alike', async () => {
    const a = replica({ retryMinMs: 5 * MIN });
    const b = replica({ retryMinMs: 5 * MIN });
    await a.runDue(DAY1 - HOUR);
    await addTransition(redis, keys, simpleFinished('job-b', 'backoff.parquet', DAY1 - 2 * HOUR));
    smtp.refuseNext(1, { code: 451 });
    expect((await a.runDue(DAY1)).kind).toBe('failed');
    expect(JSON.parse((await redis.get(keys.digestPending()))!)).toMatchObject({
      failures: 1,
      retryAt: DAY1 + 5 * MIN,
      lastError: expect.stringContaining('451'),
    });
    const attempts = smtp.attempts.length;
    expect(await b.runDue(DAY1 + MIN)).toEqual({ kind: 'idle' });
    expect(smtp.attempts.length).toBe(attempts);
    expect((await b.runDue(DAY1 + 5 * MIN)).kind).toBe('done');
    expect(smtp.mails).toHaveLength(1);
    expect(await redis.get(keys.digestPending())).toBeNull();
  });

  it('keeps the period of a failed send when the next slot arrives: two digests, no overlap', async () => {
    const scheduler = replica();
    await scheduler.runDue(DAY1 - HOUR);
    await addTransition(redis, keys, simpleFinished('job-1', 'first.parquet', DAY1 - 2 * HOUR));
    await addTransition(redis, keys, simpleFinished('job-2', 'second.parquet', DAY2 - 2 * HOUR));
    smtp.refuseNext(1, { code: 421 });
    expect((await scheduler.runDue(DAY1)).kind).toBe('failed');
    // SMTP is back only at the next slot: the pending period goes first, then the new one.
    const result = await scheduler.runDue(DAY2);
    expect(result).toMatchObject({ kind: 'done' });
    expect(result.kind === 'done' && result.digests.map((digest) => digest.period)).toEqual([
      { start: DAY1 - 24 * HOUR, end: DAY1 },
      { start: DAY1, end: DAY2 },
    ]);
    expect(smtp.mails.map((mail) => (mail.parsed.text?.match(/(first|second)\.parquet/g) ?? []).join())).toEqual(['first.parquet', 'second.parquet']);
  });

  it('finishes the period a crashed replica left behind once its lease expires', async () => {
    const scheduler = replica({ clock: () => DAY1 + MIN });
    await redis.set(keys.digestLastEnd(), String(DAY1 - 24 * HOUR));
    await addTransition(redis, keys, simpleFinished('job-c', 'crash.parquet', DAY1 - 2 * HOUR));
    // What a replica that died right after claiming the period leaves: the lease and the pending period.
    await redis.set(keys.digestLock(), `${DAY1}:dead-replica`, 'PX', 300);
    await redis.set(keys.digestPending(), JSON.stringify({ start: DAY1 - 24 * HOUR, end: DAY1, done: [] }));
    expect((await scheduler.runDue(DAY1 + MIN)).kind).toBe('busy');
    expect(smtp.mails).toHaveLength(0);
    await waitUntil(async () => (await redis.exists(keys.digestLock())) === 0);
    expect((await scheduler.runDue(DAY1 + 2 * MIN)).kind).toBe('done');
    expect(smtp.mails).toHaveLength(1);
    expect(smtp.mails[0]!.parsed.text).toContain('crash.parquet');
    expect(await redis.get(keys.digestLastEnd())).toBe(String(DAY1));
  });

  it('does not repeat the e-mail when Slack failed after it: only Slack is retried', async () => {
    const scheduler = replica({ slack: true });
    await scheduler.runDue(DAY1 - HOUR);
    await addTransition(redis, keys, simpleFinished('job-s', 'slack.parquet', DAY1 - 2 * HOUR));
    slack.failNext(1, { status: 503 });
    expect(await scheduler.runDue(DAY1)).toMatchObject({ kind: 'failed', channel: 'slack' });
    expect(smtp.mails).toHaveLength(1);
    expect(JSON.parse((await redis.get(keys.digestPending()))!)).toMatchObject({ done: ['email'] });
    expect(await scheduler.runDue(DAY1 + MIN)).toMatchObject({ kind: 'done', digests: [{ channels: ['email', 'slack'] }] });
    expect(smtp.mails).toHaveLength(1);
    expect(slack.accepted()).toHaveLength(1);
  });

  it('gives a period up on a channel that refuses it until the next slot, so later digests go out on the others', async () => {
    const scheduler = replica({ slack: true, retryMinMs: 5 * MIN });
    await scheduler.runDue(DAY1 - HOUR);
    await addTransition(redis, keys, simpleFinished('job-1', 'first.parquet', DAY1 - 2 * HOUR));
    await addTransition(redis, keys, simpleFinished('job-2', 'second.parquet', DAY2 - 2 * HOUR));
    // A revoked webhook: every post refused.
    slack.failNext(100, { status: 404, body: 'no_service' });
    expect(await scheduler.runDue(DAY1)).toMatchObject({ kind: 'failed', channel: 'slack' });
    expect(smtp.mails).toHaveLength(1);
    // Backed off, then retried within the period: still pending, the e-mail not sent again.
    expect(await scheduler.runDue(DAY1 + MIN)).toEqual({ kind: 'idle' });
    expect((await scheduler.runDue(DAY1 + 5 * MIN)).kind).toBe('failed');
    expect(smtp.mails).toHaveLength(1);

    // The next slot: one last try on Slack, then the first period is given up there and the second goes out.
    const next = await scheduler.runDue(DAY2);
    expect(next).toMatchObject({ kind: 'failed', channel: 'slack', digests: [{ period: { start: DAY1 - 24 * HOUR, end: DAY1 }, outcome: 'sent', channels: ['email'], missed: ['slack'] }] });
    expect(smtp.mails.map((mail) => (mail.parsed.text?.match(/(first|second)\.parquet/g) ?? []).join())).toEqual(['first.parquet', 'second.parquet']);
    expect(JSON.parse((await redis.get(keys.digestPending()))!)).toMatchObject({ start: DAY1, end: DAY2, done: ['email'], failures: 1 });
    expect(JSON.parse((await redis.lindex(keys.digestLog(), 0))!)).toMatchObject({ end: DAY1, outcome: 'sent', channels: ['email'], missed: ['slack'] });
    // The backoff holds after the slot: no retry every minute.
    const posts = slack.requests.length;
    expect(await scheduler.runDue(DAY2 + MIN)).toEqual({ kind: 'idle' });
    expect(slack.requests.length).toBe(posts);
  });

  it('skips the backoff once for a new slot, not on every check after it', async () => {
    const scheduler = replica({ slack: true, retryMinMs: 30 * MIN });
    await redis.set(keys.digestLastEnd(), String(DAY1 - 24 * HOUR));
    // Left by a last try at the DAY2 slot that failed on something other than a channel (Redis,
    // composing): the DAY1 period still pending, its backoff set after the slot.
    await redis.set(
      keys.digestPending(),
      JSON.stringify({ start: DAY1 - 24 * HOUR, end: DAY1, done: [], failures: 3, failedAt: DAY2 + 10_000, retryAt: DAY2 + 30 * MIN, lastError: 'x' }),
    );
    expect(await scheduler.runDue(DAY2 + MIN)).toEqual({ kind: 'idle' });
    expect(await scheduler.runDue(DAY2 + 2 * MIN)).toEqual({ kind: 'idle' });
    expect(smtp.attempts).toHaveLength(0);
    expect((await scheduler.runDue(DAY2 + 30 * MIN)).kind).toBe('done');
  });

  it('does not give a failing period up when digest --now retries it', async () => {
    const scheduler = replica({ slack: true });
    await scheduler.runDue(DAY1 - HOUR);
    await addTransition(redis, keys, simpleFinished('job-n', 'now.parquet', DAY1 - 2 * HOUR));
    slack.failNext(2, { status: 503 });
    expect(await scheduler.runDue(DAY1)).toMatchObject({ kind: 'failed', channel: 'slack' });
    expect(await scheduler.sendNow(DAY1 + HOUR)).toMatchObject({ kind: 'failed', channel: 'slack', digests: [] });
    expect(JSON.parse((await redis.get(keys.digestPending()))!)).toMatchObject({ end: DAY1, done: ['email'], failures: 2 });
  });

  it('still posts to Slack when the SMTP server refuses, and then retries only the e-mail', async () => {
    const scheduler = replica({ slack: true });
    await scheduler.runDue(DAY1 - HOUR);
    await addTransition(redis, keys, simpleFinished('job-e', 'email.parquet', DAY1 - 2 * HOUR));
    smtp.refuseNext(1, { code: 451 });
    expect(await scheduler.runDue(DAY1)).toMatchObject({ kind: 'failed', channel: 'email' });
    expect(slack.accepted()).toHaveLength(1);
    expect(JSON.parse((await redis.get(keys.digestPending()))!)).toMatchObject({ done: ['slack'] });
    expect(await scheduler.runDue(DAY1 + MIN)).toMatchObject({ kind: 'done', digests: [{ channels: ['slack', 'email'] }] });
    expect(smtp.mails).toHaveLength(1);
    expect(slack.accepted()).toHaveLength(1);
  });

  it('puts a transition in the period its stream entry falls in, though its replica’s clock said a hair earlier', async () => {
    const scheduler = replica();
    await scheduler.runDue(DAY1 - HOUR);
    // Detected at 07:59:59.998 by a replica whose clock runs 3 ms behind Redis's: recorded at 08:00:00.001.
    const skewed = simpleFinished('job-k', 'skewed.parquet', DAY1 - 2);
    await redis.xadd(keys.transitions(), `${DAY1 + 1}-*`, 't', JSON.stringify(skewed));
    expect(await scheduler.runDue(DAY1)).toMatchObject({ kind: 'done', digests: [{ outcome: 'skipped-empty' }] });
    expect(await scheduler.runDue(DAY2)).toMatchObject({ kind: 'done', digests: [{ outcome: 'sent' }] });
    expect(smtp.mails).toHaveLength(1);
    expect(smtp.mails[0]!.parsed.text).toContain('skewed.parquet');
  });

  it('reads a period only once Redis’s clock has passed its end', async () => {
    const scheduler = replica();
    await redis.set(keys.digestLastEnd(), String(Date.now() - HOUR));
    // A replica whose clock runs 400 ms ahead of Redis's sends "now"; a job ends in those 400 ms.
    const end = Date.now() + 400;
    const sending = scheduler.sendNow(end);
    await new Promise((resolve) => setTimeout(resolve, 100));
    await redis.xadd(keys.transitions(), '*', 't', JSON.stringify(simpleFinished('job-l', 'last-moment.parquet', Date.now())));
    expect(await sending).toMatchObject({ kind: 'done', digests: [{ period: { end } }] });
    expect(smtp.mails[0]!.parsed.text).toContain('last-moment.parquet');
  });

  it('skips an empty period by default, and records it so the next digest does not repeat it', async () => {
    const scheduler = replica();
    await scheduler.runDue(DAY1 - HOUR);
    expect(await scheduler.runDue(DAY1)).toMatchObject({ kind: 'done', digests: [{ outcome: 'skipped-empty', channels: [] }] });
    expect(smtp.mails).toHaveLength(0);
    expect(await redis.get(keys.digestLastEnd())).toBe(String(DAY1));
    expect((await scheduler.state.recent(1))[0]).toMatchObject({ outcome: 'skipped-empty', end: DAY1 });
  });

  it('sends "nothing happened" for an empty period when digest.sendEmpty is set', async () => {
    const scheduler = replica({ sendEmpty: true });
    await scheduler.runDue(DAY1 - HOUR);
    expect((await scheduler.runDue(DAY1)).kind).toBe('done');
    expect(smtp.mails).toHaveLength(1);
    expect(smtp.mails[0]!.parsed.subject).toBe('[gem-watch] Digest 2026-01-20: nothing happened');
    expect(smtp.mails[0]!.parsed.text).toContain('Nothing happened in this period');
  });

  it('names its periods by the cron in the digest time zone', async () => {
    // 08:00 in Amsterdam is 07:00 UTC in winter.
    const scheduler = replica({ timeZone: 'Europe/Amsterdam', sendEmpty: true });
    expect(await scheduler.runDue(DAY1 - 2 * HOUR)).toEqual({ kind: 'initialised', from: DAY1 - 25 * HOUR });
    expect(await scheduler.runDue(DAY1 - HOUR - 1)).toEqual({ kind: 'idle' });
    expect((await scheduler.runDue(DAY1 - HOUR)).kind).toBe('done');
    expect(smtp.mails[0]!.parsed.text).toContain('Period: 2026-01-19 08:00 GMT+1 – 2026-01-20 08:00 GMT+1');
  });

  it('sends the next digest early with sendNow, and the scheduled one then starts there', async () => {
    const scheduler = replica();
    await scheduler.runDue(DAY1 - HOUR);
    await addTransition(redis, keys, simpleFinished('job-1', 'early.parquet', DAY1 - 2 * HOUR));
    const now = DAY1 - 30 * MIN;
    expect(await scheduler.sendNow(now)).toMatchObject({ kind: 'done', digests: [{ period: { start: DAY1 - 24 * HOUR, end: now } }] });
    await addTransition(redis, keys, simpleFinished('job-2', 'late.parquet', DAY1 - 10 * MIN));
    expect(await scheduler.runDue(DAY1)).toMatchObject({ kind: 'done', digests: [{ period: { start: now, end: DAY1 } }] });
    expect(smtp.mails.map((mail) => (mail.parsed.text?.match(/(early|late)\.parquet/g) ?? []).join())).toEqual(['early.parquet', 'late.parquet']);
  });

  it('fires on the node-cron schedule', async () => {
    const scheduler = replica({ cron: '* * * * * *', sendEmpty: true });
    expect((await scheduler.start())?.kind).toBe('initialised');
    await smtp.waitFor((sink) => sink.mails.length >= 1);
    await scheduler.stop();
    expect(smtp.mails[0]!.parsed.subject).toContain('[gem-watch] Digest');
  });

  it('accepts the state store shape: a TrackedJob is a DigestTrackedJob', () => {
    const asDigest = (job: TrackedJob): DigestTrackedJob => job;
    expect(asDigest).toBeTypeOf('function');
  });
});

/** Polls a condition (no fixed sleep decides the outcome); fails after 10 s. */
async function waitUntil(condition: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met within 10 s');
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
