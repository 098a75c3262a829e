import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type App } from '../src/main.js';
import { Metrics } from '../src/telemetry/metrics.js';
import { GemSimulator } from '../src/simulator/gem-simulator.js';
import { startSlackSink, type SlackSink } from '../src/simulator/slack-sink.js';
import { LogCapture, testConfig, waitFor } from './helpers/pipeline.js';
import { startRedis, type TestRedis } from './helpers/redis.js';

/**
 * A known BullMQ failure mode: after Redis has been away for a while, workers may stay connected
 * but never take a task again. This test keeps Redis down for longer than a minute, brings it back
 * and waits (on conditions, not on a clock) for every stage to work again: poll, detail, notify.
 * It takes about 75 seconds.
 */

const OUTAGE_MS = 65_000;

let redis: TestRedis;
let slack: SlackSink;
let app: App;
const sim = new GemSimulator({ apiKey: 'outage-key' });
const logs = new LogCapture('warn');

beforeAll(async () => {
  // AOF on: the restarted server keeps what gem-watch knew, as a production Redis would.
  redis = await startRedis({ aof: true });
  slack = await startSlackSink();
  await sim.start();
});

afterAll(async () => {
  await app?.stop(2_000);
  await slack?.close();
  await sim.stop();
  await redis?.close();
});

async function ready(): Promise<boolean> {
  const response = await fetch(`${app.http!.url}/readyz`);
  return response.status === 200;
}

describe('after a Redis outage longer than a minute', () => {
  it(
    'the workers resume by themselves: a job that finishes afterwards is announced',
    async () => {
      sim.upsertJob({ id: '4242', status: 'running', progress: 30 });
      sim.upsertJob({ id: '4243', status: 'running', progress: 60 });
      const config = testConfig(sim, redis.url, { POLL_CRON: '*/2 * * * * *', HTTP_PORT: '0', SLACK_WEBHOOK_URL: slack.webhookUrl() });
      app = createApp(config, { logger: logs.logger, metrics: new Metrics() });
      await app.start();

      // Before: one announcement goes through every stage.
      const client = redis.client();
      await waitFor(async () => (await client.hlen(app.pipeline.keys.jobs())) === 2, 'both jobs tracked', 30_000);
      client.disconnect();
      sim.setStatus('4243', 'finished');
      await slack.waitFor((requests) => requests.some((request) => request.answer === 200 && request.raw.includes('4243')));

      const downAt = Date.now();
      await redis.stop();
      await waitFor(async () => !(await ready()), '/readyz to notice the outage', 10_000);
      // The outage itself: the one thing here that is a span of time, because it is the scenario.
      await waitFor(() => Date.now() - downAt >= OUTAGE_MS, 'the outage to last over a minute', OUTAGE_MS + 5_000);
      await redis.start();

      // After: the job finishes and must travel poll → detail → notify again.
      sim.setStatus('4242', 'finished');
      await slack.waitFor((requests) => requests.some((request) => request.answer === 200 && request.raw.includes('4242')), 60_000);
      expect(app.pipeline.workersRunning()).toBe(true);
      await waitFor(ready, '/readyz back to 200', 30_000);
      expect(slack.accepted().filter((request) => request.raw.includes('4242'))).toHaveLength(1);
      expect(slack.accepted().filter((request) => request.raw.includes('4243'))).toHaveLength(1);
    },
    180_000,
  );
});
