/**
 * Takes the README's pictures with headless Chromium, from a real run rather than from mock data:
 * the GEM simulator, the pipeline (createApp) on a fast cron, the Slack and SMTP sinks.
 *
 *   npx tsx scripts/render-doc-images.ts [docs]
 *
 * writes docs/status-page.png (the live status page), docs/slack-message.png (a posted Slack
 * message's blocks laid out roughly as Slack shows them) and docs/email.png (the transition email's
 * HTML as sent). Needs redis-server on PATH (or REDIS_URL) and Debian's chromium (CHROMIUM_PATH
 * overrides /usr/bin/chromium).
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { simpleParser } from 'mailparser';
import { chromium } from 'playwright-core';
import { loadConfigWithSecrets } from '../src/config-secrets.js';
import { startDemoRedis } from '../src/demo/demo-redis.js';
import { createApp } from '../src/main.js';
import { silentLogger } from '../src/telemetry/logger.js';
import { GemSimulator } from '../src/simulator/gem-simulator.js';
import { startSlackSink } from '../src/simulator/slack-sink.js';
import { slackMock } from './slack-mock.js';
import { startSmtpSink } from '../src/simulator/smtp-sink.js';
import { until } from './until.js';

const outDir = resolve(process.argv[2] ?? 'docs');
mkdirSync(outDir, { recursive: true });

const redis = await startDemoRedis();
const sim = new GemSimulator({ apiKey: 'docs-key', seed: 7 });
const slack = await startSlackSink();
const smtp = await startSmtpSink();
await sim.start();
const hoursAgo = (hours: number) => new Date(Date.now() - hours * 3_600_000).toISOString();
sim.upsertJob({ id: '81020001', jobType: 'ROAD_MATCHING', status: 'running', progress: 35, inputFile: 'eu_netherlands_roads_2026-01.parquet', createdAt: hoursAgo(2.6), numRoads: 271_828 });
sim.upsertJob({ id: '81020002', jobType: 'LANE_LEVEL_MATCHING', status: 'running', progress: 20, inputFile: 'us_california_lanes_2026-01.parquet', createdAt: hoursAgo(1.2) });
sim.upsertJob({ id: '81020003', jobType: 'ROAD_MATCHING', status: 'running', progress: 55, inputFile: 'eu_belgium_roads_2026-01.parquet', createdAt: hoursAgo(0.9) });
sim.upsertJob({ id: '81020004', jobType: 'ROAD_MATCHING', status: 'queued', inputFile: 'ap_tokyo_roads_2026-01.parquet', createdAt: hoursAgo(0.2) });
sim.upsertJob({ id: '81020005', jobType: 'LANE_LEVEL_MATCHING', status: 'running', progress: 70, inputFile: 'eu_bavaria_lanes_2026-01.parquet', createdAt: hoursAgo(3.1) });

// One message per transition (no burst grouping) and no overdue alerts for the short-lived jobs.
const overlay = join(mkdtempSync(join(tmpdir(), 'gem-watch-docs-')), 'docs.yaml');
writeFileSync(overlay, 'alerts:\n  burstWindowSec: 0\n  overdueFactor: 1000\n  queuedMaxMinutes: 10000\n');
const config = loadConfigWithSecrets({
  file: overlay,
  env: {
    GEM_API_KEY: sim.apiKey,
    GEM_API_BASE_URL: sim.baseUrl,
    GEM_JOB_TYPES: 'ROAD_MATCHING,LANE_LEVEL_MATCHING',
    POLL_CRON: '* * * * * *',
    REDIS_URL: redis.url,
    GEM_WATCH_PREFIX: `gemwatch-docs-${Date.now().toString(36)}`,
    SLACK_WEBHOOK_URL: slack.webhookUrl(),
    SMTP_URL: smtp.url(),
    EMAIL_FROM: 'gem-watch@example.com',
    EMAIL_TO: 'data-team@example.com',
    HTTP_PORT: '0',
    DIGEST_TIMEZONE: 'Europe/Amsterdam',
  },
});
const app = createApp(config, { logger: silentLogger() });
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
});
try {
  await app.start();
  await until(async () => (await app.pipeline.redis.hlen(app.pipeline.keys.jobs())) === 5, 'the jobs to be tracked');
  // A second progress sample of each running job gives it an ETA.
  sim.setStatus('81020001', 'running', { progress: 41 });
  sim.setStatus('81020002', 'running', { progress: 26 });
  sim.setStatus('81020003', 'running', { progress: 62 });
  await new Promise((done) => setTimeout(done, 2_500));
  sim.setStatus('81020005', 'finished', {
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
  sim.setStatus('81020002', 'failed', { message: 'Input validation failed: column "geometry" is missing' });
  const announced = (id: string) => slack.accepted().some((request) => request.raw.includes(id)) && smtp.mails.some((mail) => mail.raw.includes(id));
  await until(() => announced('81020005') && announced('81020002'), 'the two announcements');
  await new Promise((done) => setTimeout(done, 1_500));

  const page = await browser.newPage({ viewport: { width: 1180, height: 700 }, deviceScaleFactor: 1 });
  await page.goto(`${app.http!.url}/`, { waitUntil: 'load' });
  await page.screenshot({ path: resolve(outDir, 'status-page.png'), fullPage: true });

  const finishedPost = slack.accepted().find((request) => request.raw.includes('81020005'))!;
  await page.setViewportSize({ width: 760, height: 400 });
  await page.setContent(slackMock(finishedPost.body!), { waitUntil: 'load' });
  await page.screenshot({ path: resolve(outDir, 'slack-message.png'), fullPage: true });

  const mail = smtp.mails.find((candidate) => candidate.raw.includes('81020005'))!;
  await page.setViewportSize({ width: 760, height: 600 });
  // Remote content refused, as a careful mail client would: the email must not need any.
  await page.route('**/*', (route) => route.abort());
  const html = (await simpleParser(mail.raw)).html;
  await page.setContent(typeof html === 'string' ? html : '<p>no HTML part</p>', { waitUntil: 'load' });
  await page.screenshot({ path: resolve(outDir, 'email.png'), fullPage: true });
  console.log(`wrote ${outDir}/status-page.png, slack-message.png and email.png`);
} finally {
  await browser.close();
  await app.stop(2_000);
  await slack.close();
  await smtp.close();
  await sim.stop();
  await redis.stop();
}
