import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Ajv } from 'ajv';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderTeams } from '../src/notify/channels/teams/render.js';
import { cardOf, TEAMS_LIMITS } from '../src/notify/channels/teams/teams-message.js';
import { TEAMS_MESSAGE_MAX_BYTES, workflowsMessageProblems } from '../src/simulator/teams-workflows-sink.js';
import { messageKinds } from './fixtures/message-kinds.js';

/**
 * Every Teams message kind, plain and with hostile API text in every field (mentions, links,
 * markdown, HTML, control characters, 1 MB values): the card validates against the published
 * Adaptive Card 1.4 schema (test/fixtures/adaptive-card-1.4.schema.json), the body stays within
 * Teams' 28 KB, and the `adaptivecards` library renders it in Chromium (Debian's, through
 * playwright-core; CHROMIUM_PATH overrides) with markdown-it as its markdown processor, linkify on
 * as Teams links bare URLs: the hostile text shows as text, with no link, emphasis, list, heading,
 * image or script in the rendered card.
 */

const require = createRequire(import.meta.url);
// The published schema names itself with draft-04's `id`, which Ajv 8 refuses; its references are all
// local (`#/definitions/…`), so the name is left out here and nothing else changes.
const { id: _publishedId, ...SCHEMA } = JSON.parse(readFileSync(new URL('./fixtures/adaptive-card-1.4.schema.json', import.meta.url), 'utf8')) as Record<string, unknown>;
const DRAFT_06 = require('ajv/dist/refs/json-schema-draft-06.json') as object;
const ADAPTIVECARDS = require.resolve('adaptivecards/dist/adaptivecards.min.js');
// The package's exports name no browser build, so the path is taken from its own folder.
const MARKDOWN_IT = new URL('dist/browser/markdown-it.umd.min.js', `file://${require.resolve('markdown-it/package.json')}`).pathname;

function cardValidator() {
  // Draft-06's meta-schema, and the annotation keywords Ajv's strict mode would refuse.
  const ajv = new Ajv({ strict: false, allErrors: true });
  ajv.addMetaSchema(DRAFT_06);
  ajv.addFormat('uri', (value: string) => URL.canParse(value));
  ajv.addFormat('uri-reference', () => true);
  return ajv.compile(SCHEMA);
}

const KINDS = [...messageKinds(false).map(([name, content]) => [name, content, false] as const), ...messageKinds(true).map(([name, content]) => [`${name}, hostile`, content, true] as const)];

describe('Teams cards against the Adaptive Card 1.4 schema', () => {
  const validate = cardValidator();

  it('the schema refuses what Teams refuses (a sanity check of the fixture)', () => {
    expect(validate({ type: 'AdaptiveCard', version: '1.4', body: [{ type: 'TextBlock', text: 'ok', wrap: true }] })).toBe(true);
    expect(validate({ type: 'AdaptiveCard', version: '1.4', body: [{ type: 'TextBlock' }] })).toBe(false);
    expect(validate({ type: 'AdaptiveCard', version: '1.4', body: [{ type: 'FactSet', facts: [{ title: 'a' }] }] })).toBe(false);
    expect(validate({ type: 'AdaptiveCard', version: '1.4', body: [{ type: 'TextBlock', text: 'x', color: 'purple' }] })).toBe(false);
  });

  it.each(KINDS)('%s: validates, is a Workflows message and stays under 28 KB', (_name, content) => {
    const message = renderTeams(content, { timeZone: 'Europe/Amsterdam' });
    const valid = validate(cardOf(message));
    expect(validate.errors ?? [], JSON.stringify(validate.errors?.slice(0, 3))).toEqual([]);
    expect(valid).toBe(true);
    const bytes = Buffer.byteLength(JSON.stringify(message));
    expect(bytes).toBeLessThanOrEqual(TEAMS_LIMITS.bodyBytes);
    expect(bytes).toBeLessThan(TEAMS_MESSAGE_MAX_BYTES);
    expect(workflowsMessageProblems(JSON.parse(JSON.stringify(message)), bytes)).toEqual([]);
  });
});

describe('Teams cards rendered by adaptivecards in Chromium', () => {
  let browser: Browser;

  beforeAll(async () => {
    browser = await chromium.launch({
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    });
  });
  afterAll(async () => {
    await browser?.close();
  });

  it('renders every kind, and hostile API text stays text', async () => {
    const page = await browser.newPage();
    const errors: string[] = [];
    const requests: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    page.on('dialog', (dialog) => {
      errors.push(`dialog: ${dialog.message()}`);
      void dialog.dismiss();
    });
    page.on('request', (request) => requests.push(request.url()));
    await page.setContent('<!doctype html><html><body><div id="card"></div></body></html>');
    await page.addScriptTag({ path: MARKDOWN_IT });
    await page.addScriptTag({ path: ADAPTIVECARDS });
    const control = { type: 'AdaptiveCard', version: '1.4', body: [{ type: 'TextBlock', text: '**bold** [x](https://a.example) https://b.com me@c.com\n\n- item', wrap: true }] };
    const cards: Array<[string, object, boolean]> = [['control: unescaped markdown', control, false], ...KINDS.map(([name, content, hostile]): [string, object, boolean] => [name, cardOf(renderTeams(content, { timeZone: 'UTC' })), hostile])];
    for (const [name, card, hostile] of cards) {
      const result = await page.evaluate((json) => {
        // Runs in the page: the shapes of the two libraries' globals and the DOM, as far as used.
        interface Node { querySelectorAll(selector: string): { length: number }; replaceChildren(): void; appendChild(node: unknown): void; innerText: string }
        interface Card { parse(json: unknown, context: unknown): void; render(): Node | undefined }
        interface Library { AdaptiveCard: (new () => Card) & { onProcessMarkdown?: (text: string, out: { outputHtml?: string; didProcess: boolean }) => void }; SerializationContext: new () => { eventCount: number } }
        const scope = globalThis as unknown as { AdaptiveCards: Library; markdownit: (options: object) => { render(text: string): string }; document: { getElementById(id: string): Node } };
        const AC = scope.AdaptiveCards;
        AC.AdaptiveCard.onProcessMarkdown = (text, out) => {
          out.outputHtml = scope.markdownit({ linkify: true }).render(text);
          out.didProcess = true;
        };
        const adaptive = new AC.AdaptiveCard();
        const context = new AC.SerializationContext();
        adaptive.parse(json, context);
        const holder = scope.document.getElementById('card');
        holder.replaceChildren();
        const element = adaptive.render();
        if (element) holder.appendChild(element);
        const count = (selector: string) => holder.querySelectorAll(selector).length;
        return {
          rendered: Boolean(element),
          parseErrors: context.eventCount,
          text: holder.innerText,
          markup: {
            a: count('a'),
            strong: count('strong, b'),
            em: count('em, i'),
            lists: count('ul, ol, li'),
            headings: count('h1, h2, h3, h4, h5, h6'),
            quotes: count('blockquote'),
            code: count('code, pre'),
            media: count('img, script, iframe, object, embed'),
            del: count('del, s'),
          },
        };
      }, card as unknown as Record<string, unknown>);
      expect(result.rendered, name).toBe(true);
      expect(result.parseErrors, `${name}: the renderer reported parse problems`).toBe(0);
      if (card === control) {
        // The harness sees markup when there is some: markdown is processed and bare URLs linked.
        expect(result.markup.strong).toBe(1);
        expect(result.markup.a).toBe(3);
        expect(result.markup.lists).toBeGreaterThan(0);
        continue;
      }
      expect(result.markup, name).toEqual({ a: 0, strong: 0, em: 0, lists: 0, headings: 0, quotes: 0, code: 0, media: 0, del: 0 });
      if (hostile && name.startsWith('failed')) {
        for (const literal of ['**bold**', '[click](https://evil.example/login)', '<at>Everyone</at>', '<script>alert(1)</script>', '# heading', '- item', '1. first', '> quote', '~~gone~~', '`code`']) {
          expect(result.text, `${name}: ${literal}`).toContain(literal);
        }
        // eslint-disable-next-line no-control-regex
        expect(result.text).not.toMatch(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/);
      }
      if (name === 'finished') {
        expect(result.text).toContain('ROAD_MATCHING job 7 finished: 84.68% matched');
        expect(result.text).toContain('Roads matched');
        expect(result.text).toContain('84.68%');
      }
    }
    expect(errors).toEqual([]);
    expect(requests.filter((url) => !url.startsWith('about:') && !url.startsWith('data:'))).toEqual([]);
    await page.close();
  }, 60_000);
});
