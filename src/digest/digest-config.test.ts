import { describe, expect, it } from 'vitest';
import type { Config } from '../config/schema.js';
import { digestEnabled, digestSettings } from './digest-config.js';

type Part = Pick<Config, 'digest' | 'email' | 'alerts'>;

function config(over: { digest?: Partial<Part['digest']>; email?: Partial<Part['email']> } = {}): Part {
  return {
    digest: { cron: '0 8 * * *', timezone: 'Europe/Amsterdam', sendEmpty: false, to: [], slackWebhook: '', ...over.digest },
    email: { smtpUrl: 'smtp://127.0.0.1:2525', from: 'gem-watch@example.com', to: ['team@example.com'], onTransition: true, connectionTimeoutMs: 10_000, socketTimeoutMs: 30_000, ...over.email },
    alerts: { queuedMaxMinutes: 120, overdueFactor: 1.5, roadsPerHour: 100_000, stalledMinutes: 45, burstWindowSec: 30, pollFailureMinutes: 15 },
  };
}

describe('digestSettings', () => {
  it('mails email.to when digest.to is empty, and digest.to when set', () => {
    expect(digestSettings(config()).to).toEqual(['team@example.com']);
    expect(digestSettings(config({ digest: { to: ['boss@example.com'] } })).to).toEqual(['boss@example.com']);
  });

  it('mails nobody when e-mail is off, and is disabled without Slack either', () => {
    const off = config({ email: { smtpUrl: '' } });
    expect(digestSettings(off).to).toEqual([]);
    expect(digestEnabled(off)).toBe(false);
    expect(digestEnabled(config({ email: { smtpUrl: '' }, digest: { slackWebhook: 'default' } }))).toBe(true);
  });

  it('carries the schedule, the zone and the stall threshold in ms', () => {
    expect(digestSettings(config())).toMatchObject({ cron: '0 8 * * *', timeZone: 'Europe/Amsterdam', sendEmpty: false, slack: false, stalledAfterMs: 45 * 60_000 });
  });
});
