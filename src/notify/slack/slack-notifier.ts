import { IncomingWebhook, type FetchFunction } from '@slack/webhook';
import type { Config } from '../../config/schema.js';
import { DEFAULT_ROUTE, DEFAULT_WEBHOOK, webhookUrl } from '../../domain/routing.js';
import type { Logger } from '../../observability/logger.js';
import { registerSecretUrl } from '../../observability/redact.js';
import { renderSlackAlert, renderSlackTransition, type SlackMessage } from '../../templates/slack-message.js';
import { UnknownDestinationError } from '../errors.js';
import { timeZoneFor, type ChannelContext, type ChannelFactory, type Delivery, type DeliveryReceipt, type Notifier } from '../notifier.js';
import { classifySlackFailure, type CapturedResponse } from './classify.js';

export interface SlackNotifierOptions {
  config: Config;
  logger: Logger;
  /** Default: globalThis.fetch. */
  fetch?: typeof globalThis.fetch;
}

/**
 * Slack through @slack/webhook's IncomingWebhook. The library's own retries stay off (the queue
 * retries); its fetch is wrapped so the status and Retry-After of a 429 are seen, since v8 fails
 * a 429 at once and keeps its headers to itself. `link_names` is never set.
 */
export class SlackNotifier implements Notifier {
  readonly name = 'slack';
  readonly perTargetPerSecond: number;
  private readonly config: Config;
  private readonly logger: Logger;
  private readonly fetchImpl: typeof globalThis.fetch;

  constructor(options: SlackNotifierOptions) {
    this.config = options.config;
    this.logger = options.logger.child({ channel: 'slack' });
    this.fetchImpl = options.fetch ?? globalThis.fetch;
    this.perTargetPerSecond = this.config.notify.slackPerSecond;
    // loadConfig registers these too; a notifier built from a hand-made config must not leak either.
    registerSecretUrl(this.config.slack.webhookUrl, true);
    for (const url of Object.values(this.config.slack.webhooks)) registerSecretUrl(url, true);
  }

  endpoints(): Array<{ route: string; target: string }> {
    const names = Object.keys(this.config.slack.webhooks).filter((name) => name !== DEFAULT_WEBHOOK);
    if (this.config.slack.webhookUrl || this.config.slack.webhooks[DEFAULT_WEBHOOK]) names.unshift(DEFAULT_WEBHOOK);
    return names.map((target) => ({ route: DEFAULT_ROUTE, target }));
  }

  private render(delivery: Delivery): SlackMessage {
    const { content } = delivery;
    const timeZone = timeZoneFor(delivery.route, this.config);
    if ('transition' in content) return renderSlackTransition(content.transition, { timeZone });
    if ('alert' in content) return renderSlackAlert(content.alert, { timeZone });
    if (content.rendered.slack) return content.rendered.slack;
    throw new UnknownDestinationError('nothing rendered for Slack in this delivery', this.name);
  }

  async send(delivery: Delivery): Promise<DeliveryReceipt> {
    const url = webhookUrl(delivery.target, this.config);
    if (!url) {
      throw new UnknownDestinationError(`Slack webhook "${delivery.target}" is not configured (slack.webhooks / SLACK_WEBHOOK_URL)`, this.name);
    }
    const message = this.render(delivery);
    const captured: CapturedResponse = {};
    const fetchImpl = this.fetchImpl;
    const capturing: FetchFunction = async (input, init) => {
      const signals = [init?.signal, delivery.signal].filter((signal): signal is AbortSignal => signal !== undefined);
      const response = await fetchImpl(input, { ...init, signal: signals.length > 1 ? AbortSignal.any(signals) : signals[0] } as RequestInit);
      captured.status = response.status;
      captured.retryAfter = response.headers.get('retry-after');
      return response;
    };
    // A webhook object per send keeps `captured` private to this call under concurrency.
    const webhook = new IncomingWebhook(url, { fetch: capturing, timeout: this.config.slack.timeoutMs, retryConfig: { retries: 0 } });
    try {
      const result = await webhook.send(message);
      const answer = result.text.trim();
      if (answer !== 'ok') this.logger.debug({ webhook: delivery.target, answer: answer.slice(0, 80) }, 'Slack accepted the post with an unusual answer');
      return { channel: this.name, target: delivery.target, detail: `${captured.status ?? 200} ${answer.slice(0, 40)}` };
    } catch (error) {
      throw classifySlackFailure(error, delivery.target, captured);
    }
  }

  async close(): Promise<void> {}
}

/** Registry entry: Slack is on when any webhook is configured. */
export const slackChannel: ChannelFactory = {
  name: 'slack',
  create(context: ChannelContext): Notifier | undefined {
    const { slack } = context.config;
    if (!slack.webhookUrl && Object.keys(slack.webhooks).length === 0) return undefined;
    return new SlackNotifier({ config: context.config, logger: context.logger, fetch: context.fetch });
  },
};
