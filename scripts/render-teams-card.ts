/**
 * Takes the README's Teams picture from a real run: the GEM simulator, the pipeline (createApp) on
 * a fast cron and the Workflows sink; the card the daemon posted for a finished job is rendered by
 * the `adaptivecards` library (markdown by markdown-it, as in the tests) in headless Chromium.
 *
 *   npx tsx scripts/render-teams-card.ts [docs]
 *
 * writes docs/teams-card.png. Needs redis-server on PATH (or REDIS_URL) and Debian's chromium
 * (CHROMIUM_PATH overrides /usr/bin/chromium). The machine has no emoji font, so the title's status
 * emoji is drawn as a small coloured badge, as in the Slack picture.
 */
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium } from 'playwright-core';
import { loadConfigWithSecrets } from '../src/config-secrets.js';
import { startDemoRedis } from '../src/demo/demo-redis.js';
import { createApp } from '../src/main.js';
import { GemSimulator } from '../src/simulator/gem-simulator.js';
import { startTeamsSink } from '../src/simulator/teams-workflows-sink.js';
import { silentLogger } from '../src/telemetry/logger.js';
import { until } from './until.js';

const require = createRequire(import.meta.url);
const outDir = resolve(process.argv[2] ?? 'docs');
mkdirSync(outDir, { recursive: true });

const redis = await startDemoRedis();
const sim = new GemSimulator({ apiKey: 'docs-key', seed: 7 });
const teams = await startTeamsSink();
await sim.start();
const hoursAgo = (hours: number) => new Date(Date.now() - hours * 3_600_000).toISOString();
sim.upsertJob({ id: '81020005', jobType: 'LANE_LEVEL_MATCHING', status: 'running', progress: 70, inputFile: 'eu_bavaria_lanes_2026-01.parquet', createdAt: hoursAgo(3.1) });

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
    TEAMS_WEBHOOK_URL: teams.webhookUrl(),
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
  await until(async () => (await app.pipeline.redis.hlen(app.pipeline.keys.jobs())) === 1, 'the job to be tracked');
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
  await until(() => teams.shown().some((request) => request.raw.includes('81020005')), 'the Teams card');
  const card = teams.shown().find((request) => request.raw.includes('81020005'))!.card!;

  const page = await browser.newPage({ viewport: { width: 620, height: 400 }, deviceScaleFactor: 1 });
  await page.route('**/*', (route) => route.abort());
  const css = readFileSync(require.resolve('adaptivecards/dist/adaptivecards.css'), 'utf8');
  await page.setContent(
    `<!doctype html><html><head><style>${css}
      body { margin: 0; padding: 16px; background: #f5f5f5; font-family: "Segoe UI", "DejaVu Sans", sans-serif; }
      #card { background: #fff; border-radius: 6px; box-shadow: 0 1px 3px rgba(0,0,0,.2); max-width: 560px; }
      .badge { display: inline-block; min-width: 1.2em; padding: 0 .2em; border-radius: .3em; color: #fff; text-align: center; font-size: .85em; }
    </style></head><body><div id="card"></div></body></html>`,
  );
  await page.addScriptTag({ path: new URL('dist/browser/markdown-it.umd.min.js', `file://${require.resolve('markdown-it/package.json')}`).pathname });
  await page.addScriptTag({ path: require.resolve('adaptivecards/dist/adaptivecards.min.js') });
  await page.evaluate((json) => {
    interface Node { appendChild(node: unknown): void; innerHTML: string; querySelectorAll(selector: string): ArrayLike<Node> }
    interface Library { AdaptiveCard: (new () => { parse(json: unknown): void; render(): Node | undefined }) & { onProcessMarkdown?: (text: string, out: { outputHtml?: string; didProcess: boolean }) => void } }
    const scope = globalThis as unknown as { AdaptiveCards: Library; markdownit: (options: object) => { render(text: string): string }; document: { getElementById(id: string): Node } };
    scope.AdaptiveCards.AdaptiveCard.onProcessMarkdown = (text, out) => {
      out.outputHtml = scope.markdownit({ linkify: true }).render(text);
      out.didProcess = true;
    };
    const adaptive = new scope.AdaptiveCards.AdaptiveCard();
    adaptive.parse(json);
    const element = adaptive.render();
    if (element) scope.document.getElementById('card').appendChild(element);
    const badges: Record<string, string> = { '✅': '#2eb67d', '❌': '#e01e5a', '🚫': '#616061' };
    const glyphs: Record<string, string> = { '✅': '✓', '❌': '✗', '🚫': '⊘' };
    const blocks = scope.document.getElementById('card').querySelectorAll('p');
    for (let index = 0; index < blocks.length; index += 1) {
      const block = blocks[index]!;
      for (const [emoji, colour] of Object.entries(badges)) {
        block.innerHTML = block.innerHTML.replace(emoji, `<span class="badge" style="background:${colour}">${glyphs[emoji]}</span>`);
      }
    }
  }, card);
  await page.locator('#card').screenshot({ path: resolve(outDir, 'teams-card.png') });
  console.log(`wrote ${outDir}/teams-card.png`);
} finally {
  await browser.close();
  await app.stop(2_000);
  await teams.close();
  await sim.stop();
  await redis.stop();
}
