import { describe, expect, it } from 'vitest';
import { buildDigest, type DigestInput } from '../../domain/digest.js';
import { HOSTILE_FILE_NAME, sampleDigestInput } from '../../../test/fixtures/digest-sample.js';
import type { Transition } from '../../domain/transition.js';
import { digestSubject } from '../../templates/digest-format.js';
import { allocateRows, htmlBar, renderDigestHtml } from './email/digest-html.js';
import { renderDigestSlack } from './slack/digest-slack.js';
import { slackBlockTexts } from '../../../test/helpers/slack-texts.js';
import { renderDigestText, textBar } from './email/digest-text.js';

const END = Date.parse('2026-01-21T08:00:00Z');
const NOW = END + 5_000;

function sample(over: Partial<DigestInput> = {}) {
  return buildDigest({ ...sampleDigestInput(END), ...over }, NOW);
}

function manyFinished(count: number, name: string): Transition[] {
  return Array.from({ length: count }, (_, i) => ({
    jobId: `bulk-${i}`,
    jobType: 'ROAD_MATCHING',
    from: 'running' as const,
    to: 'finished' as const,
    version: 3,
    detectedAt: END - 1000 - i,
    job: { id: `bulk-${i}`, jobType: 'ROAD_MATCHING', status: 'finished' as const, rawStatus: 'finished', inputFile: name, statistics: { roadsMatchedPct: 50 } },
  }));
}

describe('digest HTML', () => {
  const html = renderDigestHtml(sample());

  it('shows the figures the API returned', () => {
    expect(html).toContain('netherlands_roads_2026w03.parquet');
    expect(html).toContain('84.68%');
    // The job's own row: km (the column says the unit), roads, duration.
    expect(html).toMatch(/>141,977\.6<\/td>.*>32,456<\/td>.*>2 h 42 min<\/td>/);
    expect(html).toContain('67.5%');
  });

  it('lists failed jobs with their message, and running jobs with progress and expected end', () => {
    expect(html).toContain('germany_bavaria.parquet');
    expect(html).toContain('Input validation failed: column &quot;geometry&quot; is missing');
    expect(html).toContain('poland_roads.parquet');
    expect(html).toContain('60%');
    expect(html).toMatch(/Expected end/);
    expect(html).toMatch(/in \d+ (h|min)/);
  });

  it('escapes hostile file names', () => {
    expect(html).not.toContain('<script');
    expect(html).not.toContain('<!channel>');
    expect(html).not.toContain('<https://evil.example');
    expect(html).toContain('&lt;!channel&gt; &lt;https://evil.example|click&gt; &lt;script&gt;x&lt;/script&gt;.parquet');
  });

  it('is fit for mail clients: no scripts, style sheets, images or external resources', () => {
    expect(html).not.toMatch(/<script|<style|<link|<img|<iframe|<form|@import|url\(/i);
    expect(html).not.toMatch(/\ssrc=/i);
    expect(html).not.toMatch(/\shref=/i);
    expect(html).toMatch(/^<!DOCTYPE html>/);
    expect(html).toContain('role="presentation"');
  });

  it('draws the matched % as a bar of table cells with pixel widths', () => {
    expect(htmlBar(84.68, '#1a7f37')).toContain('width="85"');
    expect(htmlBar(84.68, '#1a7f37')).toContain('width="15"');
    expect(htmlBar(0, '#000')).not.toContain('width="0"');
    expect(htmlBar(100, '#000')).not.toContain('width="0"');
    expect(htmlBar(undefined, '#000')).toBe('');
    expect(html).toContain('width="85"');
  });

  it('caps long lists and says how many are left out', () => {
    const big = renderDigestHtml(sample({ transitions: manyFinished(130, 'bulk.parquet') }), { rowBudget: 100 });
    // The 3 running and 2 queued jobs keep their rows; the finished section takes the rest.
    expect(big.match(/bulk\.parquet/g)).toHaveLength(95);
    expect(big).toContain('… and 35 more');
    expect(big).toContain('poland_roads.parquet');
    expect(big).toContain('austria_roads.parquet');
  });

  it('shares the row budget: every section keeps a few rows, failures get the rest first', () => {
    expect(allocateRows([100, 100, 100, 100], 60, 8)).toEqual([36, 8, 8, 8]);
    expect(allocateRows([2, 100, 3, 0], 60, 8)).toEqual([2, 55, 3, 0]);
    expect(allocateRows([1, 2, 3, 4], 60, 8)).toEqual([1, 2, 3, 4]);
  });

  it('stays below the size at which Gmail clips a message, however busy the day', () => {
    const base = sampleDigestInput(END);
    const running = base.tracked.find((t) => t.status === 'running')!;
    const queued = base.tracked.find((t) => t.status === 'queued')!;
    const model = buildDigest(
      {
        ...base,
        transitions: [...manyFinished(1000, `${'long_name_'.repeat(15)}.parquet`), ...manyFinished(1000, 'x.parquet').map((t) => ({ ...t, jobId: `f-${t.jobId}`, to: 'failed' as const, job: { ...t.job, id: `f-${t.jobId}`, message: 'm'.repeat(5000) } }))],
        tracked: [
          ...Array.from({ length: 1000 }, (_, i) => ({ ...running, job: { ...running.job, id: `r-${i}` } })),
          ...Array.from({ length: 1000 }, (_, i) => ({ ...queued, job: { ...queued.job, id: `q-${i}` } })),
        ],
      },
      NOW,
    );
    const bytes = Buffer.byteLength(renderDigestHtml(model));
    expect(bytes).toBeLessThan(100_000);
  });

  it('says so when nothing happened', () => {
    const empty = renderDigestHtml(buildDigest({ period: { start: END - 86_400_000, end: END }, transitions: [], previousTransitions: [], tracked: [] }, NOW));
    expect(empty).toContain('Nothing happened in this period');
  });
});

describe('digest text', () => {
  const text = renderDigestText(sample());

  it('shows the figures the API returned and the running jobs', () => {
    expect(text).toContain('netherlands_roads_2026w03.parquet');
    expect(text).toMatch(/matched 84\.68% \[#{17}-{3}\] · fully 67\.5% · 141,977\.6 km · 32,456 roads · 2 h 42 min/);
    expect(text).toContain('| Input validation failed: column "geometry" is missing or not WKB-encoded');
    expect(text).toMatch(/poland_roads\.parquet.*\n\s+60% .* · expected end 2026-01-21 \d\d:\d\d UTC \(in /);
    expect(text).toContain('Period: 2026-01-20 08:00 UTC – 2026-01-21 08:00 UTC (24 h)');
  });

  it('keeps a file name with line breaks on one line, without control characters', () => {
    const model = sample({ transitions: manyFinished(1, 'evil\nFinished (99)\r\n  - forged\u0007.parquet') });
    const out = renderDigestText(model);
    expect(out).toContain('evil Finished (99) - forged .parquet');
    expect(out).toContain('matched 50% [##########----------]\n');
    expect(out).not.toContain('\u0007');
    expect(out).not.toMatch(/^Finished \(99\)/m);
  });

  it('draws bars of 20 cells', () => {
    expect(textBar(50)).toBe('[##########----------]');
    expect(textBar(undefined)).toBe('');
  });
});

describe('digest Slack summary', () => {
  const message = renderDigestSlack(sample());
  const texts = slackBlockTexts(message.blocks);

  it('escapes hostile file names so nothing pings or links', () => {
    const all = JSON.stringify(message);
    expect(all).not.toContain('<!channel>');
    expect(all).not.toContain('<https://evil.example');
    expect(all).not.toContain('<script');
    expect(texts.join('\n')).toContain('&lt;!channel&gt; &lt;https://evil.example|click&gt; &lt;script&gt;x&lt;/script&gt;.parquet');
  });

  it('marks every mrkdwn text verbatim and turns unfurling off', () => {
    for (const block of message.blocks) {
      if (block.type === 'section') for (const item of [block.text, ...(block.fields ?? [])]) if (item) expect(item).toMatchObject({ type: 'mrkdwn', verbatim: true });
      if (block.type === 'context') for (const item of block.elements) expect(item).toMatchObject({ type: 'mrkdwn', verbatim: true });
    }
    expect(message.unfurl_links).toBe(false);
    expect(message.unfurl_media).toBe(false);
  });

  it('stays within Block Kit limits for a huge day with long hostile names', () => {
    const huge = renderDigestSlack(sample({ transitions: manyFinished(2000, `${'&<>'.repeat(500)}.parquet`) }), { maxItems: 500 });
    expect(huge.blocks.length).toBeLessThanOrEqual(50);
    for (const text of slackBlockTexts(huge.blocks)) expect(text.length).toBeLessThanOrEqual(3000);
    expect(JSON.stringify(huge)).toContain('more in the e-mail digest');
  });

  it('summarises the counts in the fallback text', () => {
    expect(message.text).toBe('gem-watch digest (24 h): 5 finished, 1 failed, 1 cancelled, 3 running, 2 queued');
  });
});

describe('digest subject', () => {
  it('is one line naming the day and the counts, with no API text', () => {
    expect(digestSubject(sample())).toBe('[gem-watch] Digest 2026-01-21: 5 finished, 1 failed, 1 cancelled, 3 running, 2 queued');
    expect(digestSubject(sample())).not.toContain(HOSTILE_FILE_NAME);
  });

  it('follows the digest time zone for the day', () => {
    const model = buildDigest({ ...sampleDigestInput(END, 'Pacific/Auckland') }, NOW);
    expect(digestSubject(model)).toContain('Digest 2026-01-21');
    const tokyo = buildDigest({ ...sampleDigestInput(Date.parse('2026-01-20T23:00:00Z'), 'Asia/Tokyo') }, NOW);
    expect(digestSubject(tokyo)).toContain('Digest 2026-01-21');
  });
});
