import type { NotifierRegistry } from '../notify/registry.js';
import type { DigestSender } from './digest-sender.js';

/**
 * The digest's sender over the notification channels: the digest arrives already rendered (by
 * composeDigest, through each channel's renderers), goes to
 * its own recipients (digest.to, else EMAIL_TO) and to the webhook named by digest.slackWebhook.
 * A channel that is not configured is simply not used.
 */
export function notifierDigestSender(notifiers: NotifierRegistry, slackWebhook: string): DigestSender {
  const email = notifiers.get('email');
  const slack = notifiers.get('slack');
  return {
    async sendEmail(message) {
      if (!email) throw new Error('the digest has recipients but email is off (SMTP_URL is not set)');
      await email.send({ subject: message.subject, text: message.text, html: message.html }, {
        route: 'default',
        target: 'route',
        recipients: [...message.to],
      });
    },
    ...(slack && slackWebhook
      ? {
          async sendSlack(payload) {
            await slack.send(payload, { route: 'default', target: slackWebhook });
          },
        }
      : {}),
  };
}
