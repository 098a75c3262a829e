import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Transition } from '../../../domain/transition.js';
import { sampleTransition } from '../../sample-data.js';
import { renderEmailAlert, renderEmailTransition } from './email-message.js';

const NOW = Date.UTC(2026, 0, 20, 10, 25);
const HOSTILE = '<!channel> <https://evil.example|click> <script>x</script>';

function withJob(patch: Partial<Transition['job']>, status: 'finished' | 'failed' = 'finished'): Transition {
  const transition = sampleTransition(status, NOW);
  return { ...transition, job: { ...transition.job, ...patch } };
}

/** The HTML without the markup the template writes itself: what is left must carry no tag from data. */
function tagsIn(html: string): string[] {
  return [...html.matchAll(/<\/?([a-zA-Z0-9!]+)/g)].map((match) => match[1]!.toLowerCase());
}

const TEMPLATE_TAGS = new Set(['!doctype', 'html', 'head', 'meta', 'title', 'body', 'h2', 'h3', 'table', 'tr', 'th', 'td', 'p', 'pre']);

describe('renderEmailTransition', () => {
  it('has the subject the issue asks for and every statistic in both parts', () => {
    const mail = renderEmailTransition(sampleTransition('finished', NOW));
    expect(mail.subject).toBe('[gem-watch] ROAD_MATCHING job sample-1 finished: 84.68% matched');
    for (const part of [mail.text, mail.html]) {
      for (const expected of ['sample_roads.parquet', 'sample_roads_matched.parquet', '84.68%', '80.12%', '4.56%', '15.32%', '12,345.6 km', '271,828', '2 h 42 min']) {
        expect(part).toContain(expected);
      }
    }
    expect(mail.html).toContain('<table');
    expect(mail.html).toMatch(/style="/);
    expect(mail.html).not.toMatch(/<style|<link|<script/i);
  });

  it('names a failure in the subject and shows the API detail', () => {
    const mail = renderEmailTransition(sampleTransition('failed', NOW));
    expect(mail.subject).toBe('[gem-watch] ROAD_MATCHING job sample-1 failed');
    expect(mail.text).toContain('Failure detail:\nInput check failed: column "geometry" is missing');
    expect(mail.html).toContain('Input check failed: column &quot;geometry&quot; is missing');
  });

  it('makes a hostile file name inert: escaped HTML, no tag from data', () => {
    const mail = renderEmailTransition(withJob({ inputFile: HOSTILE, message: HOSTILE, id: HOSTILE }, 'failed'));
    expect(mail.html).toContain('&lt;script&gt;x&lt;/script&gt;');
    expect(mail.html).toContain('&lt;https://evil.example|click&gt;');
    expect(tagsIn(mail.html).filter((tag) => !TEMPLATE_TAGS.has(tag))).toEqual([]);
    expect(mail.subject).not.toMatch(/[\r\n]/);
  });

  it('never lets API text add a header line to the subject', () => {
    const mail = renderEmailTransition(withJob({ id: '1\r\nBcc: victim@example.com\r\n\r\nbody', jobType: 'A\u0000B\u2028C' }));
    // eslint-disable-next-line no-control-regex
    expect(mail.subject).not.toMatch(/[\r\n\u0000-\u001f\u2028\u2029]/);
    expect(mail.subject).toContain('Bcc: victim@example.com');
  });

  it('is well-formed for any text, with a bounded size and one-line subject', () => {
    fc.assert(
      fc.property(
        fc.record({
          id: fc.string({ maxLength: 500 }),
          inputFile: fc.string({ unit: 'binary', maxLength: 6_000 }),
          message: fc.option(fc.string({ unit: 'binary', maxLength: 20_000 }), { nil: undefined }),
        }),
        (patch) => {
          const mail = renderEmailTransition(withJob(patch, 'failed'));
          expect(mail.subject).not.toMatch(/[\r\n]/);
          expect(mail.subject.length).toBeLessThanOrEqual(200);
          expect(tagsIn(mail.html).filter((tag) => !TEMPLATE_TAGS.has(tag))).toEqual([]);
          expect(mail.html.length).toBeLessThan(80_000);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('cuts a 5,000-character file name in the HTML with an ellipsis', () => {
    const mail = renderEmailTransition(withJob({ inputFile: 'f'.repeat(5_000) }));
    expect(mail.html).toContain(`${'f'.repeat(1_999)}…`);
    expect(mail.html).not.toContain('f'.repeat(2_001));
  });
});

describe('renderEmailAlert', () => {
  it('renders an alert and its recovery', () => {
    const down = renderEmailAlert({ kind: 'auth', state: 'down', title: 'credentials rejected', detail: `401 from GEM ${HOSTILE}`, since: NOW });
    const up = renderEmailAlert({ kind: 'auth', state: 'up', title: 'credentials rejected', detail: 'accepted again', since: NOW });
    expect(down.subject).toBe('[gem-watch] ALERT: credentials rejected');
    expect(up.subject).toBe('[gem-watch] RESOLVED: credentials rejected');
    expect(tagsIn(down.html).filter((tag) => !TEMPLATE_TAGS.has(tag))).toEqual([]);
    expect(down.text).toContain('auth down since 2026-01-20 10:25 UTC');
  });
});
