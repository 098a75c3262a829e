import { DEFAULT_WEBHOOK } from '../../../domain/routing.js';

/** What the Teams channel reads of the configuration, and nothing else. */
export interface TeamsSettings {
  /**
   * Workflows webhook URLs by name: `teams.webhooks`, with `default` taken by TEAMS_WEBHOOK_URL
   * when it is set. Names come from task data, so this is a Map (`constructor` finds nothing).
   */
  webhooks: ReadonlyMap<string, string>;
  /** Total deadline of one post, in ms (`teams.timeoutMs`, default 10,000). */
  timeoutMs: number;
}

/** What the Teams channel's settings are read from; nested as the configuration's keys, so it is one. */
export interface TeamsConfig {
  teams: {
    /** TEAMS_WEBHOOK_URL, the `default` Workflows webhook; '' = none. */
    webhookUrl: string;
    /** More Workflows webhooks by name, for routes. */
    webhooks: Readonly<Record<string, string>>;
    /** Deadline of one post, in ms. */
    timeoutMs: number;
  };
}

/** The Teams channel's settings; undefined when no Workflows webhook is configured (Teams off). */
export function teamsSettings(config: TeamsConfig): TeamsSettings | undefined {
  const { teams } = config;
  if (!teams.webhookUrl && Object.keys(teams.webhooks).length === 0) return undefined;
  const webhooks = new Map<string, string>();
  // `default` first: test-notify and check walk the endpoints in this order.
  const defaultUrl = teams.webhookUrl || teams.webhooks[DEFAULT_WEBHOOK];
  if (defaultUrl) webhooks.set(DEFAULT_WEBHOOK, defaultUrl);
  for (const [name, url] of Object.entries(teams.webhooks)) if (name !== DEFAULT_WEBHOOK && url) webhooks.set(name, url);
  return { webhooks, timeoutMs: teams.timeoutMs };
}
