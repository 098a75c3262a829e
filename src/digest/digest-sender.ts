import type { DigestModel } from '../domain/digest.js';
import type { SlackMessage } from '../notify/channels/slack/slack-message.js';

/** Channels that render the digest themselves, from its model: the Teams card, the webhook's `digest` event. */
export type DigestModelChannel = 'teams' | 'webhook';

/**
 * Where digests go. The digest depends on this interface only, not on the notify channels: the
 * composition root wires the real e-mail (and Slack) channel in; tests use a small nodemailer sender.
 *
 * Each method sends once and resolves when the message was accepted (the SMTP server answered 250,
 * Slack answered 200), or rejects; the scheduler retries a rejection later and never drops it.
 * Rejections should carry no secret: they are logged through `errorText`.
 */
export interface DigestSender {
  sendEmail(message: DigestEmail): Promise<void>;
  /** Posts the Slack summary to the digest's webhook (`digest.slackWebhook`); optional. */
  sendSlack?(payload: SlackMessage): Promise<void>;
  /**
   * Sends the digest to the Teams webhook named by `digest.teamsWebhook`, or as a `digest` event to
   * the signed webhook named by `digest.webhook`, rendered by that channel; optional.
   */
  sendModel?(channel: DigestModelChannel, model: DigestModel): Promise<void>;
}

/** One digest e-mail. Recipients come from the configuration, never from API data. */
export interface DigestEmail {
  to: readonly string[];
  /** One line; built without API text. */
  subject: string;
  /** text/plain part. */
  text: string;
  /** text/html part. */
  html: string;
}
