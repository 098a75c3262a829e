import { createHash } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { Agent } from 'undici';
import { DEFAULT_ROUTE } from '../../../domain/routing.js';
import { fetchJsonPost, undiciJsonPost, type JsonPost } from '../../../http-client/json-post.js';
import type { Logger } from '../../../telemetry/logger.js';
import { registerSecret, registerSecretUrl } from '../../../telemetry/redact.js';
import { UnknownDestinationError } from '../../errors.js';
import type { ChannelContext, ChannelFactory, Delivery, DeliveryReceipt, NotificationContent, Notifier } from '../../notifier.js';
import { classifyWebhookAnswer, classifyWebhookError } from './classify.js';
import { renderWebhook } from './render.js';
import { webhookSettings, type WebhookConfig, type WebhookSettings } from './settings.js';
import type { WebhookEvent } from './webhook-event.js';

export interface WebhookNotifierOptions {
  settings: WebhookSettings;
  logger: Logger;
  /** fetch to post with; tests pass one that records. Default: undici's request() on a keep-alive pool of this notifier's. */
  fetch?: typeof globalThis.fetch;
  /** Clock of the `webhook-timestamp` header, epoch ms; default Date.now. */
  now?: () => number;
}

/**
 * The id of one delivery: the notify task id, which every attempt of the delivery shares, so a
 * receiver that keeps the ids it has seen takes a copy sent again through the crash window once.
 * Without one (test-notify, a caller of its own) it is a hash of the body, which a retry of the
 * same event repeats too.
 */
export function webhookMessageId(delivery: Pick<Delivery, 'idempotencyKey'>, body: string): string {
  if (delivery.idempotencyKey) return delivery.idempotencyKey;
  return `msg_${createHash('sha256').update(body).digest('hex').slice(0, 32)}`;
}

/**
 * A JSON POST per event, signed as Standard Webhooks specifies with the `standardwebhooks`
 * package: `webhook-id` (the same for every attempt of a delivery), `webhook-timestamp` (seconds,
 * the attempt's own, which receivers check against replays) and `webhook-signature`
 * (`v1,<base64 HMAC-SHA256>` of `id.timestamp.body` keyed by the `whsec_` secret).
 */
export class WebhookNotifier implements Notifier<WebhookEvent> {
  readonly name = 'webhook';
  private readonly settings: WebhookSettings;
  private readonly logger: Logger;
  private readonly post: JsonPost;
  private readonly dispatcher: Agent | undefined;
  private readonly signers = new Map<string, Webhook>();
  private readonly now: () => number;

  constructor(options: WebhookNotifierOptions) {
    this.settings = options.settings;
    this.logger = options.logger.child({ channel: 'webhook' });
    this.now = options.now ?? Date.now;
    if (options.fetch) {
      this.post = fetchJsonPost(options.fetch);
    } else {
      this.dispatcher = new Agent({ headersTimeout: 0, bodyTimeout: 0 });
      this.post = undiciJsonPost(this.dispatcher);
    }
    for (const [name, endpoint] of this.settings.endpoints) {
      registerSecretUrl(endpoint.url, true);
      registerSecret(endpoint.secret);
      registerSecret(endpoint.secret.replace(/^whsec_/, ''));
      // The configuration checked the format; a malformed secret here fails the send, not the start.
      try {
        this.signers.set(name, new Webhook(endpoint.secret));
      } catch {
        this.logger.error({ endpoint: name }, 'webhook secret is not a Standard Webhooks secret (whsec_ and base64); its deliveries will fail');
      }
    }
  }

  endpoints(): Array<{ route: string; target: string }> {
    return [...this.settings.endpoints.keys()].map((target) => ({ route: DEFAULT_ROUTE, target }));
  }

  render(content: NotificationContent): WebhookEvent {
    return renderWebhook(content);
  }

  async send(event: WebhookEvent, delivery: Delivery): Promise<DeliveryReceipt> {
    const endpoint = this.settings.endpoints.get(delivery.target);
    const signer = this.signers.get(delivery.target);
    if (!endpoint || !signer) {
      throw new UnknownDestinationError(`webhook "${delivery.target}" is not configured (webhook.endpoints / WEBHOOK_URL and WEBHOOK_SECRET)`, this.name);
    }
    const body = JSON.stringify(event);
    const id = webhookMessageId(delivery, body);
    const at = new Date(this.now());
    const headers = {
      'webhook-id': id,
      'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
      'webhook-signature': signer.sign(id, at, body),
    };
    let answer;
    try {
      answer = await this.post(endpoint.url, body, headers, this.settings.timeoutMs, delivery.signal);
    } catch (error) {
      throw classifyWebhookError(error, delivery.target);
    }
    const failure = classifyWebhookAnswer(answer, delivery.target);
    if (failure) throw failure;
    return { channel: this.name, target: delivery.target, detail: `${answer.status} ${event.type}` };
  }

  async close(): Promise<void> {
    await this.dispatcher?.close();
  }
}

/** Registry entry: the signed webhook is on when any receiver is configured. */
export const webhookChannel: ChannelFactory<WebhookSettings, WebhookConfig> = {
  name: 'webhook',
  settings: webhookSettings,
  create(settings: WebhookSettings, context: ChannelContext): Notifier<WebhookEvent> {
    return new WebhookNotifier({ settings, logger: context.logger, fetch: context.fetch });
  },
};
