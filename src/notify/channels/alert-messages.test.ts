import fc from 'fast-check';
import nodemailer from 'nodemailer';
import { describe, expect, it } from 'vitest';
import { summarizeGroup } from '../../domain/batch.js';
import type { JobAlert } from '../../domain/overdue.js';
import { qualityShortfalls } from '../../domain/quality.js';
import type { Transition } from '../../domain/transition.js';
import { renderEmailGroup } from './email/group-message.js';
import { renderSlackGroup } from './slack/group-message.js';
import { renderEmailJobAlert } from './email/job-alert-message.js';
import { renderSlackJobAlert } from './slack/job-alert-message.js';
import { slackMessageProblems } from './slack/slack-message.js';
import { renderEmailWarning } from './email/warning-message.js';
import { renderSlackWarning } from './slack/warning-message.js';

const NOW = Date.parse('2026-01-20T10:25:00Z');
const HOSTILE = '<!channel> <https://evil.example|click> <script>x</script> & \u0007';

function transition(id: string, to: Transition['to'], overrides: Partial<Transition['job']> = {}): Transition {
  return {
    jobId: id,
    jobType: 'ROAD_MATCHING',
    from: 'running',
    to,
    version: 2,
    detectedAt: NOW,
    job: { id, jobType: 'ROAD_MATCHING', status: to, rawStatus: to, inputFile: `roads_${id}.parquet`, ...overrides },
  };
}

function jobAlert(overrides: Partial<JobAlert> = {}): JobAlert {
  return {
    kind: 'stalled',
    jobId: '42',
    jobType: 'ROAD_MATCHING',
    version: 2,
    job: { id: '42', jobType: 'ROAD_MATCHING', status: 'running', rawStatus: 'running', progress: 37, inputFile: 'roads_42.parquet' },
    since: NOW - 75 * 60_000,
    allowedMs: 3_600_000,
    progress: 37,
    detectedAt: NOW,
    ...overrides,
  };
}

describe('quality warning', () => {
  const below = transition('7', 'finished', { statistics: { roadsMatchedPct: 72.5, roadsFullyMatchedPct: 50 } });
  const shortfalls = qualityShortfalls(below.job.statistics, { roadsMatchedPct: 80 });

  it('renders the finished job as a warning naming the threshold, in Slack and email', () => {
    const slack = renderSlackWarning(below, shortfalls);
    expect(slackMessageProblems(slack)).toEqual([]);
    expect(JSON.stringify(slack.blocks[0])).toContain(':warning:');
    expect(JSON.stringify(slack.blocks[1])).toContain('roads matched 72.5% is below the threshold of 80%');
    expect(slack.text).toContain('below the threshold of 80%');
    const email = renderEmailWarning(below, shortfalls);
    expect(email.subject).toBe('[gem-watch] WARNING ROAD_MATCHING job 7 finished: 72.5% matched: below threshold');
    expect(email.text.split('\n')[1]).toBe('WARNING: Below threshold: roads matched 72.5% is below the threshold of 80%.');
    expect(email.html).toContain('roads matched 72.5% is below the threshold of 80%');
  });
});

describe('job alert', () => {
  it('says what is wrong, since when and what the limit is', () => {
    const slack = renderSlackJobAlert(jobAlert());
    expect(slackMessageProblems(slack)).toEqual([]);
    expect(slack.text).toContain('ROAD_MATCHING job 42: progress has not moved for 1 h 15 min');
    expect(slack.text).toContain('Progress has stayed at 37% since 2026-01-20 09:10 UTC; the limit is 1 h 0 min');
    const email = renderEmailJobAlert(jobAlert({ kind: 'queued-too-long', allowedMs: 7_200_000, since: NOW - 3 * 3_600_000 }));
    expect(email.subject).toBe('[gem-watch] ROAD_MATCHING job 42 has been queued for 3 h 0 min');
    expect(email.text).toContain('the limit is 2 h 0 min (alerts.queuedMaxMinutes)');
  });

  it('keeps hostile API text inert', () => {
    const alert = jobAlert({ jobId: HOSTILE, job: { ...jobAlert().job, id: HOSTILE, inputFile: HOSTILE } });
    const slack = renderSlackJobAlert(alert);
    expect(slackMessageProblems(slack)).toEqual([]);
    expect(JSON.stringify(slack)).not.toContain('<!channel>');
    expect(renderEmailJobAlert(alert).html).not.toContain('<script>');
  });
});

describe('group message', () => {
  const members = [
    ...Array.from({ length: 36 }, (_, i) => transition(String(100 + i), 'finished', { statistics: { roadsMatchedPct: 90 + (i % 10) / 10 } })),
    transition('200', 'failed', { message: 'Input validation failed: column "geometry" is missing' }),
    transition('201', 'finished', { statistics: { roadsMatchedPct: 61.2 } }),
    transition('202', 'cancelled'),
  ].map((t) => ({ transition: t }));
  const summary = summarizeGroup(members, { thresholds: { roadsMatchedPct: 80 } });

  it('gives counts, the worst few and a table of 39 jobs within Block Kit limits', () => {
    const slack = renderSlackGroup(summary, { kind: 'burst', route: 'default' });
    expect(slackMessageProblems(slack)).toEqual([]);
    const all = JSON.stringify(slack.blocks);
    expect(slack.blocks[0]).toMatchObject({ type: 'header' });
    expect(all).toContain('39 job updates for route default');
    expect(all).toContain('*finished*\\n37');
    expect(all).toContain('*below threshold*\\n1');
    expect(all).toContain('ROAD_MATCHING job 200 failed: Input validation failed');
    expect(all).toContain('roads matched 61.2% is below the threshold of 80%');
    const email = renderEmailGroup(summary, { kind: 'burst', route: 'default' });
    expect(email.subject).toBe('[gem-watch] 39 job updates for route default: 37 finished, 1 cancelled, 1 failed, 1 below threshold');
    for (const member of members) expect(email.html).toContain(`<td style="padding:3px 10px 3px 0;vertical-align:top;">${member.transition.jobId}</td>`);
    expect(email.text).toContain('Needs a look:');
  });

  it('says a held summary was held while muted, and why', () => {
    const slack = renderSlackGroup(summary, { kind: 'held', route: 'data', reasons: ['quiet hours 19:00–08:00 Europe/Amsterdam'] });
    expect(slackMessageProblems(slack)).toEqual([]);
    expect(JSON.stringify(slack.blocks)).toContain('Held while muted: 39 job updates for route data');
    expect(JSON.stringify(slack.blocks)).toContain('Held while the route was muted (quiet hours 19:00–08:00 Europe/Amsterdam)');
  });

  it('stays within every limit for any number of members with hostile names (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.string({ maxLength: 300 }), fc.constantFrom<Transition['to']>('finished', 'failed', 'cancelled'), fc.string({ maxLength: 3000 })), { maxLength: 120 }), (raw) => {
        const group = summarizeGroup(
          raw.map(([id, to, text]) => ({ transition: transition(`${id}${HOSTILE}`, to, { inputFile: text, message: text, statistics: { roadsMatchedPct: 50 } }) })),
          { thresholds: { roadsMatchedPct: 80 } },
        );
        const slack = renderSlackGroup(group, { kind: 'burst', route: 'r', reasons: [HOSTILE] });
        expect(slackMessageProblems(slack)).toEqual([]);
        expect(JSON.stringify(slack)).not.toContain('<!channel>');
        const email = renderEmailGroup(group, { kind: 'held', route: 'r', reasons: [HOSTILE] });
        expect(email.html).not.toContain('<script>');
        expect(email.subject).not.toMatch(/[\r\n]/);
      }),
      { numRuns: 60 },
    );
  });
});

describe('group email size', () => {
  it("stays under Gmail's ~102 KB clipping for a 300-job group with long names and messages, and counts the rest", async () => {
    const members = Array.from({ length: 300 }, (_, i) => ({
      transition: transition(`job-${String(i).padStart(6, '0')}`, i % 2 === 0 ? 'failed' : 'finished', {
        inputFile: `${'very_long_region_name_'.repeat(9)}${i}.parquet`,
        message: `Input validation failed: ${'column "geometry" is missing; '.repeat(30)}`,
      }),
    }));
    const email = renderEmailGroup(summarizeGroup(members), { kind: 'burst', route: 'default' });
    // The message as nodemailer sends it, both parts encoded: what Gmail measures.
    const transport = nodemailer.createTransport({ streamTransport: true, buffer: true });
    const info = await transport.sendMail({ from: 'a@example.com', to: 'b@example.com', ...email });
    const bytes = (info.message as Buffer).length;
    expect(bytes).toBeLessThan(100_000);
    const listed = (email.html.match(/<tr>/g) ?? []).length - 1;
    expect(listed).toBeGreaterThan(20);
    expect(email.html).toContain(`… and ${300 - listed} more, not listed here`);
    expect(email.text).toContain(`… and ${300 - listed} more, not listed here`);
    expect(email.html).not.toMatch(/<a\s|https?:/i);
  });
});

