import type { Destination } from '../domain/routing.js';

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
  /**
   * Where each period goes, one notify task each: e-mail to the digest's recipients (`to`, filled
   * in at send time), the Slack summary to its webhook (`digest.slackWebhook`), the Teams summary
   * card (`digest.teamsWebhook`) and the `digest` event (`digest.webhook`) to theirs. On the
   * default route: the operators'.
   */
  destinations: DigestDestination[];
  /** alerts.stalledMinutes in ms: running jobs without progress this long are shown as stalled. */
  stalledAfterMs: number;
}

/**
 * What the digest's settings are read from. The nesting follows the configuration's keys, so the
 * parsed configuration is one as it stands.
 */
export interface DigestConfig {
  digest: {
    /** node-cron expression of the digest (DIGEST_CRON). */
    cron: string;
    /** IANA time zone of the schedule and its dates (DIGEST_TIMEZONE). */
    timezone: string;
    /** Send a "nothing happened" digest for an empty period. */
    sendEmpty: boolean;
    /** Recipients; empty = `email.to`. */
    to: readonly string[];
    /** Slack webhook name of the summary; '' = none. */
    slackWebhook: string;
    /** Teams webhook name of the summary card; '' or unset = none. */
    teamsWebhook?: string | undefined;
    /** Signed webhook name of the `digest` event; '' or unset = none. */
    webhook?: string | undefined;
  };
  email: {
    /** '' = email off, and so no e-mailed digest. */
    smtpUrl: string;
    /** EMAIL_TO, the recipients when `digest.to` is empty. */
    to: readonly string[];
  };
  /** Running jobs without progress this long, in minutes, are shown as stalled. */
  alerts: { stalledMinutes: number };
}

export function digestSettings(config: DigestConfig): DigestSettings {
  const to = config.email.smtpUrl ? (config.digest.to.length > 0 ? config.digest.to : config.email.to) : [];
  const destinations: DigestDestination[] = [];
  if (to.length > 0) destinations.push({ route: 'default', channel: 'email', target: 'route' });
  if (config.digest.slackWebhook !== '') destinations.push({ route: 'default', channel: 'slack', target: config.digest.slackWebhook });
  if (config.digest.teamsWebhook) destinations.push({ route: 'default', channel: 'teams', target: config.digest.teamsWebhook });
  if (config.digest.webhook) destinations.push({ route: 'default', channel: 'webhook', target: config.digest.webhook });
  return {
    cron: config.digest.cron,
    timeZone: config.digest.timezone,
    to: [...to],
    slack: config.digest.slackWebhook !== '',
    slackWebhook: config.digest.slackWebhook,
    sendEmpty: config.digest.sendEmpty,
    destinations,
    stalledAfterMs: Math.round(config.alerts.stalledMinutes * 60_000),
  };
}

/** One channel a digest goes to. */
export type DigestDestination = Destination;

/** True when the digest has somewhere to go; the daemon starts its scheduler only then. */
export function digestEnabled(config: DigestConfig): boolean {
  const settings = digestSettings(config);
  return settings.destinations.length > 0;
}
