import { describe, expect, it } from 'vitest';
import { digestEnabled, digestSettings, type DigestConfig } from './digest-config.js';

function config(over: { digest?: Partial<DigestConfig['digest']>; email?: Partial<DigestConfig['email']> } = {}): DigestConfig {
  return {
    digest: { cron: '0 8 * * *', timezone: 'Europe/Amsterdam', sendEmpty: false, to: [], slackWebhook: '', ...over.digest },
    email: { smtpUrl: 'smtp://127.0.0.1:2525', to: ['team@example.com'], ...over.email },
    alerts: { stalledMinutes: 45 },
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
