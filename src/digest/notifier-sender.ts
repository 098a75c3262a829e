import type { NotifierRegistry } from '../notify/registry.js';
import type { DigestModelChannel, DigestSender } from './digest-sender.js';

/**
 * The digest's sender over the notification channels: the digest arrives already rendered (by
 * composeDigest, through each channel's renderers), goes to
 * its own recipients (digest.to, else EMAIL_TO), to the webhook named by digest.slackWebhook, and
 * (rendered here, by that channel) to the Teams webhook and the signed webhook the digest names.
 * A channel that is not configured is simply not used.
 */
export function notifierDigestSender(notifiers: NotifierRegistry, slackWebhook: string, targets: Partial<Record<DigestModelChannel, string>> = {}): DigestSender {
  const email = notifiers.get('email');
  const slack = notifiers.get('slack');
  return {
    async sendModel(channel, model) {
      const notifier = notifiers.get(channel);
      const target = targets[channel];
      if (!notifier || !target) throw new Error(`the digest names a ${channel} endpoint but ${channel} is not configured`);
      // One id per period: a receiver that deduplicates takes a digest sent again (a retry, a replica) once.
      const idempotencyKey = `digest-${model.period.start}-${model.period.end}`;
      await notifier.send(notifier.render({ digest: model }, { timeZone: model.timeZone }), { route: 'default', target, idempotencyKey });
    },
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
