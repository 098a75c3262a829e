import { DEFAULT_WEBHOOK } from '../../../domain/routing.js';

/** What the Slack channel reads of the configuration, and nothing else. */
export interface SlackSettings {
  /**
   * Webhook URLs by name: `slack.webhooks`, with `default` taken by SLACK_WEBHOOK_URL when it is
   * set. Names come from task data, so this is a Map (a name like `constructor` finds nothing).
   */
  webhooks: ReadonlyMap<string, string>;
  /** Total deadline of one post, in ms (`slack.timeoutMs`, default 10,000). */
  timeoutMs: number;
  /** Messages a second per webhook across replicas (`notify.slackPerSecond`, default 1). */
  perWebhookPerSecond: number;
}

/** What the Slack channel's settings are read from; nested as the configuration's keys, so it is one. */
export interface SlackConfig {
  slack: {
    /** SLACK_WEBHOOK_URL, the `default` webhook; '' = none. */
    webhookUrl: string;
    /** More webhooks by name, for routes. */
    webhooks: Readonly<Record<string, string>>;
    /** Deadline of one post, in ms. */
    timeoutMs: number;
  };
  /** Messages a second per webhook across replicas. */
  notify: { slackPerSecond: number };
}

/** The Slack channel's settings from the configuration; undefined when no webhook is configured (Slack off). */
export function slackSettings(config: SlackConfig): SlackSettings | undefined {
  const { slack } = config;
  if (!slack.webhookUrl && Object.keys(slack.webhooks).length === 0) return undefined;
  const webhooks = new Map<string, string>();
  // `default` first: test-notify and check walk the endpoints in this order.
  const defaultUrl = slack.webhookUrl || slack.webhooks[DEFAULT_WEBHOOK];
  if (defaultUrl) webhooks.set(DEFAULT_WEBHOOK, defaultUrl);
  for (const [name, url] of Object.entries(slack.webhooks)) if (name !== DEFAULT_WEBHOOK && url) webhooks.set(name, url);
  return { webhooks, timeoutMs: slack.timeoutMs, perWebhookPerSecond: config.notify.slackPerSecond };
}
