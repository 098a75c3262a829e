import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type App } from '../src/main.js';
import { Metrics } from '../src/telemetry/metrics.js';
import { cronIntervalMs } from '../src/observability/readiness.js';
import { GemSimulator } from '../src/simulator/gem-simulator.js';
import { startSlackSink, type SlackSink } from '../src/simulator/slack-sink.js';
import { LogCapture, testConfig, waitFor } from './helpers/pipeline.js';
import { startRedis, type TestRedis } from './helpers/redis.js';

const TOKEN = 'http-test-token-7c1f2a9e';
const auth = { authorization: `Bearer ${TOKEN}` };

let redis: TestRedis;
let slack: SlackSink;
let app: App;
let base: string;
const sim = new GemSimulator({ apiKey: 'http-key' });
const logs = new LogCapture('warn');

async function get(path: string, headers: Record<string, string> = auth): Promise<{ status: number; body: string; headers: Headers }> {
  const response = await fetch(`${base}${path}`, { headers });
  return { status: response.status, body: await response.text(), headers: response.headers };
}

async function readyStatus(): Promise<number> {
  return (await get('/readyz')).status;
}

/** The value of one sample of the exposition, e.g. metric('gemwatch_transitions_total{status="finished"}'). */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((candidate) => candidate.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

beforeAll(async () => {
  redis = await startRedis({ aof: true });
  slack = await startSlackSink();
  await sim.start();
  sim.upsertJob({ id: '501', status: 'running', progress: 40 });
  sim.upsertJob({ id: '502', status: 'finished' });
  sim.setStatus('502', 'finished');
  const config = testConfig(sim, redis.url, {
    POLL_CRON: '*/2 * * * * *',
    HTTP_PORT: '0',
    HTTP_AUTH_TOKEN: TOKEN,
    SLACK_WEBHOOK_URL: slack.webhookUrl(),
  });
  app = createApp(config, { logger: logs.logger, metrics: new Metrics() });
  await app.start();
  base = app.http!.url;
});

afterAll(async () => {
  await app?.stop(2_000);
  await slack?.close();
  await sim.stop();
  await redis?.close();
});

describe('health, metrics and status server', () => {
  it('answers /healthz without a token and refuses every other path without the right one', async () => {
    expect((await get('/healthz', {})).status).toBe(200);
    for (const path of ['/', '/readyz', '/metrics', '/queues/']) {
      const refused = await get(path, {});
      expect(refused.status, path).toBe(401);
      expect(refused.headers.get('www-authenticate')).toContain('Bearer');
      expect((await get(path, { authorization: 'Bearer wrong-token' })).status, path).toBe(401);
      expect((await get(path, { authorization: `Bearer ${TOKEN}x` })).status, path).toBe(401);
    }
    expect((await get('/metrics')).status).toBe(200);
    // A browser answers the Basic challenge: the token is the password, the user name is ignored.
    const basic = `Basic ${Buffer.from(`ops:${TOKEN}`).toString('base64')}`;
    expect((await get('/metrics', { authorization: basic })).status).toBe(200);
    expect((await get('/queues/', auth)).status).toBe(200);
    expect(logs.raw.join('\n')).not.toContain(TOKEN);
  });

  it('exposes the counters on /metrics, with series at zero before any event', async () => {
    await waitFor(
      async () => sample((await get('/metrics')).body, 'gemwatch_tracked_jobs{status="running"}') === 1,
      'the first poll to track the running job',
    );
    const text = (await get('/metrics')).body;
    for (const series of [
      'gemwatch_transitions_total{status="failed"}',
      'gemwatch_notifications_total{channel="email",outcome="failed"}',
      'gemwatch_notifications_total{channel="slack",outcome="retry"}',
      'gemwatch_notifications_total{channel="slack",outcome="deferred"}',
      'gemwatch_queue_depth{queue="gem-notify",state="waiting"}',
      'gemwatch_tracked_jobs{status="finished"}',
      'gemwatch_credentials_healthy',
    ]) {
      expect(sample(text, series), series).toBeDefined();
    }
    expect(text).toContain('# TYPE gemwatch_poll_duration_seconds histogram');
    expect(sample(text, 'gemwatch_polls_total{job_type="ROAD_MATCHING",outcome="ok"}')).toBeGreaterThanOrEqual(1);
    expect(sample(text, 'gemwatch_api_calls_total{endpoint="list",outcome="200"}')).toBeGreaterThanOrEqual(1);
    // Refreshed on scrape: the running job is tracked.
    expect(sample(text, 'gemwatch_tracked_jobs{status="running"}')).toBe(1);

    sim.setStatus('501', 'finished');
    await slack.waitFor((requests) => requests.some((request) => request.answer === 200 && request.raw.includes('501')));
    await waitFor(async () => sample((await get('/metrics')).body, 'gemwatch_notifications_total{channel="slack",outcome="sent"}') === 1, 'the sent counter');
    const after = (await get('/metrics')).body;
    expect(sample(after, 'gemwatch_transitions_total{status="finished"}')).toBe(1);
    // 501 and 502, which the first sync recorded as history.
    expect(sample(after, 'gemwatch_tracked_jobs{status="finished"}')).toBe(2);
    expect(sample(after, 'gemwatch_tracked_jobs{status="running"}')).toBe(0);
    expect(sample(after, 'gemwatch_api_calls_total{endpoint="detail",outcome="200"}')).toBeGreaterThanOrEqual(2);
  });

  it('serves the status page with the tracked jobs', async () => {
    const page = await get('/');
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toContain('text/html');
    expect(page.headers.get('content-security-policy')).toContain("default-src 'none'");
    expect(page.body).toContain('501');
    expect(page.body).toContain('roads_501.parquet');
    expect(page.body).toContain('Recent notifications');
  });

  it('turns /readyz 503 while Redis is down and 200 after it is back', async () => {
    await waitFor(async () => (await readyStatus()) === 200, 'ready before the outage');
    const client = redis.client();
    const lastSuccess = Number(await client.hget(app.pipeline.keys.pollHealth(), 'lastSuccess'));
    client.disconnect();
    expect(lastSuccess).toBeGreaterThan(0);
    await redis.stop();
    const down = await get('/readyz');
    expect(down.status).toBe(503);
    const report = JSON.parse(down.body) as { ready: boolean; checks: Array<{ name: string; ok: boolean; detail: string }> };
    expect(report.ready).toBe(false);
    expect(report.checks.find((check) => check.name === 'redis')?.ok).toBe(false);
    // /healthz says the process is alive whatever Redis does; the page says what is wrong.
    expect((await get('/healthz', {})).status).toBe(200);
    expect((await get('/')).body).toContain('Redis is unreachable');
    // Scrapes keep working during the outage.
    expect((await get('/metrics')).status).toBe(200);

    // Down for longer than three poll intervals (6 s), so the poll before the outage no longer
    // counts and readiness needs a poll that succeeded after Redis came back.
    await waitFor(() => Date.now() > lastSuccess + 7_000, 'the last poll to go stale', 20_000);
    expect((await get('/readyz')).status).toBe(503);
    await redis.start();
    await waitFor(async () => (await readyStatus()) === 200, '/readyz back to 200 after Redis returned', 40_000);
    const up = JSON.parse((await get('/readyz')).body) as { checks: Array<{ name: string; ok: boolean; detail: string }> };
    expect(up.checks.every((check) => check.ok)).toBe(true);
    const check = redis.client();
    expect(Number(await check.hget(app.pipeline.keys.pollHealth(), 'lastSuccess'))).toBeGreaterThan(lastSuccess + 7_000);
    check.disconnect();
  });
});

describe('poll interval of readiness', () => {
  it('takes the longest gap of the schedule', () => {
    expect(cronIntervalMs('*/2 * * * * *')).toBe(2_000);
    expect(cronIntervalMs('* * * * *')).toBe(60_000);
    expect(cronIntervalMs('*/5 * * * *')).toBe(300_000);
    // Weekdays at 08:00: the weekend gap counts, so Monday's first poll never looks late.
    expect(cronIntervalMs('0 8 * * 1-5')).toBe(3 * 86_400_000);
    // Hourly on working days: the weekend gap (Friday 18:00 to Monday 08:00), whatever day it is.
    expect(cronIntervalMs('0 8-18 * * 1-5')).toBe(62 * 3_600_000);
    expect(cronIntervalMs('*/10 * 9-17 * * mon-fri')).toBe(63 * 3_600_000 + 10_000);
    expect(cronIntervalMs('30 6 1 * *')).toBe(31 * 86_400_000);
  });
});

describe('start', () => {
  it('warns about a GEM_JOB_TYPES entry GEM does not document, and not about the documented ones', async () => {
    const startLogs = new LogCapture('warn');
    const config = testConfig(sim, redis.url, { GEM_JOB_TYPES: 'ROAD_MATCHING,ROAD_MATCHNG' });
    const typo = createApp(config, { logger: startLogs.logger, metrics: new Metrics(), http: false });
    await typo.start();
    await typo.stop(2_000);
    const warnings = startLogs.lines.filter((line) => String(line.msg).includes('job types GEM does not document'));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ jobTypes: ['ROAD_MATCHNG'] });
  });
});
