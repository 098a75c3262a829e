import { Queue, Worker, type Job, type Processor } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { capturedLogger, notifyConfig, type NotifyConfigOptions } from './helpers/notify-config.js';
import { startRedis, uniquePrefix, type TestRedis } from './helpers/redis.js';
import { blockKitProblems, startSlackSink, type SlackSink } from './helpers/slack-sink.js';
import { startSmtpSink, type SmtpSink } from './helpers/smtp-sink.js';
import type { Config } from '../src/config/schema.js';
import { resolveDestinations } from '../src/domain/routing.js';
import type { Transition } from '../src/domain/transition.js';
import { createNotifiers, type NotifierRegistry } from '../src/notify/registry.js';
import { sampleTransition } from '../src/notify/sample-data.js';
import type { OperatorAlert } from '../src/domain/operator-alert.js';
import { QUEUE_NAMES } from '../src/queue/names.js';
import { notifyTaskId, type NotifyTaskData } from '../src/notify/task.js';
import { createNotifyProcessor, notifyWorkerOptions } from '../src/queue/notify-processor.js';
import type { NotifyResult } from '../src/notify/delivery.js';
import type { DeliveryOutcomeEvent } from '../src/notify/stages/record.js';
import { notifyJobOptions } from '../src/notify/task-options.js';
import { Keys } from '../src/state/keys.js';
import { startTeamsSink, type TeamsSink } from '../src/simulator/teams-workflows-sink.js';
import { startWebhookReceiver, type WebhookReceiver } from '../src/simulator/webhook-receiver.js';
import { until } from './helpers/until.js';
import { dumpRedis } from './helpers/redis-dump.js';

/**
 * Delivery end to end, as the pipeline drives it: transitions are routed, one notify task per
 * destination is added with its deterministic id and `notifyJobOptions`, and a real BullMQ Worker
 * with the notify processor delivers them to the Slack sink and to smtp-server, over a real Redis.
 * Every wait is on a condition; the only time assertions are lower bounds read off the sink's own
 * clock (a Retry-After honoured, a rate limit kept).
 */

const NOW = Date.UTC(2026, 0, 20, 10, 25);
const WEBHOOK_SECRET = 'T0SECRET/B0SECRET/webhookTokenQ1w2E3r4T5y6';
const SMTP_PASSWORD = 'Sm7p-pa55/word';
const API_KEY = 'gem-api-key-5ecret-value';
const HOSTILE = '<!channel> <https://evil.example|click> <script>x</script>';
const TEAMS_SIG = 'teamsSigQ1w2E3r4T5y6U7i8O9p0';

let redis: TestRedis;
let slackSink: SlackSink;
let smtpSink: SmtpSink;
let teamsSink: TeamsSink;
let receiver: WebhookReceiver;
const logs = capturedLogger('debug');
const prefixes: string[] = [];

beforeAll(async () => {
  redis = await startRedis();
  slackSink = await startSlackSink();
  smtpSink = await startSmtpSink({ auth: { user: 'gem-watch', pass: SMTP_PASSWORD } });
  teamsSink = await startTeamsSink();
  receiver = await startWebhookReceiver();
});

afterAll(async () => {
  // The whole file's logs and everything left in Redis must be free of secrets.
  const client = redis.client();
  try {
    const secrets = [WEBHOOK_SECRET, 'webhookTokenQ1w2E3r4T5y6', SMTP_PASSWORD, encodeURIComponent(SMTP_PASSWORD), API_KEY, TEAMS_SIG, receiver.secret, receiver.secret.slice('whsec_'.length)];
    const stored = await dumpRedis(client, prefixes);
    expect(stored.length).toBeGreaterThan(1_000);
    expect(logs.lines.length).toBeGreaterThan(20);
    for (const secret of secrets) {
      expect(stored).not.toContain(secret);
      for (const line of logs.lines) expect(line).not.toContain(secret);
    }
  } finally {
    client.disconnect();
    await slackSink.close();
    await smtpSink.close();
    await teamsSink.close();
    await receiver.close();
    await redis.close();
  }
});

interface Harness {
  config: Config;
  queue: Queue<NotifyTaskData, NotifyResult>;
  keys: Keys;
  /** A plain client on the test Redis. */
  redis: Redis;
  notifiers: NotifierRegistry;
  events: DeliveryOutcomeEvent[];
  /** Routes a transition or alert and adds one task per destination, as the pipeline does. */
  enqueue(subject: Transition | OperatorAlert): Promise<string[]>;
  /** Resolves when every task in `ids` is completed or failed. */
  settled(ids: string[]): Promise<void>;
  job(id: string): Promise<Job<NotifyTaskData, NotifyResult>>;
  close(): Promise<void>;
}

const open: Harness[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((harness) => harness.close()));
  slackSink.reset();
  smtpSink.reset();
  teamsSink.reset();
  receiver.reset();
});

async function harness(
  options: { config?: NotifyConfigOptions; wrap?: (processor: Processor<NotifyTaskData, NotifyResult>) => Processor<NotifyTaskData, NotifyResult> } = {},
): Promise<Harness> {
  const prefix = uniquePrefix('notify');
  prefixes.push(prefix);
  const config = notifyConfig({
    slackWebhookUrl: slackSink.webhookUrl(WEBHOOK_SECRET),
    smtpUrl: smtpSink.url(),
    ...options.config,
    env: { GEM_API_KEY: API_KEY, GEM_WATCH_PREFIX: prefix, REDIS_URL: redis.url, ...options.config?.env },
    // Fast retries for tests; the shipped defaults are 1 s doubling to 5 min.
    yaml: { notify: { backoffMs: 50, maxBackoffMs: 400, slackPerSecond: 50, attempts: 6 }, ...options.config?.yaml },
  });
  const keys = new Keys(prefix);
  const notifiers = createNotifiers(config, logs.logger);
  const client = redis.client();
  const queueConnection = new Redis(redis.url, { maxRetriesPerRequest: null });
  const workerConnection = new Redis(redis.url, { maxRetriesPerRequest: null });
  const events: DeliveryOutcomeEvent[] = [];
  const queue = new Queue<NotifyTaskData, NotifyResult>(QUEUE_NAMES.notify, { connection: queueConnection, prefix });
  queue.on('error', (error) => logs.logger.error({ err: error }, 'queue error'));
  const processor = createNotifyProcessor({ config, notifiers, redis: client, keys, logger: logs.logger, onOutcome: (event) => void events.push(event) });
  const worker = new Worker<NotifyTaskData, NotifyResult>(QUEUE_NAMES.notify, options.wrap ? options.wrap(processor) : processor, {
    connection: workerConnection,
    prefix,
    ...notifyWorkerOptions(config),
  });
  worker.on('error', (error) => logs.logger.error({ err: error }, 'worker error'));

  const h: Harness = {
    config,
    queue,
    keys,
    redis: client,
    notifiers,
    events,
    async enqueue(subject) {
      const destinations = resolveDestinations(subject, config);
      const tasks = destinations.map((destination) => {
        const data: NotifyTaskData = 'jobId' in subject ? { transition: subject, ...destination } : { alert: subject, ...destination };
        return { name: 'jobId' in subject ? 'transition' : 'alert', data, opts: { ...notifyJobOptions(config), jobId: notifyTaskId(data) } };
      });
      await queue.addBulk(tasks);
      return tasks.map((task) => task.opts.jobId);
    },
    async settled(ids) {
      await until(async () => {
        const states = await Promise.all(ids.map(async (id) => (await queue.getJob(id))?.getState()));
        return states.every((state) => state === 'completed' || state === 'failed');
      }, `tasks ${ids.join(', ')} to settle`);
    },
    async job(id) {
      const job = await queue.getJob(id);
      if (!job) throw new Error(`no task ${id}`);
      return job;
    },
    async close() {
      await worker.close();
      await queue.close();
      await notifiers.close();
      queueConnection.disconnect();
      workerConnection.disconnect();
      client.disconnect();
    },
  };
  open.push(h);
  return h;
}

function withJob(status: 'finished' | 'failed', jobId: string, patch: Partial<Transition['job']> = {}): Transition {
  const transition = sampleTransition(status, NOW, jobId);
  return { ...transition, job: { ...transition.job, ...patch } };
}

/** Texts of all blocks and the fallback of a recorded Slack payload. */
function slackText(body: unknown): string {
  return JSON.stringify(body);
}

describe('notify queue delivery', () => {
  it('announces a finished and a failed transition once each in Slack and by email, with the statistics', async () => {
    const h = await harness();
    const finished = withJob('finished', 'job-100');
    const failed = withJob('failed', 'job-200');
    const ids = [...(await h.enqueue(finished)), ...(await h.enqueue(failed))];
    expect(ids).toEqual([
      'notify-job.100-v3-default-slack-default',
      'notify-job.100-v3-default-email-route',
      'notify-job.200-v3-default-slack-default',
      'notify-job.200-v3-default-email-route',
    ].map((id) => id.replace('job.', 'job%2d')));
    await h.settled(ids);

    const posts = slackSink.accepted();
    expect(posts).toHaveLength(2);
    const finishedPost = slackText(posts.find((post) => post.raw.includes('job-100'))?.body);
    for (const statistic of ['84.68%', '80.12%', '4.56%', '15.32%', '12,345.6 km', '271,828', '2 h 42 min', 'sample_roads_matched.parquet']) {
      expect(finishedPost).toContain(statistic);
    }
    expect(slackText(posts.find((post) => post.raw.includes('job-200'))?.body)).toContain('Input check failed');

    expect(smtpSink.mails).toHaveLength(2);
    const subjects = smtpSink.mails.map((mail) => mail.parsed.subject).sort();
    expect(subjects).toEqual(['[gem-watch] ROAD_MATCHING job job-100 finished: 84.68% matched', '[gem-watch] ROAD_MATCHING job job-200 failed']);
    const finishedMail = smtpSink.mails.find((mail) => mail.parsed.subject?.includes('job-100'));
    expect(finishedMail?.parsed.text).toContain('Roads matched:');
    expect(finishedMail?.parsed.html).toContain('271,828');
    expect(finishedMail?.envelope.to).toEqual(['ops@example.com']);

    // A replay (a second replica, a re-dispatch) adds the same ids: nothing new goes out.
    await h.enqueue(finished);
    await h.enqueue(failed);
    // A replay after the completed tasks were removed is stopped by the delivered markers.
    for (const id of ids) await (await h.job(id)).remove();
    const again = [...(await h.enqueue(finished)), ...(await h.enqueue(failed))];
    await h.settled(again);
    expect(slackSink.accepted()).toHaveLength(2);
    expect(smtpSink.mails).toHaveLength(2);
    expect((await h.job(again[0]!)).returnvalue).toMatchObject({ outcome: 'already-delivered' });
    expect(h.events.filter((event) => event.outcome === 'already-delivered')).toHaveLength(4);
  });

  it('honours a 429 Retry-After of 2 s: the next attempt comes no earlier', async () => {
    const h = await harness({ config: { smtpUrl: '' } });
    slackSink.failNext(1, { status: 429, retryAfterSec: 2 });
    const ids = await h.enqueue(withJob('finished', 'job-429'));
    await h.settled(ids);
    const [limited, delivered] = slackSink.requests;
    expect(slackSink.requests).toHaveLength(2);
    expect(limited?.answer).toBe(429);
    expect(delivered?.answer).toBe(200);
    expect(delivered!.at - limited!.at).toBeGreaterThanOrEqual(2_000);
    expect(await (await h.job(ids[0]!)).getState()).toBe('completed');
  });

  it('holds every task for a rate-limited webhook until its Retry-After, not only the one refused', async () => {
    // Two posts a second: the next task passes the rate gate 500 ms after the first, long after the
    // 429 came back, so only the hold it left can keep that task back for the whole 3 s. (With
    // the gate's usual spacing, posts already past it when the 429 arrives go out regardless.)
    const h = await harness({ config: { smtpUrl: '', yaml: { notify: { backoffMs: 50, maxBackoffMs: 400, slackPerSecond: 2, attempts: 6 } } } });
    slackSink.failNext(1, { status: 429, retryAfterSec: 3 });
    const ids = [...(await h.enqueue(withJob('finished', 'job-a'))), ...(await h.enqueue(withJob('finished', 'job-b'))), ...(await h.enqueue(withJob('finished', 'job-c')))];
    await h.settled(ids);
    const limited = slackSink.requests.find((request) => request.answer === 429)!;
    const later = slackSink.requests.filter((request) => request.at > limited.at);
    expect(slackSink.accepted()).toHaveLength(3);
    expect(later).toHaveLength(3);
    for (const request of later) expect(request.at - limited.at).toBeGreaterThanOrEqual(3_000);
  });

  it('retries a 500 until Slack takes the message', async () => {
    const h = await harness({ config: { smtpUrl: '' } });
    slackSink.failNext(2, { status: 500 });
    const ids = await h.enqueue(withJob('failed', 'job-500'));
    await h.settled(ids);
    expect(slackSink.requests.map((request) => request.answer)).toEqual([500, 500, 200]);
    const job = await h.job(ids[0]!);
    expect(await job.getState()).toBe('completed');
    expect(job.attemptsMade).toBe(3);
  });

  it('does not retry a 404 channel_not_found, and says so in one clear log line', async () => {
    const h = await harness({ config: { smtpUrl: '' } });
    slackSink.failNext(1, { status: 404, body: 'channel_not_found' });
    const ids = await h.enqueue(withJob('finished', 'job-404'));
    await h.settled(ids);
    const job = await h.job(ids[0]!);
    expect(await job.getState()).toBe('failed');
    expect(job.attemptsMade).toBe(1);
    expect(slackSink.requests).toHaveLength(1);
    expect(job.failedReason).toBe('[clientError] Slack webhook "default" answered 404 channel_not_found (not retried)');
    const line = logs.lines.find((text) => text.includes('job-404') && text.includes('failed permanently'));
    expect(line).toBeDefined();
    expect(JSON.parse(line!)).toMatchObject({ level: 50, channel: 'slack', target: 'default', reason: 'clientError', status: 404 });
  });

  it('retries SMTP 451 and delivers; gives up on 550 at once', async () => {
    const h = await harness({ config: { slackWebhookUrl: '' } });
    smtpSink.refuseNext(1, { code: 451 });
    const retried = await h.enqueue(withJob('finished', 'job-451'));
    await h.settled(retried);
    expect(await (await h.job(retried[0]!)).getState()).toBe('completed');
    expect(smtpSink.attempts.filter((attempt) => attempt.stage === 'data').map((attempt) => attempt.code)).toEqual([451, 250]);
    expect(smtpSink.mails).toHaveLength(1);

    smtpSink.reset();
    smtpSink.refuseNext(1, { code: 550, message: 'mailbox unavailable' });
    const refused = await h.enqueue(withJob('failed', 'job-550'));
    await h.settled(refused);
    const job = await h.job(refused[0]!);
    expect(await job.getState()).toBe('failed');
    expect(job.attemptsMade).toBe(1);
    expect(job.failedReason).toMatch(/^\[clientError\] SMTP server answered 550 mailbox unavailable/);
    expect(smtpSink.attempts.filter((attempt) => attempt.stage === 'data')).toHaveLength(1);
    expect(smtpSink.mails).toHaveLength(0);
  });

  it('keeps delivering email once while Slack is down, and Slack once when it is back', async () => {
    const h = await harness();
    slackSink.failNext(4, { status: 503 });
    const ids = await h.enqueue(withJob('failed', 'job-outage'));
    await h.settled(ids);
    expect(slackSink.requests.map((request) => request.answer)).toEqual([503, 503, 503, 503, 200]);
    expect(smtpSink.mails).toHaveLength(1);
    expect(smtpSink.attempts.filter((attempt) => attempt.stage === 'data')).toHaveLength(1);
    const emailTask = await h.job(ids.find((id) => id.endsWith('email-route'))!);
    expect(emailTask.attemptsMade).toBe(1);
  });

  it('makes a hostile file name inert in Slack and in email', async () => {
    const h = await harness();
    const ids = await h.enqueue(withJob('failed', 'job-hostile', { inputFile: HOSTILE, message: HOSTILE }));
    await h.settled(ids);
    const [post] = slackSink.accepted();
    expect(post?.raw).not.toMatch(/<!channel>|<https:|<script>/);
    expect(post?.raw).toContain('&lt;!channel&gt; &lt;https://evil.example|click&gt; &lt;script&gt;x&lt;/script&gt;');
    expect(post?.body).not.toHaveProperty('link_names');
    const [mail] = smtpSink.mails;
    expect(mail?.parsed.html).not.toMatch(/<script>|<a /i);
    expect(mail?.parsed.html).toContain('&lt;script&gt;x&lt;/script&gt;');
    expect(mail?.parsed.text).toContain(HOSTILE);
  });

  it('posts a valid payload for a 5,000-character file name', async () => {
    const h = await harness({ config: { smtpUrl: '' } });
    const ids = await h.enqueue(withJob('failed', 'job-long', { inputFile: 'x'.repeat(5_000), outputFile: '<'.repeat(5_000), message: '&'.repeat(5_000) }));
    await h.settled(ids);
    const [post] = slackSink.requests;
    expect(post?.answer).toBe(200);
    expect(blockKitProblems(post?.body)).toEqual([]);
  });

  it('keeps one message a second per webhook without spending attempts', async () => {
    const h = await harness({ config: { smtpUrl: '', yaml: { notify: { backoffMs: 50, maxBackoffMs: 400, slackPerSecond: 4, attempts: 6 } } } });
    const ids: string[] = [];
    for (const name of ['r1', 'r2', 'r3', 'r4']) ids.push(...(await h.enqueue(withJob('finished', name))));
    await h.settled(ids);
    const times = slackSink.accepted().map((request) => request.at);
    expect(times).toHaveLength(4);
    // 4 per second = one per 250 ms by Redis's clock; the sink's clock may see the gaps a few ms shorter.
    for (let i = 1; i < times.length; i += 1) expect(times[i]! - times[i - 1]!).toBeGreaterThanOrEqual(200);
    for (const id of ids) expect((await h.job(id)).attemptsMade).toBe(1);
    expect(h.events.some((event) => event.outcome === 'deferred')).toBe(true);
  });

  it('does not post again when the task fails after the post (the crash window the marker closes)', async () => {
    let crashes = 0;
    const h = await harness({
      config: { smtpUrl: '' },
      wrap: (processor) => async (job, token, signal) => {
        const result = await processor(job, token, signal);
        if (crashes === 0) {
          crashes += 1;
          throw new Error('simulated crash after the post, before the task completed');
        }
        return result;
      },
    });
    const ids = await h.enqueue(withJob('finished', 'job-crash'));
    await h.settled(ids);
    expect(crashes).toBe(1);
    expect(slackSink.requests).toHaveLength(1);
    const job = await h.job(ids[0]!);
    expect(job.attemptsMade).toBe(2);
    expect(job.returnvalue).toMatchObject({ outcome: 'already-delivered' });
    expect(await h.redis.exists(h.keys.delivered(ids[0]!))).toBe(1);
  });

  it('sends operator alerts to the default route, email included', async () => {
    const h = await harness({ config: { env: { EMAIL_ON_TRANSITION: 'false' } } });
    const alert: OperatorAlert = { kind: 'polling', state: 'down', title: 'polling failing for 15 minutes', detail: 'GEM answers 503', since: NOW };
    const ids = await h.enqueue(alert);
    expect(ids).toEqual([`notify-alert-polling-down-${NOW}-default-slack-default`, `notify-alert-polling-down-${NOW}-default-email-route`]);
    await h.settled(ids);
    expect(slackText(slackSink.accepted()[0]?.body)).toContain('gem-watch alert: polling failing for 15 minutes');
    expect(smtpSink.mails[0]?.parsed.subject).toBe('[gem-watch] ALERT: polling failing for 15 minutes');
  });

  it('gives up a malformed task and a task for a channel that is not configured, without crashing', async () => {
    const h = await harness({ config: { slackWebhookUrl: '' } });
    await h.queue.add('transition', { route: 'default', channel: 'slack', target: 'default', transition: withJob('finished', 'job-x') }, { ...notifyJobOptions(h.config), jobId: 'no-channel' });
    await h.queue.add('transition', { route: 'default', channel: 'email', target: 'route' } as NotifyTaskData, { ...notifyJobOptions(h.config), jobId: 'malformed' });
    await h.settled(['no-channel', 'malformed']);
    expect((await h.job('no-channel')).failedReason).toBe('[clientError] channel "slack" is not configured; the delivery is given up');
    expect((await h.job('malformed')).failedReason).toBe('[clientError] task has neither a transition, an alert, a group nor a digest');
  });
});

describe('Teams and the signed webhook through the notify queue', () => {
  const channels = () => ({ env: { TEAMS_WEBHOOK_URL: teamsSink.webhookUrl(TEAMS_SIG), WEBHOOK_URL: receiver.url, WEBHOOK_SECRET: receiver.secret } });

  it('gives each its own task; a webhook 500 then 204 is two attempts with one webhook-id (the task id) and one delivery', async () => {
    const h = await harness({ config: { smtpUrl: '', ...channels() } });
    receiver.failNext(1, { status: 500 });
    const ids = await h.enqueue(withJob('failed', 'job-700'));
    expect(ids).toEqual(['notify-job%2d700-v3-default-slack-default', 'notify-job%2d700-v3-default-teams-default', 'notify-job%2d700-v3-default-webhook-default']);
    await h.settled(ids);
    expect(receiver.requests.map((request) => request.answer)).toEqual([500, 204]);
    expect(receiver.requests.map((request) => request.headers['webhook-id'])).toEqual([ids[2], ids[2]]);
    expect(receiver.requests.every((request) => request.verified)).toBe(true);
    expect(receiver.deliveries()).toHaveLength(1);
    expect(receiver.deliveries()[0]?.event).toMatchObject({ type: 'job.failed', data: { job: { id: 'job-700' } } });
    expect(teamsSink.shown()).toHaveLength(1);
    expect(JSON.stringify(teamsSink.shown()[0]?.card)).toContain('Input check failed');
    expect(slackSink.accepted()).toHaveLength(1);
    // The stages count and log them like any channel.
    expect(h.events.filter((event) => event.outcome === 'delivered').map((event) => event.channel).sort()).toEqual(['slack', 'teams', 'webhook']);
    expect(h.events.find((event) => event.channel === 'webhook' && event.outcome === 'retrying')).toMatchObject({ reason: 'serverError', attempt: 1 });
  });

  it('gives up a Teams 404 and a webhook 410 at once, each in one clear log line', async () => {
    const h = await harness({ config: { slackWebhookUrl: '', smtpUrl: '', ...channels() } });
    teamsSink.failNext(1, { status: 404 });
    receiver.failNext(1, { status: 410 });
    const ids = await h.enqueue(withJob('finished', 'job-410'));
    await h.settled(ids);
    const [teams, hook] = await Promise.all(ids.map((id) => h.job(id)));
    expect(await teams!.getState()).toBe('failed');
    expect(teams!.attemptsMade).toBe(1);
    expect(teams!.failedReason).toContain('[clientError] Teams webhook "default" answered 404 (not retried: no flow answers at this URL');
    expect(await hook!.getState()).toBe('failed');
    expect(hook!.failedReason).toContain('[clientError] webhook "default" answered 410 (not retried: the receiver is gone');
    for (const channel of ['teams', 'webhook']) {
      const line = logs.lines.find((text) => text.includes('job-410') && text.includes('failed permanently') && text.includes(`"channel":"${channel}"`));
      expect(line, channel).toBeDefined();
    }
  });

  it('makes a hostile file name inert in the card and carries it as plain JSON text in the event', async () => {
    const h = await harness({ config: { slackWebhookUrl: '', smtpUrl: '', ...channels() } });
    const ids = await h.enqueue(withJob('failed', 'job-666', { inputFile: `${HOSTILE} **b** [x](https://evil.example) <at>All</at>`, message: 'x'.repeat(1_000_000) }));
    await h.settled(ids);
    const card = teamsSink.shown()[0]!.card as { body: Array<{ facts?: Array<{ title: string; value: string }> }> };
    const input = card.body.flatMap((element) => element.facts ?? []).find((fact) => fact.title === 'Input file')!.value;
    expect(input).toContain('\\<at\\>All\\</at\\>');
    expect(input).toContain('\\*\\*b\\*\\*');
    expect(input).toContain('\\[x\\](https\\://evil\\.example)');
    expect(Buffer.byteLength(teamsSink.shown()[0]!.raw)).toBeLessThan(28 * 1024);
    const event = receiver.deliveries()[0]?.event as unknown as { data: { job: { inputFile: string; message: string } } };
    expect(event.data.job.inputFile).toContain('<!channel> <https://evil.example|click> <script>x</script> **b**');
    expect(event.data.job.message.length).toBeLessThanOrEqual(8_192);
  });
});
