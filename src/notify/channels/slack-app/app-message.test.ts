import { describe, expect, it } from 'vitest';
import type { JobAlert } from '../../../domain/overdue.js';
import type { Transition } from '../../../domain/transition.js';
import { sampleTransition } from '../../sample-data.js';
import { slackMessageProblems } from '../slack/slack-message.js';
import { progressBar } from './app-message.js';
import { renderSlackApp } from './render.js';

const NOW = Date.UTC(2026, 0, 20, 10, 25);
const HUGE = `<!channel> *bold* <https://evil.example|x> <script>\u0007\u001b[31m ${'y'.repeat(1_000_000)}`;

function hostile(status: 'finished' | 'failed'): Transition {
  const base = sampleTransition(status, NOW, '<!here>');
  return { ...base, job: { ...base.job, inputFile: HUGE, message: HUGE, overtureRelease: '<@U0EVIL>', storageId: HUGE } };
}

function everyText(value: unknown): string {
  return JSON.stringify(value);
}

describe('Slack app mode messages', () => {
  it('renders a transition as the job\'s card, and an end also as a thread reply with a stable id', () => {
    const running: Transition = { ...sampleTransition('finished', NOW, '42'), to: 'running', version: 2, job: { ...sampleTransition('finished', NOW, '42').job, status: 'running', progress: 25 } };
    const card = renderSlackApp({ transition: running }, { timeZone: 'UTC' });
    expect(card.job).toMatchObject({ jobId: '42', version: 2, updatesMain: true });
    expect(card.reply).toBeUndefined();
    expect(everyText(card.main.blocks)).toContain('▓▓▓▓▓░░░░░░░░░░░░░░░ 25%');

    const end = renderSlackApp({ transition: sampleTransition('failed', NOW, '42') }, { timeZone: 'UTC' });
    expect(end.reply).toMatchObject({ id: 'end-v3', end: 'failed' });
  });

  it('renders a job alert as a reply whose card never replaces the message', () => {
    const base = sampleTransition('finished', NOW, '7');
    const alert: JobAlert = { kind: 'stalled', jobId: '7', jobType: 'ROAD_MATCHING', version: 2, job: { ...base.job, status: 'running', progress: 40 }, since: NOW - 7_200_000, allowedMs: 3_600_000, progress: 40, detectedAt: NOW };
    const message = renderSlackApp({ jobAlert: alert }, { timeZone: 'UTC' });
    expect(message.job).toMatchObject({ updatesMain: false });
    expect(message.reply?.id).toBe('alert-v2-stalled');
  });

  it('keeps hostile fields inert and every message within Block Kit\'s limits', () => {
    for (const status of ['finished', 'failed'] as const) {
      const message = renderSlackApp({ transition: hostile(status) }, { timeZone: 'UTC' });
      expect(slackMessageProblems(message.main)).toEqual([]);
      const reply = message.reply!;
      expect(reply.text.length).toBeLessThanOrEqual(3_000);
      for (const block of reply.blocks) expect(everyText(block).length).toBeLessThan(3_200);
      // What is sent (not the job id the notifier keys the message by).
      const text = everyText([message.main, message.reply]);
      expect(text).not.toMatch(/<!channel>|<!here>|<@U0EVIL>|<https:|<script>/);
      expect(text).not.toMatch(/\\u00(07|1b)/i);
      expect(text.length).toBeLessThan(40_000);
    }
  });

  it('draws a progress bar clamped to 0–100', () => {
    expect(progressBar(0, 10)).toBe('░░░░░░░░░░ 0%');
    expect(progressBar(55.55, 10)).toBe('▓▓▓▓▓▓░░░░ 55.6%');
    expect(progressBar(140, 10)).toBe('▓▓▓▓▓▓▓▓▓▓ 100%');
  });
});
