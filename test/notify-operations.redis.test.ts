import { Queue, UnrecoverableError, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { capturedLogger, notifyConfig } from './helpers/notify-config.js';
import { startRedis, uniquePrefix, type TestRedis } from './helpers/redis.js';
import { startSlackSink, type SlackSink } from './helpers/slack-sink.js';
import { startSmtpSink, type SmtpSink } from './helpers/smtp-sink.js';
import { resolveDestinations } from '../src/domain/routing.js';
import { DELIVERED_UNMARKED } from '../src/notify/errors.js';
import { listFailedDeliveries, retryFailedDeliveries, testNotify, UnknownChannelError } from '../src/notify/operations.js';
import { createNotifiers } from '../src/notify/registry.js';
import { sampleTransition } from '../src/notify/sample-data.js';
import { QUEUE_NAMES } from '../src/queue/names.js';
import { notifyTaskId, type NotifyTaskData } from '../src/notify/task.js';
import { createNotifyProcessor, notifyWorkerOptions } from '../src/queue/notify-processor.js';
import type { NotifyResult } from '../src/notify/delivery.js';
import { notifyJobOptions } from '../src/notify/task-options.js';
import { Keys } from '../src/state/keys.js';
import { until } from './helpers/until.js';

/** The operator tools: `test-notify`, `notifications --failed` and `--retry`. */

const NOW = Date.UTC(2026, 0, 20, 10, 25);

let redis: TestRedis;
let slackSink: SlackSink;
let smtpSink: SmtpSink;

beforeAll(async () => {
  redis = await startRedis();
  slackSink = await startSlackSink();
  smtpSink = await startSmtpSink();
});
afterAll(async () => {
  await slackSink.close();
  await smtpSink.close();
  await redis.close();
});

describe('test-notify', () => {
  it('sends a sample message to every endpoint of every channel, and reports each', async () => {
    slackSink.reset();
    smtpSink.reset();
    const config = notifyConfig({
      slackWebhookUrl: slackSink.webhookUrl('defaultSecret123456'),
      smtpUrl: smtpSink.url(),
      yaml: {
        slack: { webhooks: { data: slackSink.webhookUrl('dataSecret1234567', 'T1', 'B1') } },
        routes: [{ name: 'lanes', email: ['lanes@example.com'] }],
      },
    });
    const notifiers = createNotifiers(config, capturedLogger().logger);
    try {
      slackSink.failNext(1, { status: 404, body: 'channel_not_found' }, '/services/T1/B1/dataSecret1234567');
      const results = await testNotify({ notifiers, now: NOW });
      expect(results.map(({ channel, route, target, ok }) => ({ channel, route, target, ok }))).toEqual([
        { channel: 'slack', route: 'default', target: 'default', ok: true },
        { channel: 'slack', route: 'default', target: 'data', ok: false },
        { channel: 'email', route: 'default', target: 'route', ok: true },
        { channel: 'email', route: 'lanes', target: 'route', ok: true },
      ]);
      expect(results[1]).toMatchObject({ reason: 'clientError', retryable: false, detail: 'Slack webhook "data" answered 404 channel_not_found (not retried)' });
      expect(JSON.stringify(slackSink.accepted()[0]?.body)).toContain('84.68%');
      expect(smtpSink.mails.map((mail) => mail.envelope.to)).toEqual([['ops@example.com'], ['lanes@example.com']]);

      slackSink.reset();
      const one = await testNotify({ notifiers, channel: 'slack', target: 'default', sample: 'failed', now: NOW });
      expect(one).toHaveLength(1);
      expect(slackSink.accepted()).toHaveLength(1);
      await expect(testNotify({ notifiers, channel: 'teams' })).rejects.toThrow(new UnknownChannelError('teams', ['slack', 'email']));
    } finally {
      await notifiers.close();
    }
  });

  it('says clearly when no channel is configured', async () => {
    const notifiers = createNotifiers(notifyConfig(), capturedLogger().logger);
    await expect(testNotify({ notifiers })).rejects.toThrow('no notification channel is configured (set SLACK_WEBHOOK_URL, SMTP_URL, TEAMS_WEBHOOK_URL and/or WEBHOOK_URL)');
  });
});

describe('notifications --failed / --retry', () => {
  it('lists exhausted and refused deliveries with their reason, and re-queues them with fresh attempts', async () => {
    slackSink.reset();
    smtpSink.reset();
    const prefix = uniquePrefix('ops');
    const config = notifyConfig({
      slackWebhookUrl: slackSink.webhookUrl('opsSecret12345678'),
      smtpUrl: smtpSink.url(),
      env: { GEM_WATCH_PREFIX: prefix },
      yaml: { notify: { attempts: 2, backoffMs: 20, maxBackoffMs: 50, slackPerSecond: 100 } },
    });
    const keys = new Keys(prefix);
    const { logger } = capturedLogger();
    const notifiers = createNotifiers(config, logger);
    const client = redis.client();
    const connection = new Redis(redis.url, { maxRetriesPerRequest: null });
    const queue = new Queue<NotifyTaskData, NotifyResult>(QUEUE_NAMES.notify, { connection, prefix });
    const worker = new Worker<NotifyTaskData, NotifyResult>(
      QUEUE_NAMES.notify,
      createNotifyProcessor({ config, notifiers, redis: client, keys, logger }),
      { connection: new Redis(redis.url, { maxRetriesPerRequest: null }), prefix, ...notifyWorkerOptions(config) },
    );
    worker.on('error', () => {});
    try {
      slackSink.failNext(2, { status: 500 });
      smtpSink.refuseNext(1, { code: 550 });
      const transition = sampleTransition('failed', NOW, 'job-ops');
      const ids = resolveDestinations(transition, config).map((destination) => {
        const data: NotifyTaskData = { transition, ...destination };
        return { data, id: notifyTaskId(data) };
      });
      await queue.addBulk(ids.map(({ data, id }) => ({ name: 'transition', data, opts: { ...notifyJobOptions(config), jobId: id } })));
      await until(async () => (await queue.getFailedCount()) === 2, 'both deliveries to fail');

      const failed = await listFailedDeliveries({ queue });
      expect(failed.map(({ channel, subject, attemptsMade, reason }) => ({ channel, subject, attemptsMade, reason })).sort((a, b) => a.channel.localeCompare(b.channel))).toEqual([
        { channel: 'email', subject: 'job-ops v3 failed', attemptsMade: 1, reason: 'clientError' },
        { channel: 'slack', subject: 'job-ops v3 failed', attemptsMade: 2, reason: 'serverError' },
      ]);
      expect(failed.find((item) => item.channel === 'slack')?.failedReason).toBe('[serverError] Slack webhook "default" answered 500 rollup_error');
      expect(failed.every((item) => typeof item.failedAt === 'number')).toBe(true);

      // Both channels work again: --retry puts both back under their own ids.
      const slackId = ids.find(({ data }) => data.channel === 'slack')!.id;
      const result = await retryFailedDeliveries({ queue, redis: client, keys, ids: [slackId, 'no-such-task'] });
      expect(result).toEqual({ retried: [slackId], notFound: ['no-such-task'], alreadyDelivered: [] });
      const rest = await retryFailedDeliveries({ queue, redis: client, keys });
      expect(rest.retried).toHaveLength(1);
      await until(async () => (await queue.getCompletedCount()) === 2, 'both retried deliveries to complete');
      expect(slackSink.accepted()).toHaveLength(1);
      expect(smtpSink.mails).toHaveLength(1);
      expect(await listFailedDeliveries({ queue })).toEqual([]);
    } finally {
      await worker.close();
      await queue.close();
      await notifiers.close();
      connection.disconnect();
      client.disconnect();
    }
  });

  it('leaves alone a failed task whose message was in fact delivered', async () => {
    const prefix = uniquePrefix('ops2');
    const keys = new Keys(prefix);
    const client = redis.client();
    const connection = new Redis(redis.url, { maxRetriesPerRequest: null });
    const queue = new Queue<NotifyTaskData, NotifyResult>(QUEUE_NAMES.notify, { connection, prefix });
    const worker = new Worker<NotifyTaskData>(
      QUEUE_NAMES.notify,
      async (task) => {
        if (task.data.transition?.jobId === 'job-u') throw new UnrecoverableError(`[serverError] ${DELIVERED_UNMARKED} (READONLY); not retried, so it is not sent twice`);
        throw new Error('lost the completion');
      },
      { connection: new Redis(redis.url, { maxRetriesPerRequest: null }), prefix },
    );
    worker.on('error', () => {});
    try {
      const data: NotifyTaskData = { transition: sampleTransition('finished', NOW, 'job-m'), route: 'default', channel: 'slack', target: 'default' };
      const id = notifyTaskId(data);
      await client.set(keys.delivered(id), JSON.stringify({ at: NOW }));
      await queue.add('transition', data, { jobId: id, attempts: 1 });
      await until(async () => (await queue.getFailedCount()) === 1, 'the task to fail');
      expect(await retryFailedDeliveries({ queue, redis: client, keys })).toEqual({ retried: [], notFound: [], alreadyDelivered: [id] });

      // Sent, but Redis refused the marker: no marker, and a failure that says so. Left alone by a
      // retry of everything; re-sent only when the operator names it.
      const unmarked: NotifyTaskData = { ...data, transition: sampleTransition('failed', NOW, 'job-u') };
      const unmarkedId = notifyTaskId(unmarked);
      await queue.add('transition', unmarked, { jobId: unmarkedId, attempts: 1 });
      await until(async () => (await queue.getFailedCount()) === 2, 'the second task to fail');
      const everything = await retryFailedDeliveries({ queue, redis: client, keys });
      expect(everything.retried).toEqual([]);
      expect(everything.alreadyDelivered.sort()).toEqual([id, unmarkedId].sort());
      expect(await retryFailedDeliveries({ queue, redis: client, keys, ids: [unmarkedId] })).toEqual({ retried: [unmarkedId], notFound: [], alreadyDelivered: [] });
    } finally {
      await worker.close();
      await queue.close();
      connection.disconnect();
      client.disconnect();
    }
  });
});
