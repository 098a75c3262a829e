import type { Redis } from 'ioredis';
import nodemailer from 'nodemailer';
import type { DigestTrackedJob } from '../src/domain/digest.js';
import type { Transition } from '../src/domain/transition.js';
import type { DigestSender } from '../src/digest/digest-sender.js';
import type { DigestSource } from '../src/digest/digest-source.js';
import type { Keys } from '../src/state/keys.js';
import type { SlackMessage } from '../src/notify/channels/slack/slack-message.js';

/**
 * Shared by the digest's Redis tests: the transition stream written in the state store's format,
 * a DigestSource reading it back, and a DigestSender over nodemailer (and fetch for Slack) to the
 * in-process SMTP and Slack sinks.
 */

/** Appends a transition as the state store does: stream id = detection ms, JSON in field `t`. */
export async function addTransition(redis: Redis, keys: Keys, transition: Transition): Promise<void> {
  await redis.xadd(keys.transitions(), `${transition.detectedAt}-*`, 't', JSON.stringify(transition));
}

/**
 * A DigestSource over the real stream (XRANGE, both bounds inclusive, as the state store reads it)
 * and a list of tracked jobs the test sets.
 */
export function streamSource(redis: Redis, keys: Keys, tracked: () => DigestTrackedJob[] = () => []): DigestSource & { reads: Array<[number, number]> } {
  const reads: Array<[number, number]> = [];
  return {
    reads,
    async readTransitions(fromMs, toMs) {
      reads.push([fromMs, toMs]);
      const entries = await redis.xrange(keys.transitions(), String(Math.max(0, fromMs)), String(toMs));
      return entries.map(([, fields]) => JSON.parse(fields[fields.indexOf('t') + 1]!) as Transition);
    },
    async listTracked() {
      return tracked();
    },
  };
}

export interface TestSender extends DigestSender {
  emails: number;
  slacks: number;
  close(): void;
}

/** A DigestSender that really speaks SMTP (nodemailer) and posts Slack webhooks (fetch). */
export function testSender(smtpUrl: string, slackWebhookUrl?: string): TestSender {
  const transport = nodemailer.createTransport(smtpUrl);
  const sender: TestSender = {
    emails: 0,
    slacks: 0,
    async sendEmail(message) {
      await transport.sendMail({ from: 'gem-watch@example.com', to: [...message.to], subject: message.subject, text: message.text, html: message.html });
      sender.emails += 1;
    },
    close() {
      transport.close();
    },
  };
  if (slackWebhookUrl) {
    sender.sendSlack = async (payload: SlackMessage) => {
      const response = await fetch(slackWebhookUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(payload) });
      const body = await response.text();
      if (response.status !== 200) throw new Error(`Slack answered ${response.status} ${body}`);
      sender.slacks += 1;
    };
  }
  return sender;
}
