import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { digestSettings } from '../src/digest/digest-config.js';
import { DigestRunner, type DigestRunResult } from '../src/digest/digest-runner.js';
import { DigestScheduler } from '../src/digest/digest-scheduler.js';
import type { DigestTrackedJob } from '../src/domain/digest.js';
import type { Transition } from '../src/domain/transition.js';
import type { JobStatus } from '../src/domain/job.js';
import { normalizeJob } from '../src/gem/normalize.js';
import type { NotifyTaskData } from '../src/notify/task.js';
import { DigestLedger } from '../src/state/digest-ledger.js';
import { Keys } from '../src/state/keys.js';
import type { TrackedJob } from '../src/domain/tracked-job.js';
import { addTransition, digestDelivery, streamSource } from './digest-support.js';
import { capturedLogger, notifyConfig } from './helpers/notify-config.js';
import { waitFor } from './helpers/pipeline.js';
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

/** What a replica is given in a test: the digest's settings and the clock of the whole test. */
interface ReplicaOptions {
  cron?: string;
  timeZone?: string;
  slack?: boolean;
  sendEmpty?: boolean;
}

/**
 * One replica as the daemon builds it, over real Redis, a real BullMQ notify queue and worker, and
 * the real e-mail and Slack channels: its DigestScheduler adds slots, its DigestRunner runs them
 * (as the housekeeping worker would: `runSlot` is that processor's whole body), and its notify
 * worker delivers what the runner queued through the notify stages.
 */
interface Replica {
  scheduler: DigestScheduler;
  runner: DigestRunner;
  ledger: DigestLedger;
  notifyQueue: Queue<NotifyTaskData>;
  /** The cron (or the start, or the check) at `now`: the latest slot is added and its task run, then the queue drained. */
  runDue(now: number): Promise<DigestRunResult | undefined>;
  /** `digest --now` at `now`, then the queue drained. */
  sendNow(now: number): Promise<DigestRunResult>;
  stop(): Promise<void>;
}

describe('digest on the queue (real Redis, BullMQ, SMTP and Slack)', () => {
  let redisServer: TestRedis;
  let smtp: SmtpSink;
  let slack: SlackSink;
  let redis: Redis;
  let keys: Keys;
  let prefix: string;
  let tracked: TrackedJob[];
  /** The test's clock: the runner's, the scheduler's and the delivery's (a digest gives up by it). */
  let clock: number;
  const clients: Redis[] = [];
  const replicas: Replica[] = [];

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
    prefix = uniquePrefix('digest');
    keys = new Keys(prefix);
    redis = client();
    tracked = [];
    clock = DAY1 - HOUR;
    smtp.reset();
    slack.reset();
  });

  afterEach(async () => {
    await Promise.all(replicas.splice(0).map((replica) => replica.stop()));
    for (const c of clients.splice(0)) c.disconnect();
  });

  function client(): Redis {
    const c = redisServer.client();
    c.on('error', () => {});
    clients.push(c);
    return c;
  }

  function replica(over: ReplicaOptions = {}): Replica {
    const config = notifyConfig({
      smtpUrl: smtp.url(),
      slackWebhookUrl: slack.webhookUrl('digest-secret'),
      emailTo: ['ops@example.com'],
      yaml: {
        digest: { cron: over.cron ?? '0 8 * * *', timezone: over.timeZone ?? 'UTC', to: ['team@example.com'], slackWebhook: over.slack ? 'default' : '', sendEmpty: over.sendEmpty ?? false },
        notify: { backoffMs: 10, maxBackoffMs: 20 },
      },
      env: { REDIS_URL: redisServer.url, GEM_WATCH_PREFIX: prefix },
    });
    const { logger } = capturedLogger('warn');
    const connection = client();
    const delivery = digestDelivery(redisServer.url, config, () => clock);
    const ledger = new DigestLedger(connection, keys);
    const runner = new DigestRunner({
      ledger,
      source: streamSource(connection, keys, () => tracked),
      settings: digestSettings(config),
      enqueue: (tasks) => delivery.enqueue(tasks),
      logger,
      clock: () => clock,
    });
    let ran: DigestRunResult | undefined;
    const scheduler = new DigestScheduler({
      ledger,
      cron: config.digest.cron,
      timeZone: config.digest.timezone,
      enqueueSlot: async (slot) => {
        ran = await runner.runSlot(slot);
      },
      logger,
      clock: () => clock,
    });
    const { notifyQueue, drained } = delivery;
    const made: Replica = {
      scheduler,
      runner,
      ledger,
      notifyQueue,
      async runDue(now) {
        clock = now;
        ran = undefined;
        await scheduler.check(now);
        await drained();
        return ran;
      },
      async sendNow(now) {
        clock = now;
        const result = await runner.sendNow(now);
        await drained();
        return result;
      },
      async stop() {
        await scheduler.stop();
        runner.close();
        await delivery.close();
      },
    };
    replicas.push(made);
    return made;
  }

  /** The files named in each mail, in order. */
  const filesPerMail = (pattern: RegExp) => smtp.mails.map((mail) => (mail.parsed.text?.match(pattern) ?? []).join());

  it('sends one e-mail when two replicas are due at the same time, day after day', async () => {
    const a = replica();
    const b = replica();
    expect(await a.runDue(DAY1 - HOUR)).toBeUndefined();
    expect(await a.ledger.lastEnd()).toBe(DAY1 - 24 * HOUR);
    for (let day = 0; day < 10; day++) {
      const slot = DAY1 + day * 24 * HOUR;
      await addTransition(redis, keys, simpleFinished(`job-${day}`, `day-${day}.parquet`, slot - 3 * HOUR));
      clock = slot + 3;
      // Both replicas' slot tasks run at once, as two housekeeping workers would.
      const results = await Promise.all([a.runner.runSlot(slot), b.runner.runSlot(slot)]);
      // Both may queue the one period (the second finds it claimed and open); its tasks' ids make that one send.
      expect(new Set(results.flatMap((result) => result.digests.map((digest) => `${digest.period.start}-${digest.period.end}`)))).toEqual(new Set([`${slot - 24 * HOUR}-${slot}`]));
      await smtp.waitFor((sink) => sink.mails.length === day + 1);
    }
    await a.runDue(DAY1 + 9 * 24 * HOUR + MIN);
    expect(smtp.mails).toHaveLength(10);
    // Every day's job in exactly one e-mail, and each e-mail holds exactly one day.
    for (let day = 0; day < 10; day++) {
      expect(smtp.mails.filter((mail) => mail.parsed.text?.includes(`day-${day}.parquet`))).toHaveLength(1);
    }
    expect(smtp.mails.every((mail) => (mail.parsed.text?.match(/day-\d+\.parquet/g) ?? []).length === 1)).toBe(true);
    // A late run of a slot already done does nothing.
    expect(await b.runner.runSlot(DAY1 + 9 * 24 * HOUR)).toEqual({ kind: 'idle', digests: [] });
  });

  it('does not send again after a restart', async () => {
    const first = replica();
    await first.runDue(DAY1 - HOUR);
    await addTransition(redis, keys, simpleFinished('job-a', 'a.parquet', DAY1 - 2 * HOUR));
    expect((await first.runDue(DAY1))?.kind).toBe('done');
    await first.stop();

    const restarted = replica();
    expect(await restarted.runDue(DAY1 + 5 * MIN)).toBeUndefined();
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

    const [x, y] = [replica(), replica()];
    await Promise.all([x.runDue(DAY3 + 2 * HOUR), y.runDue(DAY3 + 2 * HOUR)]);
    expect(smtp.mails).toHaveLength(2);
    const caughtUp = smtp.mails[1]!.parsed;
    expect(caughtUp.text).toContain('Period: 2026-01-20 08:00 UTC – 2026-01-22 08:00 UTC');
    expect(caughtUp.text).toContain('day2.parquet');
    expect(caughtUp.text).toContain('day3.parquet');
    expect(caughtUp.text).not.toContain('before.parquet');
    expect(caughtUp.text).not.toContain('after.parquet');

    // The next slot covers exactly what came after.
    expect((await x.runDue(DAY4))?.kind).toBe('done');
    expect(smtp.mails).toHaveLength(3);
    expect(smtp.mails[2]!.parsed.text).toContain('after.parquet');
    expect(smtp.mails[2]!.parsed.text).not.toContain('day3.parquet');
  });

  it('catches nothing up on a very first start: the first digest comes at the next slot', async () => {
    await addTransition(redis, keys, simpleFinished('old', 'old.parquet', DAY1 - 30 * HOUR));
    await addTransition(redis, keys, simpleFinished('new', 'new.parquet', DAY1 - 2 * HOUR));
    const scheduler = replica();
    expect(await scheduler.runDue(DAY1 - HOUR)).toBeUndefined();
    expect(await scheduler.ledger.lastEnd()).toBe(DAY1 - 24 * HOUR);
    expect(smtp.mails).toHaveLength(0);
    expect((await scheduler.runDue(DAY1))?.kind).toBe('done');
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
    expect((await scheduler.runDue(now))?.kind).toBe('done');
    expect(smtp.mails).toHaveLength(1);
    const { html, text, subject, to } = smtp.mails[0]!.parsed;
    expect(subject).toBe('[gem-watch] Digest 2026-01-20: 1 finished, 1 failed, 1 running, 0 queued');
    // digest.to, not the route's EMAIL_TO.
    expect(JSON.stringify(to)).toContain('team@example.com');
    expect(JSON.stringify(to)).not.toContain('ops@example.com');
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
    expect((await scheduler.runDue(DAY1))?.kind).toBe('done');

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

    expect(slack.accepted()).toHaveLength(1);
    const request = slack.accepted()[0]!;
    expect(request.raw).not.toContain('<!channel>');
    expect(request.raw).not.toContain('<https://evil.example');
    expect(request.raw).toContain('&lt;!channel&gt; &lt;https://evil.example|click&gt;');
  });

  it('retries a send the SMTP server refused through the notify queue, and loses nothing', async () => {
    const scheduler = replica();
    await scheduler.runDue(DAY1 - HOUR);
    await addTransition(redis, keys, simpleFinished('job-r', 'retry.parquet', DAY1 - 2 * HOUR));
    smtp.refuseNext(2, { code: 451 });
    expect(await scheduler.runDue(DAY1)).toMatchObject({ kind: 'done', digests: [{ outcome: 'sent', channels: ['email'] }] });
    expect(smtp.attempts.filter((attempt) => attempt.code === 451)).toHaveLength(2);
    expect(smtp.mails).toHaveLength(1);
    expect(smtp.mails[0]!.parsed.text).toContain('retry.parquet');
    expect(smtp.mails[0]!.parsed.text).toContain('Period: 2026-01-19 08:00 UTC – 2026-01-20 08:00 UTC');
    expect(await redis.hlen(keys.digestOpen())).toBe(0);
  });

  it('does not repeat the e-mail when Slack failed: each channel is its own delivery, only Slack is retried', async () => {
    const scheduler = replica({ slack: true });
    await scheduler.runDue(DAY1 - HOUR);
    await addTransition(redis, keys, simpleFinished('job-s', 'slack.parquet', DAY1 - 2 * HOUR));
    slack.failNext(2, { status: 503 });
    smtp.refuseNext(1, { code: 451 });
    expect(await scheduler.runDue(DAY1)).toMatchObject({ kind: 'done', digests: [{ channels: ['email', 'slack'] }] });
    expect(smtp.mails).toHaveLength(1);
    expect(slack.requests).toHaveLength(3);
    expect(slack.accepted()).toHaveLength(1);
  });

  it('gives a period up on a channel that refuses it until the next slot, so later digests go out on the others', async () => {
    const scheduler = replica({ slack: true });
    await scheduler.runDue(DAY1 - HOUR);
    await addTransition(redis, keys, simpleFinished('job-1', 'first.parquet', DAY1 - 2 * HOUR));
    await addTransition(redis, keys, simpleFinished('job-2', 'second.parquet', DAY2 - 2 * HOUR));
    // Slack down for good: every post answered 503.
    slack.failNext(100_000, { status: 503 });
    clock = DAY1;
    await scheduler.scheduler.check(DAY1);
    await smtp.waitFor((sink) => sink.mails.length === 1);
    // Retried within the period, the e-mail not sent again.
    await slack.waitFor((requests) => requests.length >= 3);
    expect(smtp.mails).toHaveLength(1);

    // The next slot is due: Slack's copy of the first period is given up, and the second digest goes out.
    clock = DAY2;
    await waitFor(async () => (await scheduler.notifyQueue.getJobCounts('failed')).failed === 1, 'the Slack copy to be given up');
    const [line] = await scheduler.ledger.recent(1);
    expect(line).toMatchObject({ end: DAY1, outcome: 'sent', channels: ['email', 'slack'], missed: ['slack'] });
    slack.reset();
    expect(await scheduler.runDue(DAY2)).toMatchObject({ kind: 'done', digests: [{ period: { start: DAY1, end: DAY2 } }] });
    expect(filesPerMail(/(first|second)\.parquet/g)).toEqual(['first.parquet', 'second.parquet']);
    expect(slack.accepted()).toHaveLength(1);
  });

  it('gives a period up at once on a channel that refuses it permanently, and says so in the digest log', async () => {
    const scheduler = replica({ slack: true });
    await scheduler.runDue(DAY1 - HOUR);
    await addTransition(redis, keys, simpleFinished('job-1', 'first.parquet', DAY1 - 2 * HOUR));
    smtp.refuseNext(1, { code: 550 });
    slack.failNext(1, { status: 404, body: 'no_service' });
    expect((await scheduler.runDue(DAY1))?.kind).toBe('done');
    expect(smtp.mails).toHaveLength(0);
    expect((await scheduler.ledger.recent(1))[0]).toMatchObject({ end: DAY1, outcome: 'given-up', channels: ['email', 'slack'], missed: expect.arrayContaining(['email', 'slack']) });
  });

  it('finishes a period whose slot task died after claiming it, before the next one, with no gap and no overlap', async () => {
    const scheduler = replica();
    await scheduler.runDue(DAY1 - HOUR);
    await addTransition(redis, keys, simpleFinished('job-1', 'first.parquet', DAY1 - 2 * HOUR));
    await addTransition(redis, keys, simpleFinished('job-2', 'second.parquet', DAY2 - 2 * HOUR));
    // A replica claimed the DAY1 period and died before queuing anything.
    expect(await scheduler.ledger.claim(DAY1)).toMatchObject({ kind: 'open', period: { start: DAY1 - 24 * HOUR, end: DAY1 } });
    expect(smtp.mails).toHaveLength(0);
    const next = await scheduler.runDue(DAY2);
    expect(next?.digests.map((digest) => digest.period)).toEqual([
      { start: DAY1 - 24 * HOUR, end: DAY1 },
      { start: DAY1, end: DAY2 },
    ]);
    expect(filesPerMail(/(first|second)\.parquet/g).sort()).toEqual(['first.parquet', 'second.parquet']);
  });

  it('sends once when the slot task runs again after it queued the messages (a crash before its completion)', async () => {
    const scheduler = replica({ slack: true });
    await scheduler.runDue(DAY1 - HOUR);
    await addTransition(redis, keys, simpleFinished('job-1', 'first.parquet', DAY1 - 2 * HOUR));
    await scheduler.runDue(DAY1);
    // The period is closed; put it back as open, as a crash between queuing and closing leaves it.
    await redis.hset(keys.digestOpen(), String(DAY1), JSON.stringify({ start: DAY1 - 24 * HOUR, end: DAY1, force: false }));
    await scheduler.runner.runSlot(DAY1);
    await waitFor(async () => (await scheduler.notifyQueue.getJobCounts('waiting', 'active', 'delayed')).waiting === 0, 'the queue');
    expect(smtp.mails).toHaveLength(1);
    expect(slack.accepted()).toHaveLength(1);
  });

  it('waits while a gem-watch from before the digest ran on the queue holds its lease (an upgrade)', async () => {
    const scheduler = replica();
    await scheduler.runDue(DAY1 - HOUR);
    await redis.set(keys.digestLock(), `${DAY1}:old-daemon`, 'PX', 60_000);
    await expect(scheduler.runner.runSlot(DAY1)).rejects.toThrow(/before the digest ran on the queue/);
    expect(await scheduler.ledger.lastEnd()).toBe(DAY1 - 24 * HOUR);
    await redis.del(keys.digestLock());
    expect((await scheduler.runDue(DAY1))?.kind).toBe('done');
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
    expect((await scheduler.ledger.recent(1))[0]).toMatchObject({ outcome: 'skipped-empty', end: DAY1 });
  });

  it('sends "nothing happened" for an empty period when digest.sendEmpty is set', async () => {
    const scheduler = replica({ sendEmpty: true });
    await scheduler.runDue(DAY1 - HOUR);
    expect((await scheduler.runDue(DAY1))?.kind).toBe('done');
    expect(smtp.mails).toHaveLength(1);
    expect(smtp.mails[0]!.parsed.subject).toBe('[gem-watch] Digest 2026-01-20: nothing happened');
    expect(smtp.mails[0]!.parsed.text).toContain('Nothing happened in this period');
  });

  it('names its periods by the cron in the digest time zone', async () => {
    // 08:00 in Amsterdam is 07:00 UTC in winter.
    const scheduler = replica({ timeZone: 'Europe/Amsterdam', sendEmpty: true });
    await scheduler.runDue(DAY1 - 2 * HOUR);
    expect(await scheduler.ledger.lastEnd()).toBe(DAY1 - 25 * HOUR);
    expect(await scheduler.runDue(DAY1 - HOUR - 1)).toBeUndefined();
    expect((await scheduler.runDue(DAY1 - HOUR))?.kind).toBe('done');
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
    expect(filesPerMail(/(early|late)\.parquet/g)).toEqual(['early.parquet', 'late.parquet']);
  });

  it('fires on the node-cron schedule', async () => {
    const scheduler = replica({ cron: '* * * * * *', sendEmpty: true });
    // The real clock: node-cron fires by it.
    clock = Date.now();
    await redis.set(keys.digestLastEnd(), String(Date.now() - 1_000));
    const real = new DigestScheduler({
      ledger: scheduler.ledger,
      cron: '* * * * * *',
      timeZone: 'UTC',
      enqueueSlot: async (slot) => {
        clock = Date.now();
        await scheduler.runner.runSlot(slot);
      },
    });
    await real.start();
    await smtp.waitFor((sink) => sink.mails.length >= 1);
    await real.stop();
    expect(smtp.mails[0]!.parsed.subject).toContain('[gem-watch] Digest');
  });

  it('accepts the state store shape: a TrackedJob is a DigestTrackedJob', () => {
    const asDigest = (job: TrackedJob): DigestTrackedJob => job;
    expect(asDigest).toBeTypeOf('function');
  });
});
