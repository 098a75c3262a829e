import type { Config } from '../config/schema.js';

/**
 * Reads the digest's settings from the configuration, in one place for the daemon and the CLI.
 */

export interface DigestSettings {
  /** node-cron expression (digest.cron, DIGEST_CRON). */
  cron: string;
  /** IANA time zone (digest.timezone, DIGEST_TIMEZONE). */
  timeZone: string;
  /** digest.to, else email.to; empty when e-mail is off (no email.smtpUrl). */
  to: string[];
  /** A Slack summary goes to the webhook named by digest.slackWebhook. */
  slack: boolean;
  /** The webhook name for the Slack summary (`default` = slack.webhookUrl); empty = none. */
  slackWebhook: string;
  sendEmpty: boolean;
  /** Endpoint names of the Teams summary card (`digest.teamsWebhook`) and the `digest` event (`digest.webhook`); absent = none. */
  models: { teams?: string; webhook?: string };
  /** alerts.stalledMinutes in ms: running jobs without progress this long are shown as stalled. */
  stalledAfterMs: number;
}

export function digestSettings(config: Pick<Config, 'digest' | 'email' | 'alerts'>): DigestSettings {
  const to = config.email.smtpUrl ? (config.digest.to.length > 0 ? config.digest.to : config.email.to) : [];
  return {
    cron: config.digest.cron,
    timeZone: config.digest.timezone,
    to: [...to],
    slack: config.digest.slackWebhook !== '',
    slackWebhook: config.digest.slackWebhook,
    sendEmpty: config.digest.sendEmpty,
    models: {
      ...(config.digest.teamsWebhook ? { teams: config.digest.teamsWebhook } : {}),
      ...(config.digest.webhook ? { webhook: config.digest.webhook } : {}),
    },
    stalledAfterMs: Math.round(config.alerts.stalledMinutes * 60_000),
  };
}

/** True when the digest has somewhere to go; the daemon starts its scheduler only then. */
export function digestEnabled(config: Pick<Config, 'digest' | 'email' | 'alerts'>): boolean {
  const settings = digestSettings(config);
  return settings.to.length > 0 || settings.slack || Object.keys(settings.models).length > 0;
}
