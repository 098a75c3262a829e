/**
 * Renders the sample digest (test/fixtures/digest-sample.ts) to HTML and screenshots it with headless
 * Chromium, for docs/digest-sample.png. Run: npx tsx scripts/render-digest-sample.ts [out.png]
 *
 * Uses Debian's chromium (apt-get install -y chromium) through playwright-core; CHROMIUM_PATH
 * overrides the path. The page is loaded with every network request refused, as a mail client that
 * blocks remote content would: the digest must not need any.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { buildDigest } from '../src/domain/digest.js';
import { sampleDigestInput } from '../test/fixtures/digest-sample.js';
import { renderDigestHtml } from '../src/notify/channels/email/digest-html.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const out = resolve(process.argv[2] ?? `${root}/docs/digest-sample.png`);
const end = Date.parse('2026-01-21T08:00:00Z');
const html = renderDigestHtml(buildDigest(sampleDigestInput(end), end + 5_000));

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  args: [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--no-first-run',
  ],
});
try {
  const page = await browser.newPage({ viewport: { width: 760, height: 800 }, deviceScaleFactor: 1 });
  const requests: string[] = [];
  await page.route('**/*', (route) => {
    requests.push(route.request().url());
    return route.abort();
  });
  await page.setContent(html, { waitUntil: 'load' });
  mkdirSync(dirname(out), { recursive: true });
  await page.screenshot({ path: out, fullPage: true });
  if (requests.length > 0) {
    throw new Error(`the digest asked for remote content: ${requests.join(', ')}`);
  }
  if (process.env.DIGEST_SAMPLE_HTML) writeFileSync(process.env.DIGEST_SAMPLE_HTML, html);
  console.log(`wrote ${out} (${html.length} bytes of HTML)`);
} finally {
  await browser.close();
}
