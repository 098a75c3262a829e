import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type App } from '../src/main.js';
import { detectionToDeliverySeconds } from '../src/notify/stages/record.js';
import { DEPRECATED_PROCESS_PREFIX, Metrics } from '../src/telemetry/metrics.js';
import type { DeliveryOutcomeEvent } from '../src/notify/stages/record.js';
import { GemSimulator } from '../src/simulator/gem-simulator.js';
import { startSlackSink, type SlackSink } from '../src/simulator/slack-sink.js';
import { packageVersion } from '../src/version.js';
import { LogCapture, testConfig, waitFor } from './helpers/pipeline.js';
import { startRedis, type TestRedis } from './helpers/redis.js';

/** One family as parse-prometheus-text-format reads it (the package ships no types). */
interface ParsedFamily {
  name: string;
  help: string;
  type: 'COUNTER' | 'GAUGE' | 'HISTOGRAM' | 'SUMMARY' | 'UNTYPED';
  metrics: Array<{ value?: string; labels?: Record<string, string>; buckets?: Record<string, string>; count?: string; sum?: string }>;
}
const parsePrometheus = createRequire(import.meta.url)('parse-prometheus-text-format') as (text: string) => ParsedFamily[];

let redis: TestRedis;
let slack: SlackSink;
let app: App;
const sim = new GemSimulator({ apiKey: 'metrics-key' });
const logs = new LogCapture('warn');

async function scrape(): Promise<string> {
  const response = await fetch(`${app.http!.url}/metrics`);
  expect(response.status).toBe(200);
  return response.text();
}

function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((candidate) => candidate.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

/** The exposition of gem-watch's own families only (not prom-client's process metrics, old names or new). */
function ownFamilies(text: string): string {
  const blocks = text.split(/(?=^# HELP )/m);
  return blocks.filter((block) => /^# HELP gemwatch_/.test(block) && !block.startsWith(`# HELP ${DEPRECATED_PROCESS_PREFIX}`)).join('');
}

beforeAll(async () => {
  redis = await startRedis();
  slack = await startSlackSink();
  await sim.start();
  sim.upsertJob({ id: '701', status: 'running', progress: 10 });
  const config = testConfig(sim, redis.url, { POLL_CRON: '*/2 * * * * *', HTTP_PORT: '0', SLACK_WEBHOOK_URL: slack.webhookUrl() });
  app = createApp(config, { logger: logs.logger, metrics: new Metrics({ defaultMetrics: true, version: packageVersion() }) });
  await app.start();
});

afterAll(async () => {
  await app?.stop(2_000);
  await slack?.close();
  await sim.stop();
  await redis?.close();
});

describe('metrics', () => {
  it('exports Node.js process metrics under the names stock dashboards query, and the old doubled names for one release', async () => {
    const text = await scrape();
    for (const name of ['process_cpu_seconds_total', 'process_resident_memory_bytes', 'process_start_time_seconds', 'nodejs_heap_size_total_bytes', 'nodejs_heap_size_used_bytes', 'nodejs_eventloop_lag_seconds', 'nodejs_gc_duration_seconds', 'nodejs_version_info']) {
      expect(text, name).toMatch(new RegExp(`^# TYPE ${name} `, 'm'));
    }
    // Deprecated, kept so dashboards built on them keep working while they move.
    expect(text).toMatch(/^# TYPE gemwatch_process_process_cpu_seconds_total counter$/m);
    expect(text).toMatch(/^# TYPE gemwatch_process_nodejs_heap_size_total_bytes gauge$/m);
  });

  it('names the version and the Node.js release in gemwatch_build_info', async () => {
    const text = await scrape();
    expect(sample(text, `gemwatch_build_info{version="${packageVersion()}",node="${process.versions.node}"}`)).toBe(1);
  });

  it('observes the time from detection to delivery of an announcement, per channel', async () => {
    const before = await scrape();
    expect(sample(before, 'gemwatch_detection_to_delivery_seconds_count{channel="slack"}')).toBe(0);
    expect(sample(before, 'gemwatch_detection_to_delivery_seconds_count{channel="email"}')).toBe(0);
    await waitFor(async () => (await app.pipeline.store.listTracked()).some((tracked) => tracked.job.id === '701'), 'the running job to be tracked');
    sim.setStatus('701', 'finished');
    await slack.waitFor((requests) => requests.some((request) => request.answer === 200 && request.raw.includes('701')));
    await waitFor(async () => sample(await scrape(), 'gemwatch_detection_to_delivery_seconds_count{channel="slack"}') === 1, 'the delivery to be observed');
    const after = await scrape();
    expect(sample(after, 'gemwatch_detection_to_delivery_seconds_bucket{le="+Inf",channel="slack"}')).toBe(1);
    expect(sample(after, 'gemwatch_detection_to_delivery_seconds_sum{channel="slack"}')).toBeGreaterThanOrEqual(0);
    expect(sample(after, 'gemwatch_detection_to_delivery_seconds_count{channel="email"}')).toBe(0);
  });

  it('parses, family by family, and gem-watch\'s own families follow the naming rules', async () => {
    const text = await scrape();
    const families = parsePrometheus(text);
    const names = families.map((family) => family.name);
    expect(new Set(names).size, 'each family once').toBe(names.length);
    const own = families.filter((family) => family.name.startsWith('gemwatch_') && !family.name.startsWith(DEPRECATED_PROCESS_PREFIX));
    expect(own.map((family) => family.name)).toEqual(expect.arrayContaining(['gemwatch_build_info', 'gemwatch_detection_to_delivery_seconds', 'gemwatch_notifications_total']));
    for (const family of own) {
      expect(family.name, family.name).toMatch(/^[a-z_][a-z0-9_]*$/);
      expect(family.help.length, `${family.name} has help`).toBeGreaterThan(10);
      // promtool's rules: _total is for counters and only for them; durations in seconds.
      expect(family.name.endsWith('_total'), `${family.name} (${family.type})`).toBe(family.type === 'COUNTER');
      expect(family.name, family.name).not.toMatch(/_(ms|milliseconds|minutes|hours)(_|$)/);
      if (family.type === 'HISTOGRAM') {
        expect(family.name, family.name).toMatch(/_seconds$/);
        for (const series of family.metrics) expect(series.buckets?.['+Inf'], `${family.name} has +Inf`).toBeDefined();
      }
    }
  });

  it('passes promtool check metrics on gem-watch\'s own families', async (context) => {
    const found = spawnSync('promtool', ['--version'], { encoding: 'utf8' });
    if (found.error) {
      // CI installs it (.ci/run); on a developer's machine without it the parser test above stands.
      if (process.env.CI) throw new Error('promtool is not installed: .ci/run installs Debian\'s prometheus package');
      context.skip('promtool is not installed (apt-get install prometheus)');
    }
    const own = ownFamilies(await scrape());
    expect(own).toContain('# TYPE gemwatch_build_info gauge');
    const checked = spawnSync('promtool', ['check', 'metrics'], { input: own, encoding: 'utf8' });
    expect(checked.stdout + checked.stderr).toBe('');
    expect(checked.status).toBe(0);
  });
});

describe('detectionToDeliverySeconds', () => {
  const base: DeliveryOutcomeEvent = { taskId: 't', route: 'default', channel: 'slack', target: 'default', outcome: 'delivered', attempt: 1, subject: 's', at: 100_000 };

  it('counts a delivered transition from its detection, and each transition a group message carried', () => {
    expect(detectionToDeliverySeconds({ ...base, kind: 'transition', detectedAt: 97_500 })).toEqual([2.5]);
    expect(
      detectionToDeliverySeconds({
        ...base,
        kind: 'group',
        covers: [
          { taskId: 'a', subject: 'a', kind: 'transition', detectedAt: 40_000 },
          { taskId: 'b', subject: 'b', kind: 'job-alert' },
          { taskId: 'c', subject: 'c', kind: 'transition', detectedAt: 90_000 },
        ],
      }),
    ).toEqual([60, 10]);
  });

  it('counts nothing for a replay, a retry, an alert, and never a negative time across skewed clocks', () => {
    expect(detectionToDeliverySeconds({ ...base, outcome: 'already-delivered', kind: 'transition', detectedAt: 1 })).toEqual([]);
    expect(detectionToDeliverySeconds({ ...base, outcome: 'retrying', kind: 'transition', detectedAt: 1 })).toEqual([]);
    expect(detectionToDeliverySeconds({ ...base, kind: 'alert' })).toEqual([]);
    expect(detectionToDeliverySeconds({ ...base, kind: 'transition', detectedAt: 100_500 })).toEqual([0]);
  });
});
