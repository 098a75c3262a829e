import { IncomingWebhook, type FetchFunction } from '@slack/webhook';
import { Agent } from 'undici';
import { DEFAULT_ROUTE } from '../../../domain/routing.js';
import type { Logger } from '../../../telemetry/logger.js';
import { registerSecretUrl } from '../../../telemetry/redact.js';
import { renderSlack } from './render.js';
import type { SlackMessage } from './slack-message.js';
import { UnknownDestinationError } from '../../errors.js';
import type { ChannelContext, ChannelFactory, Delivery, DeliveryReceipt, NotificationContent, Notifier, RenderOptions } from '../../notifier.js';
import { classifySlackFailure, type CapturedResponse } from './classify.js';
import { slackSettings, type SlackConfig, type SlackSettings } from './settings.js';
import { fetchPost, undiciPost, type Post } from './webhook-client.js';

export interface SlackNotifierOptions {
  settings: SlackSettings;
  logger: Logger;
  /**
   * fetch to post with; tests pass one that records. Default: a fetch-shaped post over undici's
   * request() on a keep-alive connection pool of this notifier's (see `undiciPost` in webhook-client.ts).
   */
  fetch?: typeof globalThis.fetch;
}

/**
 * Slack through @slack/webhook's IncomingWebhook. The library's own retries stay off (the queue
 * retries), and so does its timeout (an AbortSignal.timeout per post): the post enforces
 * `slack.timeoutMs` itself, together with the delivery's abort signal. Its fetch is wrapped so the
 * status and Retry-After of a 429 are seen, since v8 fails a 429 at once and keeps its headers to
 * itself. `link_names` is never set.
 */
export class SlackNotifier implements Notifier<SlackMessage> {
  readonly name = 'slack';
  readonly perTargetPerSecond: number;
  private readonly settings: SlackSettings;
  private readonly logger: Logger;
  private readonly post: Post;
  /** Owned keep-alive pool of the default post; none with an injected fetch. */
  private readonly dispatcher: Agent | undefined;

  constructor(options: SlackNotifierOptions) {
    this.settings = options.settings;
    this.logger = options.logger.child({ channel: 'slack' });
    if (options.fetch) {
      this.post = fetchPost(options.fetch);
    } else {
      // undici's own header and body timeouts are off: the post's deadline is the one timeout.
      this.dispatcher = new Agent({ headersTimeout: 0, bodyTimeout: 0 });
      this.post = undiciPost(this.dispatcher);
    }
    this.perTargetPerSecond = this.settings.perWebhookPerSecond;
    // The entry points register them after loading the config too; a notifier built from a hand-made config must not leak either.
    for (const url of this.settings.webhooks.values()) registerSecretUrl(url, true);
  }

  endpoints(): Array<{ route: string; target: string }> {
    return [...this.settings.webhooks.keys()].map((target) => ({ route: DEFAULT_ROUTE, target }));
  }

  render(content: NotificationContent, options: RenderOptions): SlackMessage {
    return renderSlack(content, options);
  }

  async send(message: SlackMessage, delivery: Delivery): Promise<DeliveryReceipt> {
    const url = this.settings.webhooks.get(delivery.target);
    if (!url) {
      throw new UnknownDestinationError(`Slack webhook "${delivery.target}" is not configured (slack.webhooks / SLACK_WEBHOOK_URL)`, this.name);
    }
    const captured: CapturedResponse = {};
    const { post } = this;
    const timeoutMs = this.settings.timeoutMs;
    const capturing: FetchFunction = async (input, init) => {
      const response = await post(input, init ?? {}, timeoutMs, delivery.signal);
      captured.status = response.status;
      captured.retryAfter = response.headers.get('retry-after');
      return response;
    };
    // A webhook object per send keeps `captured` private to this call under concurrency.
    const webhook = new IncomingWebhook(url, { fetch: capturing, timeout: 0, retryConfig: { retries: 0 } });
    try {
      const result = await webhook.send(message);
      const answer = result.text.trim();
      if (answer !== 'ok') this.logger.debug({ webhook: delivery.target, answer: answer.slice(0, 80) }, 'Slack accepted the post with an unusual answer');
      return { channel: this.name, target: delivery.target, detail: `${captured.status ?? 200} ${answer.slice(0, 40)}` };
    } catch (error) {
      throw classifySlackFailure(error, delivery.target, captured);
    }
  }

  /** Closes the keep-alive connections, once the posts under way are done. */
  async close(): Promise<void> {
    await this.dispatcher?.close();
  }
}

/** Registry entry: Slack is on when any webhook is configured. */
export const slackChannel: ChannelFactory<SlackSettings, SlackConfig> = {
  name: 'slack',
  settings: slackSettings,
  create(settings: SlackSettings, context: ChannelContext): Notifier<SlackMessage> {
    return new SlackNotifier({ settings, logger: context.logger, fetch: context.fetch });
  },
};
