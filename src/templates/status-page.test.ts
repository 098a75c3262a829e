import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { relative, renderStatusPage, type StatusPageModel } from './status-page.js';

const NOW = Date.parse('2026-01-21T10:00:00Z');

const PAGE_TAGS = new Set(['body', 'html', 'header', 'h1', 'h2', 'span', 'nav', 'a', 'main', 'section', 'p', 'ul', 'li', 'b', 'table', 'thead', 'tbody', 'tr', 'th', 'td', 'div', 'button']);

function model(overrides: Partial<StatusPageModel> = {}): StatusPageModel {
  return {
    now: NOW,
    timeZone: 'UTC',
    ready: true,
    checks: [{ name: 'redis', ok: true, detail: 'PING answered' }],
    queues: [{ name: 'gem-notify', waiting: 1, active: 0, delayed: 2, failed: 0 }],
    jobs: [],
    notificationSource: 'queue',
    notifications: [],
    errors: [],
    ...overrides,
  };
}

describe('status page renderer', () => {
  it('lists active jobs before ended ones and caps the ended ones', () => {
    const jobs = [
      { id: 'old', jobType: 'ROAD_MATCHING', status: 'finished', lastChangeAt: NOW - 3_600_000 },
      { id: 'new', jobType: 'ROAD_MATCHING', status: 'failed', lastChangeAt: NOW - 60_000, message: 'boom' },
      { id: 'run', jobType: 'ROAD_MATCHING', status: 'running', progress: 42, eta: NOW + 600_000, lastChangeAt: NOW - 7_200_000 },
    ];
    const html = renderStatusPage(model({ jobs, maxEnded: 1 }));
    expect(html.indexOf('>run<')).toBeLessThan(html.indexOf('>new<'));
    expect(html).not.toContain('>old<');
    expect(html).toContain('1 active, 2 ended (the 1 oldest not shown)');
    expect(html).toContain('42%');
    expect(html).toContain('2026-01-21 10:10 UTC');
    expect(html).toContain('(in 10 min)');
    expect(html).toContain('boom');
    // Given only the most recent ended jobs, with the count of all of them.
    expect(renderStatusPage(model({ jobs, maxEnded: 1, endedTotal: 250 }))).toContain('1 active, 250 ended (the 249 oldest not shown)');
  });

  it('never lets a string from the API or a delivery become markup', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), fc.string({ maxLength: 100 }), (name, detail) => {
        const html = renderStatusPage(
          model({
            jobs: [{ id: name, jobType: name, status: 'unknown', rawStatus: name, inputFile: `<script>${name}</script>`, lastChangeAt: NOW, message: name }],
            notifications: [{ channel: name, route: name, target: name, subject: name, outcome: name, detail, at: NOW }],
            checks: [{ name: 'poll', ok: false, detail }],
            errors: [name],
          }),
        );
        const body = html.slice(html.indexOf('<body'));
        // Only the page's own elements: any other tag, or a fourth link, came from the data.
        const tags = new Set([...body.matchAll(/<\/?([a-zA-Z][a-zA-Z0-9]*)/g)].map((match) => match[1]!.toLowerCase()));
        expect([...tags].filter((tag) => !PAGE_TAGS.has(tag))).toEqual([]);
        expect(body.match(/<a /g)).toHaveLength(3);
        expect(body).toContain('&lt;script&gt;');
      }),
      { numRuns: 200 },
    );
  });

  it('names a route once when its target has the same name, and shows a different target', () => {
    const row = { channel: 'slack', subject: 'job 1 finished', outcome: 'delivered', at: NOW };
    const same = renderStatusPage(model({ notifications: [{ ...row, route: 'default', target: 'default' }] }));
    expect(same.slice(same.indexOf('id="notifications"')).match(/default/g)).toHaveLength(1);
    const other = renderStatusPage(model({ notifications: [{ ...row, route: 'lanes', target: 'data-team' }] }));
    expect(other).toContain('lanes <span class="muted">→ data-team</span>');
  });

  it('says where the notifications come from', () => {
    expect(renderStatusPage(model())).toContain('From the notify queue');
    expect(renderStatusPage(model({ notificationSource: 'log' }))).toContain('From the notification log');
  });

  it('tells relative times both ways', () => {
    expect(relative(NOW - 30_000, NOW)).toBe('30 s ago');
    expect(relative(NOW + 5 * 60_000, NOW)).toBe('in 5 min');
    expect(relative(NOW - 3 * 86_400_000, NOW)).toBe('3 d ago');
  });
});
