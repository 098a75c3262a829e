import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GemSimulator } from '../src/simulator/gem-simulator.js';
import { QUEUE_NAMES } from '../src/queue/names.js';
import { LogCapture, testConfig, testPipeline } from './helpers/pipeline.js';
import { startRedis, type TestRedis } from './helpers/redis.js';

let redis: TestRedis;
const sim = new GemSimulator({ apiKey: 'ack-key' });

beforeAll(async () => {
  redis = await startRedis();
  await sim.start();
});
afterAll(async () => {
  await sim.stop();
  await redis.close();
});

describe('the outbox acknowledgement', () => {
  it('keeps a transition whose notify task is not on the server (an add a failover lost), and the sweeper dispatches it again', async () => {
    const config = testConfig(sim, redis.url);
    const logs = new LogCapture('warn');
    const client = redis.client();
    let lose = true;
    const p = testPipeline(
      config,
      {
        // What a failover does to an add the old primary acknowledged and never replicated.
        afterDetailStep: async (step, jobId) => {
          if (step !== 'enqueued' || !lose) return;
          const ids = (await p.notifyQueue.getJobs(['waiting', 'delayed', 'prioritized'])).filter((task) => task.data.transition?.jobId === jobId).map((task) => task.id!);
          for (const id of ids) await p.notifyQueue.remove(id);
        },
      },
      logs.logger,
    );
    try {
      sim.upsertJob({ id: 'a1', status: 'running' });
      await p.pollOnce();
      sim.setStatus('a1', 'finished');
      await p.pollOnce();
      expect(await client.zcard(p.keys.outbox())).toBe(1);
      expect(await client.exists(p.keys.queueTask(QUEUE_NAMES.notify, 'notify-a1-v2-default-slack-default'))).toBe(0);
      expect(logs.messages()).toContain('notify task not found where the transition is acknowledged (lost in a failover?); left in the outbox for the sweeper');

      lose = false;
      expect(await p.dispatcher.sweep(Date.now() + 60_000, 0)).toBe(1);
      expect(await client.zcard(p.keys.outbox())).toBe(0);
      const tasks = await p.notifyQueue.getJobs(['waiting', 'delayed', 'prioritized']);
      expect(tasks.map((task) => task.id).sort()).toEqual(['notify-a1-v2-default-email-route', 'notify-a1-v2-default-slack-default']);
    } finally {
      await p.stop(2_000);
      client.disconnect();
    }
  });
});
