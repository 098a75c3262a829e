/**
 * Takes the README's pictures of Slack app mode with headless Chromium, from a real run: the GEM
 * simulator, the pipeline (createApp) on a fast cron and the local Slack Web API server. One job
 * goes queued → running → finished; each picture is the job's one message as the channel shows it
 * after that event (the last with its thread reply).
 *
 *   npx tsx scripts/render-slack-app-images.ts [docs]
 *
 * writes docs/slack-app-queued.png, docs/slack-app-running.png and docs/slack-app-finished.png.
 * Needs redis-server on PATH (or REDIS_URL) and Debian's chromium (CHROMIUM_PATH overrides
 * /usr/bin/chromium).
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium } from 'playwright-core';
import { loadConfigWithSecrets } from '../src/config-secrets.js';
import { startDemoRedis } from '../src/demo/demo-redis.js';
import { createApp } from '../src/main.js';
import { silentLogger } from '../src/telemetry/logger.js';
import { GemSimulator } from '../src/simulator/gem-simulator.js';
import { startSlackApiServer, type SlackApiMessage } from '../src/simulator/slack-api.js';
import { slackMock } from './slack-mock.js';
import { until } from './until.js';

const outDir = resolve(process.argv[2] ?? 'docs');
mkdirSync(outDir, { recursive: true });
const TOKEN = 'xoxb-docs-0000000000-notASecretDocsToken';
const JOB = '81020007';

const redis = await startDemoRedis();
const sim = new GemSimulator({ apiKey: 'docs-key', seed: 7 });
const slack = await startSlackApiServer({ token: TOKEN });
await sim.start();
const hoursAgo = (hours: number) => new Date(Date.now() - hours * 3_600_000).toISOString();

const overlay = join(mkdtempSync(join(tmpdir(), 'gem-watch-docs-')), 'docs.yaml');
writeFileSync(overlay, 'alerts:\n  burstWindowSec: 0\n  overdueFactor: 1000\n  queuedMaxMinutes: 10000\nslackApp:\n  liveProgress: true\n');
const config = loadConfigWithSecrets({
  file: overlay,
  env: {
    GEM_API_KEY: sim.apiKey,
    GEM_API_BASE_URL: sim.baseUrl,
    GEM_JOB_TYPES: 'ROAD_MATCHING',
    POLL_CRON: '* * * * * *',
    REDIS_URL: redis.url,
    GEM_WATCH_PREFIX: `gemwatch-docs-${Date.now().toString(36)}`,
    SLACK_BOT_TOKEN: TOKEN,
    SLACK_CHANNEL: '#gem-alerts',
    SLACK_API_URL: slack.apiUrl,
    SMTP_URL: '',
    HTTP_PORT: '0',
    DIGEST_TIMEZONE: 'Europe/Amsterdam',
  },
});
const app = createApp(config, { logger: silentLogger() });
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
});
const message = (): SlackApiMessage | undefined => slack.messages('#gem-alerts').find((candidate) => candidate.text.includes(JOB));
try {
  await app.start();
  // One poll first, so the job is news rather than the first sync's history.
  await until(async () => (await app.pipeline.redis.exists(app.pipeline.keys.synced('ROAD_MATCHING'))) === 1, 'the first sync');
  const page = await browser.newPage({ viewport: { width: 760, height: 400 }, deviceScaleFactor: 1 });
  const shoot = async (name: string) => {
    const shown = message()!;
    const payload = (posted: SlackApiMessage) => ({ text: posted.text, blocks: posted.blocks });
    const replies = slack.thread('#gem-alerts', shown.ts).map(payload);
    await page.setContent(slackMock(payload(shown), { channel: 'gem-alerts', edited: shown.edits > 0, replies }), { waitUntil: 'load' });
    await page.screenshot({ path: resolve(outDir, name), fullPage: true });
  };

  sim.upsertJob({ id: JOB, jobType: 'ROAD_MATCHING', status: 'queued', inputFile: 'eu_netherlands_roads_2026-01.parquet', createdAt: hoursAgo(0.1), numRoads: 271_828 });
  await until(() => message() !== undefined, 'the queued job posted');
  await shoot('slack-app-queued.png');

  sim.setStatus(JOB, 'running', { progress: 42 });
  await until(() => message()?.text.includes('running') ?? false, 'the running job updated');
  await shoot('slack-app-running.png');

  sim.setStatus(JOB, 'finished', {
    statistics: {
      roadsMatchedPct: 84.68,
      roadsFullyMatchedPct: 80.12,
      roadsPartiallyMatchedPct: 4.56,
      roadsUnmatchedPct: 15.32,
      confidenceThreshold: 0.7,
      kmsProcessed: 12_345.6,
      numRoadsProcessed: 271_828,
      executionTimeSec: 9_751.75,
    },
  });
  await until(() => (message()?.text.includes('finished') ?? false) && slack.thread('#gem-alerts', message()!.ts).length === 1, 'the end and its thread reply');
  await shoot('slack-app-finished.png');
  if (slack.messages('#gem-alerts').length !== 1) throw new Error(`expected one top-level message, found ${slack.messages('#gem-alerts').length}`);
  console.log(`wrote ${outDir}/slack-app-queued.png, slack-app-running.png and slack-app-finished.png`);
} finally {
  await browser.close();
  await app.stop(2_000);
  await slack.close();
  await sim.stop();
  await redis.stop();
}
