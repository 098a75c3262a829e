import type { Logger } from '../telemetry/logger.js';
import { emailChannel } from './channels/email/email-notifier.js';
import type { EmailConfig } from './channels/email/settings.js';
import type { ChannelContext, ChannelFactory, Notifier } from './notifier.js';
import { slackChannel } from './channels/slack/slack-notifier.js';
import type { SlackConfig } from './channels/slack/settings.js';
import { teamsChannel } from './channels/teams/teams-notifier.js';
import type { TeamsConfig } from './channels/teams/settings.js';
import { webhookChannel } from './channels/webhook/webhook-notifier.js';
import type { WebhookConfig } from './channels/webhook/settings.js';
import { slackAppChannel } from './channels/slack-app/slack-app-notifier.js';
import type { SlackAppConfig } from './channels/slack-app/settings.js';

/**
 * What the channels' settings functions read of the configuration, all of them together; the
 * parsed configuration is one. A channel added to CHANNELS adds its own here (the compiler asks
 * for it: CHANNELS takes no factory whose settings read a key missing here).
 */
export type ChannelsConfig = SlackConfig & EmailConfig & TeamsConfig & WebhookConfig & SlackAppConfig;

/**
 * Every channel gem-watch knows, one line each, in the order test-notify walks them. A channel is
 * a folder under channels/ (settings, client, classifier, renderers) whose `ChannelFactory` is
 * listed here; docs/architecture.md, "Adding a channel", names every file a new one adds.
 */
export const CHANNELS: readonly ChannelFactory<unknown, ChannelsConfig>[] = [
  slackChannel,
  emailChannel,
  teamsChannel,
  webhookChannel,
  slackAppChannel,
];

/** The notifiers of the configured channels, by name. */
export class NotifierRegistry {
  private readonly byName: Map<string, Notifier>;

  constructor(notifiers: Iterable<Notifier>) {
    this.byName = new Map([...notifiers].map((notifier) => [notifier.name, notifier]));
  }

  /** The notifier of a channel, or undefined when it is not configured. */
  get(name: string): Notifier | undefined {
    return this.byName.get(name);
  }

  /** Configured channels, in registry order. */
  list(): Notifier[] {
    return [...this.byName.values()];
  }

  /** Closes every channel (the SMTP pool); errors are ignored, this runs at shutdown. */
  async close(): Promise<void> {
    await Promise.allSettled(this.list().map((notifier) => notifier.close()));
  }
}

export interface CreateNotifiersOptions {
  /** fetch for HTTP channels (tests pass one that records); default: each channel's own undici client. */
  fetch?: typeof globalThis.fetch;
  /** Channel list; default CHANNELS. Tests and extensions may add their own. */
  channels?: readonly ChannelFactory<unknown, ChannelsConfig>[];
}

/** Builds a notifier for every channel the configuration turns on. Nothing connects yet. */
export function createNotifiers(config: ChannelsConfig, logger: Logger, options: CreateNotifiersOptions = {}): NotifierRegistry {
  const context: ChannelContext = { logger, ...(options.fetch ? { fetch: options.fetch } : {}) };
  const notifiers: Notifier[] = [];
  for (const channel of options.channels ?? CHANNELS) {
    const settings = channel.settings(config);
    if (settings !== undefined) notifiers.push(channel.create(settings, context));
  }
  logger.debug({ channels: notifiers.map((notifier) => notifier.name) }, 'notification channels configured');
  return new NotifierRegistry(notifiers);
}
