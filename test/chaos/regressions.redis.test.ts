import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sampleTransition } from '../../src/notify/sample-data.js';
import { createNotifiers } from '../../src/notify/registry.js';
import { QUEUE_NAMES } from '../../src/queue/names.js';
import { notifyTaskId, type NotifyTaskData } from '../../src/notify/task.js';
import { createNotifyProcessor, notifyWorkerOptions } from '../../src/queue/notify-processor.js';
import type { DeliveryOutcomeEvent } from '../../src/notify/stages/record.js';
import { notifyJobOptions } from '../../src/notify/task-options.js';
import { Keys } from '../../src/state/keys.js';
import { capturedLogger, notifyConfig } from '../helpers/notify-config.js';
import { startRedis, uniquePrefix, type TestRedis } from '../helpers/redis.js';
import { startSlackSink, type SlackSink } from '../helpers/slack-sink.js';
import { until } from './harness/chaos-world.js';
import { ReplyDroppingProxy } from './harness/reply-dropping-proxy.js';

/**
 * Regression tests for what the chaos scenarios found, each cut down to one deterministic case
 * against a real Redis, so the bug cannot come back unnoticed between full chaos runs.
 */

let redis: TestRedis;
let slack: SlackSink;

beforeAll(async () => {
  redis = await startRedis();
  slack = await startSlackSink();
});

afterAll(async () => {
  await slack?.close();
  await redis?.close();
});

describe('found by chaos 1 (Redis restarted mid-run)', () => {
  it('a delivery lock whose SET was applied but whose reply was lost still belongs to its taker', async () => {
    const proxy = new ReplyDroppingProxy(redis.port);
    const proxied = await proxy.start();
    const prefix = uniquePrefix('lock-resend');
    const keys = new Keys(prefix);
    const config = notifyConfig({ slackWebhookUrl: slack.webhookUrl('lockResendSecret000') });
    const { logger } = capturedLogger('debug');
    const notifiers = createNotifiers(config, logger);
    // The processor's client goes through the proxy; BullMQ's own connections do not.
    const processorRedis = new Redis(proxied, { maxRetriesPerRequest: null, retryStrategy: () => 50 });
    processorRedis.on('error', () => {});
    const direct = new Redis(redis.url, { maxRetriesPerRequest: null });
    const events: DeliveryOutcomeEvent[] = [];
    const processor = createNotifyProcessor({ config, notifiers, redis: processorRedis, keys, logger, onOutcome: (event) => void events.push(event) });
    const queue = new Queue<NotifyTaskData>(QUEUE_NAMES.notify, { connection: direct, prefix });
    const workerConnection = new Redis(redis.url, { maxRetriesPerRequest: null });
    workerConnection.on('error', () => {});
    const worker = new Worker<NotifyTaskData>(QUEUE_NAMES.notify, processor, { ...notifyWorkerOptions(config), connection: workerConnection, prefix });
    worker.on('error', () => {});
    try {
      const data: NotifyTaskData = { transition: sampleTransition('finished', Date.UTC(2026, 0, 20)), route: 'default', channel: 'slack', target: 'default' };
      const taskId = notifyTaskId(data);
      // The lock's SET NX reaches Redis and is applied; its OK is lost with the connection, and
      // ioredis sends the same SET again on the new one, which now answers nil.
      proxy.dropReplyTo(keys.deliveryLock(taskId));
      await queue.add('transition', data, { ...notifyJobOptions(config), jobId: taskId });
      await until(() => events.length > 0, 30_000, 'the first delivery outcome');
      expect(proxy.dropped).toBe(1);
      // Before the fix the taker took its own lock for someone else's and parked the task until the
      // lock expired (2 × the slowest send + 5 s: 85 s with the defaults).
      expect(events.map((event) => event.outcome)).toEqual(['delivered']);
      expect(slack.accepted().filter((request) => request.path.endsWith('lockResendSecret000'))).toHaveLength(1);
      // The outcome is reported before the lock is released: wait for the release, well inside
      // the lock's 85 s expiry, so a lock left behind still fails here.
      await until(async () => (await direct.exists(keys.deliveryLock(taskId))) === 0, 5_000, 'the lock released after the delivery');
    } finally {
      await worker.close();
      await queue.close();
      await notifiers.close();
      processorRedis.disconnect();
      direct.disconnect();
      workerConnection.disconnect();
      await proxy.close();
    }
  });
});

describe('found by chaos 3 and 4 (SIGKILLs)', () => {
  it('a notify task whose worker died twice while sending is still delivered, not failed as stalled', async () => {
    const prefix = uniquePrefix('stalled-twice');
    const keys = new Keys(prefix);
    const config = notifyConfig({ slackWebhookUrl: slack.webhookUrl('stalledTwiceSecret00') });
    const { logger } = capturedLogger('debug');
    const notifiers = createNotifiers(config, logger);
    const client = new Redis(redis.url, { maxRetriesPerRequest: null });
    const queue = new Queue<NotifyTaskData>(QUEUE_NAMES.notify, { connection: client, prefix });
    // Locks expire in a second and are checked every half second, so a dead worker's task is
    // found stalled quickly; everything else is the production worker setup.
    const fast = { lockDuration: 1_000, stalledInterval: 500 };
    const connections: Redis[] = [];
    const worker = (processor: ConstructorParameters<typeof Worker<NotifyTaskData>>[1]) => {
      const connection = new Redis(redis.url, { maxRetriesPerRequest: null });
      connection.on('error', () => {});
      connections.push(connection);
      const created = new Worker<NotifyTaskData>(QUEUE_NAMES.notify, processor, { ...notifyWorkerOptions(config), ...fast, connection, prefix });
      created.on('error', () => {});
      return created;
    };
    const events: DeliveryOutcomeEvent[] = [];
    const failures: string[] = [];
    try {
      const data: NotifyTaskData = { transition: sampleTransition('failed', Date.UTC(2026, 0, 21)), route: 'default', channel: 'slack', target: 'default' };
      const taskId = notifyTaskId(data);
      await queue.add('transition', data, { ...notifyJobOptions(config), jobId: taskId });
      // Two replicas die in turn with the task active: each takes it and never finishes (a
      // SIGKILL leaves exactly that behind: an active task whose lock nobody renews).
      for (let death = 1; death <= 2; death += 1) {
        let taken = false;
        const dying = worker(() => {
          taken = true;
          return new Promise<never>(() => {});
        });
        await until(() => taken, 30_000, `replica ${death} to take the task`);
        await dying.close(true);
      }
      const survivor = worker(createNotifyProcessor({ config, notifiers, redis: client, keys, logger, onOutcome: (event) => void events.push(event) }));
      survivor.on('failed', (_task, error) => failures.push(error.message));
      try {
        await until(() => events.length > 0 || failures.length > 0, 30_000, 'the task to be delivered or failed');
      } finally {
        await survivor.close();
      }
      // Before the fix BullMQ's default (maxStalledCount 1) failed it: "job stalled more than
      // allowable limit", a lost notification that spent none of its 40 attempts.
      expect(failures).toEqual([]);
      expect(events.map((event) => event.outcome)).toEqual(['delivered']);
      expect(slack.accepted().filter((request) => request.path.endsWith('stalledTwiceSecret00'))).toHaveLength(1);
    } finally {
      await queue.close();
      await notifiers.close();
      client.disconnect();
      for (const connection of connections) connection.disconnect();
    }
  });
});
