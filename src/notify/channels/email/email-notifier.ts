import { EMAIL_ROUTE_TARGET } from '../../../domain/routing.js';
import type { Logger } from '../../../telemetry/logger.js';
import { registerSecretUrl } from '../../../telemetry/redact.js';
import type { EmailContent } from './email-message.js';
import { renderEmail } from './render.js';
import { UnknownDestinationError } from '../../errors.js';
import type { ChannelContext, ChannelFactory, Delivery, DeliveryReceipt, NotificationContent, Notifier, RenderOptions } from '../../notifier.js';
import { classifyEmailFailure } from './classify.js';
import { emailSettings, type EmailConfig, type EmailSettings } from './settings.js';
import { createPool, type PooledTransport } from './smtp-pool.js';

export interface EmailNotifierOptions {
  settings: EmailSettings;
  logger: Logger;
}

/** The domain of the sender, for Message-IDs; a safe fallback when it is unusual. */
function messageIdDomain(from: string): string {
  const domain = /@([A-Za-z0-9.-]+)>?\s*$/.exec(from)?.[1];
  return domain && domain.length <= 200 ? domain : 'gem-watch.invalid';
}

/** Email through one pooled SMTP transport; the route's recipients are read at send time. */
export class EmailNotifier implements Notifier<EmailContent> {
  readonly name = 'email';
  private readonly settings: EmailSettings;
  private readonly logger: Logger;
  private readonly transport: PooledTransport;

  constructor(options: EmailNotifierOptions) {
    this.settings = options.settings;
    this.logger = options.logger.child({ channel: 'email' });
    registerSecretUrl(this.settings.smtpUrl, false);
    this.transport = createPool(this.settings);
  }

  endpoints(): Array<{ route: string; target: string }> {
    const routes = [...this.settings.recipients].filter(([, recipients]) => recipients.length > 0).map(([route]) => route);
    return routes.map((route) => ({ route, target: EMAIL_ROUTE_TARGET }));
  }

  render(content: NotificationContent, options: RenderOptions): EmailContent {
    return renderEmail(content, options);
  }

  async send(message: EmailContent, delivery: Delivery): Promise<DeliveryReceipt> {
    if (delivery.target !== EMAIL_ROUTE_TARGET) {
      throw new UnknownDestinationError(`email target "${delivery.target}" is not known (expected "${EMAIL_ROUTE_TARGET}")`, this.name);
    }
    const recipients = delivery.recipients ?? this.settings.recipients.get(delivery.route);
    if (!recipients || recipients.length === 0) {
      throw new UnknownDestinationError(`route "${delivery.route}" has no email recipients in the configuration`, this.name);
    }
    const key = delivery.idempotencyKey?.replace(/[^A-Za-z0-9._%+-]/g, '_');
    try {
      const info = await this.transport.sendMail({
        from: this.settings.from,
        to: [...recipients],
        subject: message.subject,
        text: message.text,
        html: message.html,
        ...(key ? { messageId: `<${key}@${messageIdDomain(this.settings.from)}>` } : {}),
        headers: { 'Auto-Submitted': 'auto-generated', 'X-Auto-Response-Suppress': 'All' },
        ...(delivery.signal ? { signal: delivery.signal } : {}),
      });
      const rejected = (info.rejected ?? []).length;
      if (rejected > 0) {
        this.logger.warn({ route: delivery.route, rejected, accepted: (info.accepted ?? []).length }, 'SMTP server refused some recipients; the others got the mail');
      }
      return { channel: this.name, target: delivery.route, detail: `${info.messageId ?? ''}${rejected > 0 ? ` (${rejected} recipient(s) refused)` : ''}`.trim() };
    } catch (error) {
      throw classifyEmailFailure(error);
    }
  }

  /** Verifies the SMTP connection and login, for `gem-watch check`. Throws DeliveryError. */
  async verify(): Promise<void> {
    try {
      await this.transport.verify();
    } catch (error) {
      throw classifyEmailFailure(error);
    }
  }

  async close(): Promise<void> {
    this.transport.close();
  }
}

/** Registry entry: email is on when SMTP_URL is set. */
export const emailChannel: ChannelFactory<EmailSettings, EmailConfig> = {
  name: 'email',
  settings: emailSettings,
  create(settings: EmailSettings, context: ChannelContext): Notifier<EmailContent> {
    return new EmailNotifier({ settings, logger: context.logger });
  },
};
