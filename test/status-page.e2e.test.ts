import { createRequire } from 'node:module';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildDigest } from '../src/domain/digest.js';
import { sampleDigestInput } from './fixtures/digest-sample.js';
import { createApp, type App } from '../src/main.js';
import { Metrics } from '../src/telemetry/metrics.js';
import { GemSimulator } from '../src/simulator/gem-simulator.js';
import { startSlackSink, type SlackSink } from '../src/simulator/slack-sink.js';
import { renderDigestHtml } from '../src/notify/channels/email/digest-html.js';
import { LogCapture, testConfig, waitFor } from './helpers/pipeline.js';
import { startRedis, type TestRedis } from './helpers/redis.js';

/**
 * The status page in a real browser: Debian's chromium through playwright-core (.ci/run installs it;
 * CHROMIUM_PATH overrides the path).
 */

const HOSTILE = '<!channel> <https://evil.example|click> <script>x</script>';
const HOSTILE_IMG = '"><img src=x onerror="document.title=\'pwned\'">.parquet';
const TOKEN = 'status-page-token-5d2e';
const AXE = createRequire(import.meta.url).resolve('axe-core/axe.min.js');

/** axe-core's violations on the page as it stands, one line each (rule, impact, first targets). */
async function axeViolations(page: Page): Promise<string[]> {
  await page.addScriptTag({ path: AXE });
  const violations = await page.evaluate(async () => {
    const axe = (globalThis as unknown as { axe: { run(options: unknown): Promise<{ violations: Array<{ id: string; impact: string; nodes: Array<{ target: unknown[] }> }> }> } }).axe;
    const result = await axe.run({ resultTypes: ['violations'] });
    return result.violations.map((v) => `${v.id} (${v.impact}): ${v.nodes.slice(0, 3).map((n) => JSON.stringify(n.target)).join(', ')}`);
  });
  return violations;
}

/** How far the document is wider than the viewport: 0 when nothing spills sideways. */
async function overflowX(page: Page): Promise<number> {
  return page.evaluate<number>('document.documentElement.scrollWidth - document.documentElement.clientWidth');
}

let redis: TestRedis;
let slack: SlackSink;
let app: App;
let browser: Browser;
const sim = new GemSimulator({ apiKey: 'page-key' });

beforeAll(async () => {
  redis = await startRedis();
  slack = await startSlackSink();
  await sim.start();
  sim.upsertJob({ id: '3001', status: 'running', progress: 10, inputFile: HOSTILE });
  sim.upsertJob({ id: '3002', status: 'queued', jobType: 'ROAD_MATCHING', inputFile: HOSTILE_IMG });
  sim.upsertJob({ id: '3003', status: 'running', progress: 70, inputFile: 'eu_netherlands_roads.parquet' });
  const config = testConfig(sim, redis.url, {
    POLL_CRON: '*/1 * * * * *',
    HTTP_PORT: '0',
    HTTP_AUTH_TOKEN: TOKEN,
    SLACK_WEBHOOK_URL: slack.webhookUrl(),
  });
  app = createApp(config, { logger: new LogCapture('warn').logger, metrics: new Metrics() });
  await app.start();
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
});

afterAll(async () => {
  await browser?.close();
  await app?.stop(2_000);
  await slack?.close();
  await sim.stop();
  await redis?.close();
});

describe('status page in headless Chromium', () => {
  it("lists the simulator's jobs with progress and ETA, shows recent notifications, and escapes a hostile file name", async () => {
    const client = redis.client();
    // Two polls of the running job give a pace, hence an ETA.
    await waitFor(async () => (await client.hlen(app.pipeline.keys.jobs())) === 3, 'the three jobs to be tracked', 30_000);
    sim.setStatus('3003', 'running', { progress: 80 });
    await waitFor(async () => ((await client.hget(app.pipeline.keys.jobs(), '3003')) ?? '').includes('80'), 'the progress to be seen');
    sim.setStatus('3001', 'finished');
    await slack.waitFor((requests) => requests.some((request) => request.answer === 200 && request.raw.includes('3001')));
    client.disconnect();

    const context = await browser.newContext({ extraHTTPHeaders: { authorization: `Bearer ${TOKEN}` } });
    const page = await context.newPage();
    const pageErrors: string[] = [];
    const dialogs: string[] = [];
    const requests: string[] = [];
    page.on('pageerror', (error) => pageErrors.push(error.message));
    page.on('dialog', (dialog) => {
      dialogs.push(dialog.message());
      void dialog.dismiss();
    });
    page.on('request', (request) => requests.push(request.url()));

    // The notify queue's completed task appears once the worker has finished it.
    await waitFor(async () => {
      await page.goto(`${app.http!.url}/`, { waitUntil: 'load' });
      return (await page.locator('#notifications tbody tr').count()) > 0;
    }, 'the delivery to show under recent notifications');

    expect(await page.title()).toBe('gem-watch status');
    const rows = page.locator('#jobs tbody tr');
    expect(await rows.count()).toBe(3);
    const table = await page.locator('#jobs').innerText();
    for (const id of ['3001', '3002', '3003']) expect(table).toContain(id);
    expect(table).toContain('running');
    expect(table).toContain('queued');
    expect(table).toContain('finished');
    expect(await page.locator('#jobs tr', { hasText: '3003' }).innerText()).toMatch(/80%[\s\S]*\d{4}-\d{2}-\d{2} \d{2}:\d{2}/);

    // The hostile names are shown as text, literally, and nothing of them became markup.
    const hostileCell = page.locator('#jobs td.file', { hasText: '<script>x</script>' });
    expect(await hostileCell.count()).toBe(1);
    expect(await hostileCell.innerText()).toBe(HOSTILE);
    expect(await page.locator('#jobs td.file', { hasText: 'onerror' }).innerText()).toBe(HOSTILE_IMG);
    // The page's own refresh script sits in <head>; nothing from the data became one.
    expect(await page.locator('body script').count()).toBe(0);
    expect(await page.locator('script').count()).toBe(1);
    expect(await page.locator('img').count()).toBe(0);
    expect(await page.locator('a[href*="evil"]').count()).toBe(0);
    expect(await page.title()).not.toBe('pwned');
    expect(pageErrors).toEqual([]);
    expect(dialogs).toEqual([]);
    expect(requests.filter((url) => !url.startsWith(app.http!.url))).toEqual([]);

    const notifications = await page.locator('#notifications').innerText();
    expect(await page.locator('#recent-notifications').innerText()).toContain('From the notification log');
    expect(notifications).toContain('slack');
    expect(notifications).toContain('3001');
    expect(await page.locator('#health').innerText()).toContain('ready');
    await context.close();
  });

  it('asks a browser without the token for credentials', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    // Headless Chromium has nobody to ask, so the Basic challenge ends the navigation.
    await expect(page.goto(`${app.http!.url}/`)).rejects.toThrow(/ERR_INVALID_AUTH_CREDENTIALS/);
    await context.close();
    const withBasic = await browser.newContext({ httpCredentials: { username: 'ops', password: TOKEN } });
    const allowed = await withBasic.newPage();
    expect((await allowed.goto(`${app.http!.url}/`))?.status()).toBe(200);
    expect(await allowed.locator('#jobs').innerText()).toContain('3001');
    // bull-board loads under the same credentials.
    expect((await allowed.goto(`${app.http!.url}/queues`))?.status()).toBe(200);
    await withBasic.close();
  });

  it('renders bull-board under its Content-Security-Policy, with no refused load and nothing fetched from another site', async () => {
    const context = await browser.newContext({ extraHTTPHeaders: { authorization: `Bearer ${TOKEN}` } });
    const page = await context.newPage();
    const problems: string[] = [];
    const requests: string[] = [];
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push(message.text());
    });
    page.on('pageerror', (error) => problems.push(error.message));
    page.on('request', (request) => requests.push(request.url()));
    await page.goto(`${app.http!.url}/queues/`, { waitUntil: 'networkidle' });
    // The React app drew the queues, so its scripts and API calls were allowed.
    await page.locator('text=gem-notify').first().waitFor();
    expect(problems).toEqual([]);
    expect(requests.filter((url) => !url.startsWith(app.http!.url))).toEqual([]);
    await context.close();
  });

  it('has no axe-core violations and no sideways page scroll at 375 and 1280 px, in light and dark', async () => {
    // bypassCSP lets axe-core be injected; the page itself is served with its CSP as ever.
    const context = await browser.newContext({ extraHTTPHeaders: { authorization: `Bearer ${TOKEN}` }, bypassCSP: true });
    const page = await context.newPage();
    const problems: string[] = [];
    for (const colorScheme of ['light', 'dark'] as const) {
      for (const width of [375, 1280]) {
        await page.emulateMedia({ colorScheme });
        await page.setViewportSize({ width, height: 800 });
        await page.goto(`${app.http!.url}/`, { waitUntil: 'load' });
        for (const violation of await axeViolations(page)) problems.push(`${colorScheme} ${width}px: ${violation}`);
        if ((await overflowX(page)) > 0) problems.push(`${colorScheme} ${width}px: the page scrolls sideways by ${await overflowX(page)} px`);
        // A file name keeps a readable width on a phone instead of a letter per line.
        const fileWidth = await page.locator('#jobs td.file').first().evaluate((cell) => cell.getBoundingClientRect().width);
        if (fileWidth < 150) problems.push(`${colorScheme} ${width}px: the input file column is ${fileWidth} px wide`);
      }
    }
    expect(problems).toEqual([]);
    expect(await page.locator('meta[http-equiv="refresh" i]').count()).toBe(0);
    expect(await page.locator('link[rel="icon"]').getAttribute('href')).toMatch(/^data:image\/svg\+xml,/);
    // The default route's target is also "default": said once.
    expect(await page.locator('#notifications').innerText()).not.toMatch(/default\s+default/);
    await context.close();
  });

  it('refreshes itself in place, says so, and stops while paused', async () => {
    const context = await browser.newContext({ extraHTTPHeaders: { authorization: `Bearer ${TOKEN}` } });
    const page = await context.newPage();
    const pageErrors: string[] = [];
    page.on('pageerror', (error) => pageErrors.push(error.message));
    let reloads = 0;
    page.on('request', (request) => {
      if (request.url() === `${app.http!.url}/`) reloads += 1;
    });
    // The page's timers run on Playwright's clock, moved by hand: no waiting on the real 15 s.
    await page.clock.install();
    await page.goto(`${app.http!.url}/`, { waitUntil: 'load' });
    const status = page.getByRole('status');
    const pause = page.getByRole('button', { name: 'Pause updates' });
    expect(await status.innerText()).toBe('Updates every 15 s.');
    expect(await pause.getAttribute('aria-pressed')).toBe('false');

    await page.clock.runFor(15_000);
    await expect.poll(() => status.innerText()).toMatch(/^Updated \d{4}-\d{2}-\d{2} \d{2}:\d{2}/);
    expect(reloads).toBe(2);
    expect(await page.locator('#jobs tbody tr').count()).toBe(3);

    await pause.click();
    expect(await pause.getAttribute('aria-pressed')).toBe('true');
    expect(await status.innerText()).toBe('Updates paused.');
    await page.clock.runFor(120_000);
    expect(reloads).toBe(2);

    await pause.click();
    expect(await status.innerText()).toBe('Updates resumed, every 15 s.');
    await page.clock.runFor(15_000);
    await expect.poll(() => reloads).toBe(3);
    expect(pageErrors).toEqual([]);
    await context.close();
  });
});

describe('digest email in headless Chromium', () => {
  it('has no axe-core violations and does not grow past the screen at 375 and 1280 px', async () => {
    const end = Date.parse('2026-01-21T08:00:00Z');
    const html = renderDigestHtml(buildDigest(sampleDigestInput(end), end + 5_000));
    const page = await browser.newPage();
    // A careful mail client fetches nothing: neither must the digest need anything.
    await page.route('**/*', (route) => route.abort());
    const problems: string[] = [];
    for (const width of [375, 1280]) {
      await page.setViewportSize({ width, height: 800 });
      await page.setContent(html, { waitUntil: 'load' });
      for (const violation of await axeViolations(page)) problems.push(`${width}px: ${violation}`);
      if ((await overflowX(page)) > 0) problems.push(`${width}px: the digest is ${await overflowX(page)} px wider than the screen`);
    }
    expect(problems).toEqual([]);
    await page.close();
  });
});
