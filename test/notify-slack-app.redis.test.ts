import { Queue, Worker, type Processor } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { capturedLogger, notifyConfig } from './helpers/notify-config.js';
import { startRedis, uniquePrefix, type TestRedis } from './helpers/redis.js';
import type { Config } from '../src/config/schema.js';
import type { JobStatus } from '../src/domain/job.js';
import { resolveDestinations, SLACK_APP_CHANNEL } from '../src/domain/routing.js';
import type { Transition } from '../src/domain/transition.js';
import type { NotifyResult } from '../src/notify/delivery.js';
import { createNotifiers, type NotifierRegistry } from '../src/notify/registry.js';
import { sampleTransition } from '../src/notify/sample-data.js';
import { notifyJobOptions } from '../src/notify/task-options.js';
import { notifyTaskId, type NotifyTaskData } from '../src/notify/task.js';
import { QUEUE_NAMES } from '../src/queue/names.js';
import { createNotifyProcessor, notifyWorkerOptions } from '../src/queue/notify-processor.js';
import { startSlackApiServer, type SlackApiServer } from '../src/simulator/slack-api.js';
import { blockKitProblems } from '../src/simulator/slack-sink.js';
import { Keys } from '../src/state/keys.js';
import { runChecks, type CheckResult } from '../src/check.js';
import { testNotify } from '../src/notify/operations.js';
import { DeliveryPolicy } from '../src/notify/stages/policy.js';
import { LiveProgress } from '../src/queue/live-progress.js';
import type { TrackedJob } from '../src/domain/tracked-job.js';
import { SlackAppStore } from '../src/state/slack-app-store.js';
import { until } from './helpers/until.js';
import { dumpRedis } from './helpers/redis-dump.js';

/**
 * Slack app mode end to end, as the pipeline drives it: transitions routed, one notify task per
 * destination, real BullMQ workers with the notify processor, a real Redis, and the local Slack
 * Web API server keeping the channel as a person would see it. Waits are on conditions only.
 */

const NOW = Date.UTC(2026, 0, 20, 10, 25);
const BOT_TOKEN = 'xoxb-1111111111-2222222222-SecretBotTokenQ1w2E3r4';
const CHANNEL = '#gem-alerts';
const CHANNEL_ID = 'C0GEMALERTS';

let redis: TestRedis;
let slack: SlackApiServer;
const logs = capturedLogger('debug');
const prefixes: string[] = [];

beforeAll(async () => {
  redis = await startRedis();
  slack = await startSlackApiServer({ token: BOT_TOKEN, channels: { 'gem-alerts': CHANNEL_ID, lanes: 'C0LANES0001', archived: 'C0ARCHIVED1' } });
});

afterAll(async () => {
  const client = redis.client();
  try {
    // The token is only ever in the Authorization header: not in logs, Redis, bodies or failures.
    const stored = await dumpRedis(client, prefixes);
    if (prefixes.length > 0) expect(stored.length).toBeGreaterThan(500);
    for (const line of logs.lines) expect(line).not.toContain(BOT_TOKEN);
    expect(stored).not.toContain(BOT_TOKEN);
    expect(stored).not.toContain('SecretBotTokenQ1w2E3r4');
  } finally {
    client.disconnect();
    await slack.close();
    await redis.close();
  }
});

interface Replica {
  notifiers: NotifierRegistry;
  close(): Promise<void>;
}

interface Harness {
  config: Config;
  keys: Keys;
  queue: Queue<NotifyTaskData, NotifyResult>;
  redis: Redis;
  /** Adds one task per destination, as the dispatcher does; answers their ids. */
  enqueue(transition: Transition): Promise<string[]>;
  settled(ids: string[]): Promise<void>;
  /** Starts one more worker process's worth of delivery (a replica) on the same Redis and prefix. */
  replica(wrap?: (processor: Processor<NotifyTaskData, NotifyResult>) => Processor<NotifyTaskData, NotifyResult>): Replica;
  close(): Promise<void>;
}

const open: Harness[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((harness) => harness.close()));
  slack.reset();
});

function harness(yaml: Record<string, unknown> = {}, options: { replicas?: number } = {}): Harness {
  const prefix = uniquePrefix('slackapp');
  prefixes.push(prefix);
  const config = notifyConfig({
    env: { GEM_WATCH_PREFIX: prefix, REDIS_URL: redis.url, SLACK_BOT_TOKEN: BOT_TOKEN, SLACK_CHANNEL: CHANNEL, SLACK_API_URL: slack.apiUrl },
    smtpUrl: '',
    yaml: { notify: { backoffMs: 50, maxBackoffMs: 400, attempts: 6, concurrency: 4 }, alerts: { burstWindowSec: 30 }, ...yaml },
  });
  const keys = new Keys(prefix);
  const client = redis.client();
  const queueConnection = new Redis(redis.url, { maxRetriesPerRequest: null });
  const queue = new Queue<NotifyTaskData, NotifyResult>(QUEUE_NAMES.notify, { connection: queueConnection, prefix });
  queue.on('error', () => {});
  const replicas: Replica[] = [];
  const h: Harness = {
    config,
    keys,
    queue,
    redis: client,
    async enqueue(transition) {
      const tasks = resolveDestinations(transition, config).map((destination) => {
        const data: NotifyTaskData = { transition, ...destination };
        return { name: 'transition', data, opts: { ...notifyJobOptions(config), jobId: notifyTaskId(data) } };
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
    replica(wrap) {
      const notifiers = createNotifiers(config, logs.logger);
      const state = redis.client();
      const workerConnection = new Redis(redis.url, { maxRetriesPerRequest: null });
      // The delivery policy as the pipeline builds it: quiet hours, silences and bursts apply.
      const policy = new DeliveryPolicy({ config, redis: state, keys, queue, jobOptions: notifyJobOptions(config), logger: logs.logger });
      const processor = createNotifyProcessor({ config, notifiers, redis: state, keys, logger: logs.logger, policy });
      const worker = new Worker<NotifyTaskData, NotifyResult>(QUEUE_NAMES.notify, wrap ? wrap(processor) : processor, { connection: workerConnection, prefix, ...notifyWorkerOptions(config) });
      worker.on('error', () => {});
      const replica = {
        notifiers,
        async close() {
          await worker.close();
          await notifiers.close();
          workerConnection.disconnect();
          state.disconnect();
        },
      };
      replicas.push(replica);
      return replica;
    },
    async close() {
      await Promise.all(replicas.map((replica) => replica.close()));
      await queue.close();
      queueConnection.disconnect();
      client.disconnect();
    },
  };
  for (let i = 0; i < (options.replicas ?? 1); i += 1) h.replica();
  open.push(h);
  return h;
}

/** A job's life as the detail worker records it: version 1 queued, 2 running, 3 the end. */
function lifeOf(jobId: string, end: 'finished' | 'failed' | 'cancelled' = 'finished', patch: Partial<Transition['job']> = {}): Transition[] {
  const ended = sampleTransition(end, NOW, jobId);
  const step = (to: JobStatus, version: number, from: JobStatus | undefined, extra: Partial<Transition['job']>): Transition => ({
    ...ended,
    to,
    version,
    detectedAt: NOW - (3 - version) * 600_000,
    ...(from ? { from } : { from: undefined }),
    job: { ...ended.job, status: to, rawStatus: to.toUpperCase(), statistics: undefined, outputFile: undefined, message: undefined, ...extra, ...patch },
  });
  return [
    step('queued', 1, undefined, {}),
    step('running', 2, 'queued', { progress: 42 }),
    { ...ended, job: { ...ended.job, ...patch } },
  ];
}

const ALL = { notify: { on: ['queued', 'running', 'finished', 'failed', 'cancelled'], backoffMs: 50, maxBackoffMs: 400, attempts: 6, concurrency: 4 } };

function textOf(message: { text: string; blocks: unknown[] }): string {
  return `${message.text}\n${JSON.stringify(message.blocks)}`;
}

describe('Slack app mode: one message per job, kept current', () => {
  it('posts a job once at queued, updates it through running to finished with the statistics, and replies once in its thread for the end', async () => {
    const h = harness(ALL);
    for (const transition of lifeOf('4711')) await h.settled(await h.enqueue(transition));

    const top = slack.messages(CHANNEL);
    expect(top).toHaveLength(1);
    const [message] = top;
    expect(slack.succeeded('chat.postMessage').filter((call) => call.body?.thread_ts === undefined)).toHaveLength(1);
    const updates = slack.succeeded('chat.update');
    expect(updates).toHaveLength(2);
    expect(updates.every((call) => call.body?.ts === message!.ts && call.body?.channel === CHANNEL_ID)).toBe(true);
    expect(textOf(message!)).toContain('finished');
    expect(textOf(message!)).toContain('84.68%');
    expect(textOf(message!)).toContain('Roads matched');
    expect(message!.edits).toBe(2);
    const thread = slack.thread(CHANNEL, message!.ts);
    expect(thread).toHaveLength(1);
    expect(thread[0]!.text).toContain('finished');
    expect(thread[0]!.replyBroadcast).toBe(false);
    // Every payload passes Slack's own limits.
    for (const call of slack.calls) expect(call.error, call.raw.slice(0, 300)).toBeUndefined();
    const ref = await new SlackAppStore(h.redis, h.keys, 60_000).read(CHANNEL, '4711');
    expect(ref).toMatchObject({ channel: CHANNEL_ID, ts: message!.ts, version: 3 });
  });

  it('shows the running card with a progress bar, then replaces it', async () => {
    const h = harness(ALL);
    const [queued, running] = lifeOf('bar-1');
    await h.settled(await h.enqueue(queued!));
    await h.settled(await h.enqueue(running!));
    const [message] = slack.messages(CHANNEL);
    expect(textOf(message!)).toContain('Progress');
    expect(textOf(message!)).toMatch(/▓+░+ 42%/);
  });

  it('broadcasts a failure\'s reply and mentions the route\'s user group there, from YAML only', async () => {
    const h = harness({
      ...ALL,
      slackApp: { mentions: ['<!subteam^S0DATATEAM>', '<@U0ONCALL1>'] },
    });
    for (const transition of lifeOf('f-1', 'failed', { message: 'ping <!here> and <@U0EVIL> and <!subteam^S0EVIL>' })) await h.settled(await h.enqueue(transition));
    const [message] = slack.messages(CHANNEL);
    const [reply] = slack.thread(CHANNEL, message!.ts);
    expect(reply!.replyBroadcast).toBe(true);
    expect(reply!.text.startsWith('<!subteam^S0DATATEAM> <@U0ONCALL1> ')).toBe(true);
    const everything = slack.calls.map((call) => call.raw).join('\n');
    expect(everything).not.toContain('<!here>');
    expect(everything).not.toContain('<@U0EVIL>');
    expect(everything).not.toContain('<!subteam^S0EVIL>');
    expect(everything).toContain('&lt;!here&gt;');
  });

  it('routes name their own channel, reply broadcast and mentions; a channel named by two routes gets one message', async () => {
    const h = harness({
      ...ALL,
      routes: [
        { name: 'lanes', match: { jobTypes: ['ROAD_MATCHING'] }, slackApp: { channel: 'C0LANES0001', replyBroadcast: ['finished'] } },
        { name: 'copy', match: { jobTypes: ['ROAD_MATCHING'] }, slackApp: { channel: 'C0LANES0001' } },
      ],
    });
    for (const transition of lifeOf('r-1')) await h.settled(await h.enqueue(transition));
    expect(slack.messages(CHANNEL)).toHaveLength(0);
    const [message, ...more] = slack.messages('C0LANES0001');
    expect(more).toHaveLength(0);
    expect(slack.thread('C0LANES0001', message!.ts)[0]!.replyBroadcast).toBe(true);
  });

  it('two replicas delivering a job\'s three events at once leave one top-level message showing the end', async () => {
    const h = harness(ALL, { replicas: 2 });
    const life = lifeOf('race-1');
    // All three at once, in the reverse order of their versions: the end may be delivered first.
    const ids = (await Promise.all([...life].reverse().map((transition) => h.enqueue(transition)))).flat();
    await h.settled(ids);
    const top = slack.messages(CHANNEL);
    expect(top).toHaveLength(1);
    expect(textOf(top[0]!)).toContain('84.68%');
    expect(slack.thread(CHANNEL, top[0]!.ts)).toHaveLength(1);
    for (const id of ids) expect(await (await h.queue.getJob(id))!.getState()).toBe('completed');
  });

  it('a later event\'s delivery waits for a first post still in flight on another replica, then updates it', async () => {
    const h = harness(ALL, { replicas: 2 });
    // Slack takes 2.5 s to answer the first post: the running event's task, let through by the
    // channel's rate gate a second later, finds the job's lock taken and no ts stored yet.
    slack.failNext(1, { delayMs: 2_500 }, 'chat.postMessage');
    const [queued, running] = lifeOf('slow-1');
    const ids = [...(await h.enqueue(queued!)), ...(await h.enqueue(running!))];
    await h.settled(ids);
    expect(slack.messages(CHANNEL)).toHaveLength(1);
    // Whichever event was delivered first, the message ends showing the later one.
    expect(slack.messages(CHANNEL)[0]!.text).toContain('running');
  });

  it('a crash after the post but before the delivered marker updates on retry instead of posting again', async () => {
    const h = harness(ALL, { replicas: 0 });
    let crashes = 0;
    h.replica((processor) => async (job, token, signal) => {
      const result = await processor(job, token, signal);
      // The process "dies" after Slack answered and the ts was stored, before the delivered
      // marker: the marker is taken away again and BullMQ retries the task.
      if (crashes++ < 3) {
        await h.redis.del(h.keys.delivered(job.id!));
        throw new Error('simulated crash after the post');
      }
      return result;
    });
    for (const transition of lifeOf('crash-1')) await h.settled(await h.enqueue(transition));
    expect(crashes).toBeGreaterThan(3);
    expect(slack.messages(CHANNEL)).toHaveLength(1);
    // Each event's retry updated the message again (harmless) instead of posting it again.
    expect(slack.succeeded('chat.update').length).toBeGreaterThanOrEqual(3);
    expect(slack.thread(CHANNEL, slack.messages(CHANNEL)[0]!.ts)).toHaveLength(1);
  });

  it('a message deleted in Slack is posted afresh and recorded; later events update the new one', async () => {
    const h = harness(ALL);
    const [queued, running, finished] = lifeOf('gone-1');
    await h.settled(await h.enqueue(queued!));
    const first = slack.messages(CHANNEL)[0]!;
    slack.deleteMessage(CHANNEL, first.ts);
    await h.settled(await h.enqueue(running!));
    const [second] = slack.messages(CHANNEL);
    expect(second!.ts).not.toBe(first.ts);
    expect(slack.calls.some((call) => call.error === 'message_not_found')).toBe(true);
    await h.settled(await h.enqueue(finished!));
    expect(slack.messages(CHANNEL)).toHaveLength(1);
    expect(slack.messages(CHANNEL)[0]!.edits).toBe(1);
    expect(logs.lines.some((line) => line.includes('message_not_found'))).toBe(true);
  });

  it('retries a 429 after its Retry-After and a 5xx, and delivers once', async () => {
    const h = harness(ALL);
    slack.failNext(1, { ratelimited: true, retryAfterSec: 1 }, 'chat.postMessage');
    slack.failNext(1, { status: 503, body: `upstream refused Bearer ${BOT_TOKEN}` }, 'chat.postMessage');
    const [queued] = lifeOf('rl-1');
    const ids = await h.enqueue(queued!);
    await h.settled(ids);
    expect(await (await h.queue.getJob(ids[0]!))!.getState()).toBe('completed');
    const posts = slack.calls.filter((call) => call.method === 'chat.postMessage');
    expect(posts.map((call) => call.status)).toEqual([429, 503, 200]);
    // The Retry-After held the channel's gate: the retry came no earlier than a second later.
    expect(posts[1]!.at - posts[0]!.at).toBeGreaterThanOrEqual(1_000);
    expect(slack.messages(CHANNEL)).toHaveLength(1);
  });

  it.each([
    ['channel_not_found', 'check SLACK_CHANNEL'],
    ['not_in_channel', 'invite the app'],
    ['is_archived', 'unarchive'],
    ['invalid_auth', 'SLACK_BOT_TOKEN'],
    ['not_authed', 'SLACK_BOT_TOKEN'],
    ['account_inactive', 'reinstall'],
  ])('gives up at once on %s with a log line saying what to fix', async (error, fix) => {
    const h = harness(ALL);
    slack.failNext(1, { error }, 'chat.postMessage');
    const [queued] = lifeOf(`perm-${error}`);
    const ids = await h.enqueue(queued!);
    await h.settled(ids);
    const job = (await h.queue.getJob(ids[0]!))!;
    expect(await job.getState()).toBe('failed');
    expect(job.attemptsMade).toBe(1);
    expect(job.failedReason).toContain(error);
    expect(slack.calls.filter((call) => call.method === 'chat.postMessage')).toHaveLength(1);
    expect(logs.lines.some((line) => line.includes(error) && line.includes(fix) && line.includes('"level":50'))).toBe(true);
    expect(job.failedReason).not.toContain(BOT_TOKEN);
  });

  it('keeps hostile job fields inert and within Slack\'s limits (mentions, links, markdown, HTML, control characters, 1 MB)', async () => {
    const h = harness(ALL);
    const huge = `<!channel> ${'x'.repeat(1_000_000)}`;
    const hostile = {
      inputFile: '<!everyone> <https://evil.example|click here> *bold* _it_ ~s~ `code` <script>alert(1)</script>\u0007\u001b[31m',
      message: huge,
      storageId: huge,
      overtureRelease: '<@U0EVIL>',
    };
    for (const transition of lifeOf('<!channel>', 'failed', hostile)) await h.settled(await h.enqueue(transition));
    expect(slack.calls.every((call) => call.error === undefined)).toBe(true);
    const [message] = slack.messages(CHANNEL);
    for (const call of slack.calls) {
      expect(call.raw).not.toMatch(/<!channel>|<!everyone>|<@U0EVIL>|<https:\/\/evil|<script>/);
      // JSON writes a control character as \u00XX: none may be left.
      expect(call.raw).not.toMatch(/\\u00(07|1b)/i);
      expect(call.raw.length).toBeLessThan(40_000);
      expect(blockKitProblems(call.body)).toEqual([]);
    }
    expect(message!.blocks.length).toBeLessThanOrEqual(50);
  });

  it('is not grouped into a burst message: every job keeps its own message', async () => {
    const h = harness({ ...ALL, alerts: { burstWindowSec: 30 } });
    const ends = ['b-1', 'b-2', 'b-3', 'b-4'].map((id) => sampleTransition('finished', NOW, id));
    await h.settled((await Promise.all(ends.map((transition) => h.enqueue(transition)))).flat());
    expect(slack.messages(CHANNEL)).toHaveLength(4);
  });

  it('keeps the message current in quiet hours, with the failure\'s reply neither broadcast nor mentioning anyone', async () => {
    const h = harness({
      ...ALL,
      slackApp: { mentions: ['<!subteam^S0DATATEAM>'] },
      alerts: { burstWindowSec: 30, defaultRoute: { mute: [{ start: '00:00', end: '00:00' }] } },
    });
    for (const transition of lifeOf('quiet-1', 'failed')) await h.settled(await h.enqueue(transition));
    const [message, ...more] = slack.messages(CHANNEL);
    expect(more).toHaveLength(0);
    expect(message!.text).toContain('failed');
    const [reply] = slack.thread(CHANNEL, message!.ts);
    expect(reply!.replyBroadcast).toBe(false);
    expect(reply!.text).not.toContain('subteam');
  });

  it('sends the bot token only in the Authorization header', async () => {
    const h = harness(ALL);
    slack.failNext(1, { error: 'invalid_auth' }, 'chat.postMessage');
    const [queued] = lifeOf('tok-1');
    await h.settled(await h.enqueue(queued!));
    for (const call of slack.calls) {
      expect(call.authorization).toBe(`Bearer ${BOT_TOKEN}`);
      expect(call.raw).not.toContain(BOT_TOKEN);
    }
    expect(resolveDestinations(lifeOf('tok-1')[0]!, h.config).map((d) => d.channel)).toEqual([SLACK_APP_CHANNEL]);
  });
});

describe('gem-watch test-notify and Slack app mode', () => {
  it('posts a sample card and its end reply to each Slack app channel', async () => {
    const h = harness(ALL, { replicas: 0 });
    const notifiers = createNotifiers(h.config, logs.logger);
    try {
      const results = await testNotify({ notifiers, channel: SLACK_APP_CHANNEL, sample: 'failed' });
      expect(results).toEqual([expect.objectContaining({ channel: 'slack-app', route: 'default', target: CHANNEL, ok: true })]);
      const [message] = slack.messages(CHANNEL);
      expect(message!.text).toContain('failed');
      expect(slack.thread(CHANNEL, message!.ts)).toEqual([expect.objectContaining({ replyBroadcast: true })]);
    } finally {
      await notifiers.close();
    }
  });
});

describe('gem-watch check and Slack app mode', () => {
  async function check(env: Record<string, string>, send: boolean): Promise<CheckResult[]> {
    const config = notifyConfig({
      smtpUrl: '',
      env: { REDIS_URL: redis.url, GEM_API_BASE_URL: 'http://127.0.0.1:9', SLACK_BOT_TOKEN: BOT_TOKEN, SLACK_CHANNEL: CHANNEL, SLACK_API_URL: slack.apiUrl, ...env },
      yaml: { routes: [{ name: 'lanes', slackApp: { channel: 'C0LANES0001' } }] },
    });
    const results: CheckResult[] = [];
    await runChecks(config, { send, results, logger: logs.logger });
    return results.filter((result) => result.what === 'slack app');
  }

  it('calls auth.test, and with --send posts a test message to each configured channel', async () => {
    const without = await check({}, false);
    expect(without.map((result) => result.verdict)).toEqual(['ok', 'skip']);
    expect(without[0]!.detail).toContain('bot token accepted: gem-watch in gem-watch simulator');
    expect(slack.messages(CHANNEL)).toHaveLength(0);

    const sent = await check({}, true);
    expect(sent.map((result) => result.verdict)).toEqual(['ok', 'ok', 'ok']);
    expect(slack.succeeded('auth.test')).toHaveLength(2);
    expect(slack.messages(CHANNEL)).toHaveLength(1);
    expect(slack.messages('C0LANES0001')).toHaveLength(1);
  });

  it('says what to fix when the token is refused or the bot is not in the channel', async () => {
    slack.failNext(1, { error: 'invalid_auth' }, 'auth.test');
    const refused = await check({}, true);
    expect(refused[0]).toMatchObject({ verdict: 'fail' });
    expect(refused[0]!.detail).toContain('SLACK_BOT_TOKEN');
    expect(slack.messages(CHANNEL)).toHaveLength(0);

    slack.failNext(1, { error: 'not_in_channel' }, 'chat.postMessage');
    const outside = await check({}, true);
    expect(outside.map((result) => result.verdict)).toEqual(['ok', 'fail', 'ok']);
    expect(outside[1]!.detail).toContain('invite the app');
    for (const result of [...refused, ...outside]) expect(result.detail).not.toContain(BOT_TOKEN);
  });
});

describe('Slack app mode: liveProgress', () => {
  const LIVE = { notify: { on: ['finished', 'failed'], backoffMs: 50, maxBackoffMs: 400, attempts: 6, concurrency: 4 }, slackApp: { liveProgress: true, progressEveryMinutes: 5 } };

  function live(h: Harness): LiveProgress {
    return new LiveProgress({ resolve: (transition) => resolveDestinations(transition, h.config), everyMs: (route) => (route === 'default' ? 300_000 : undefined), dispatch: async () => {} });
  }

  function tracked(jobId: string, version: number, samples: Array<[number, number]>): TrackedJob {
    const [, running] = lifeOf(jobId);
    const last = samples[samples.length - 1]!;
    return { job: { ...running!.job, progress: last[1] }, status: 'running', version, firstSeenAt: NOW - 3_600_000, lastChangeAt: NOW - 3_600_000, lastFetchedAt: last[0], progress: samples };
  }

  async function addProgress(h: Harness, tasks: NotifyTaskData[]): Promise<string[]> {
    const added = tasks.map((data) => ({ name: 'progress', data, opts: { ...notifyJobOptions(h.config), jobId: notifyTaskId(data) } }));
    await h.queue.addBulk(added);
    return added.map((task) => task.opts.jobId);
  }

  it('posts a job when first seen queued, though NOTIFY_ON has only ends, and updates its bar and ETA once per slot', async () => {
    const h = harness(LIVE);
    const [queued, running, finished] = lifeOf('live-1');
    await h.settled(await h.enqueue(queued!));
    await h.settled(await h.enqueue(running!));
    expect(slack.messages(CHANNEL)).toHaveLength(1);

    const t0 = NOW + 60_000;
    const job = tracked('live-1', 2, [[t0 - 600_000, 40], [t0 - 300_000, 50], [t0, 60]]);
    const first = live(h).tasksFor(job, t0);
    expect(first).toHaveLength(1);
    // A second fetch in the same slot (another replica, the next poll) makes the same task id.
    expect(notifyTaskId(live(h).tasksFor(job, t0 + 1_000)[0]!)).toBe(notifyTaskId(first[0]!));
    await h.settled(await addProgress(h, first));
    const [message] = slack.messages(CHANNEL);
    expect(textOf(message!)).toMatch(/▓+░+ 60%/);
    expect(textOf(message!)).toContain('progress seen 2026-01-20 10:26 UTC');
    expect(textOf(message!)).toMatch(/ETA 2026-01-20 10:46 UTC \(about 20 min/);

    await h.settled(await h.enqueue(finished!));
    // A late progress update of the running version does not bring the finished card back.
    const late = live(h).tasksFor(tracked('live-1', 2, [[t0 + 600_000, 80]]), t0 + 600_000);
    await h.settled(await addProgress(h, late));
    expect(textOf(slack.messages(CHANNEL)[0]!)).toContain('finished');
    expect(slack.messages(CHANNEL)).toHaveLength(1);
  });

  it('never posts for a progress update, and keeps within the workspace budget', async () => {
    const h = harness({ ...LIVE, slackApp: { liveProgress: true, progressUpdatesPerMinute: 1 } });
    const t0 = NOW + 60_000;
    // No message yet for this job: the update is dropped, not posted.
    await h.settled(await addProgress(h, live(h).tasksFor(tracked('live-none', 2, [[t0, 10]]), t0)));
    expect(slack.messages(CHANNEL)).toHaveLength(0);
    for (const id of ['live-a', 'live-b']) {
      const [queued] = lifeOf(id);
      await h.settled(await h.enqueue(queued!));
    }
    const updatesBefore = slack.succeeded('chat.update').length;
    const ids = await addProgress(h, [...live(h).tasksFor(tracked('live-a', 1, [[t0, 10]]), t0), ...live(h).tasksFor(tracked('live-b', 1, [[t0, 10]]), t0)]);
    await h.settled(ids);
    // One of the two fits in this minute's budget; the other is skipped, never retried.
    expect(slack.succeeded('chat.update').length - updatesBefore).toBeLessThanOrEqual(1);
    for (const id of ids) expect(await (await h.queue.getJob(id))!.getState()).toBe('completed');
  });

  it('spends the workspace budget once per slot and gives a job its slot back when the budget is out', async () => {
    // The budget by the store's own clock argument, so a minute boundary cannot split the two
    // deliveries above: that test shows only that the budget is never exceeded.
    const h = harness(LIVE);
    const store = new SlackAppStore(h.redis, h.keys, 60_000);
    const minute = Math.floor(NOW / 60_000) * 60_000;
    expect(await store.takeProgressSlot(CHANNEL, 'budget-a', 300_000, 1, minute + 1_000)).toBe(true);
    // The same job within its period: no second slot, whatever the budget.
    expect(await store.takeProgressSlot(CHANNEL, 'budget-a', 300_000, 5, minute + 2_000)).toBe(false);
    // Another job in the same minute: over the workspace budget of 1.
    expect(await store.takeProgressSlot(CHANNEL, 'budget-b', 300_000, 1, minute + 3_000)).toBe(false);
    // Its slot was given back, so it gets one in the next minute's budget.
    expect(await store.takeProgressSlot(CHANNEL, 'budget-b', 300_000, 1, minute + 61_000)).toBe(true);
  });
});
