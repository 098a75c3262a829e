import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { freePort } from './helpers/free-port.js';
import { capturedLogger, notifyConfig } from './helpers/notify-config.js';
import { startSlackSink, type SlackSink } from './helpers/slack-sink.js';
import { startSmtpSink, type SmtpSink } from './helpers/smtp-sink.js';
import { isDeliveryError } from '../src/notify/errors.js';
import { EmailNotifier } from '../src/notify/channels/email/email-notifier.js';
import { createNotifiers } from '../src/notify/registry.js';
import { sampleTransition } from '../src/notify/sample-data.js';
import { SlackNotifier } from '../src/notify/channels/slack/slack-notifier.js';
import { slackSettings, type SlackSettings } from '../src/notify/channels/slack/settings.js';
import { emailSettings, type EmailSettings } from '../src/notify/channels/email/settings.js';
import { serializeError } from '../src/telemetry/redact.js';
import { rejection } from './helpers/rejection.js';

/**
 * The two channels against real protocol servers: the Slack sink over HTTP and smtp-server over
 * SMTP. Each failure must come out classified once (retryable or not, with its reason), and no
 * error may quote the webhook URL or the SMTP password.
 */

const NOW = Date.UTC(2026, 0, 20, 10, 25);
/** The time zone the channels' messages are rendered in here (the config's digest zone). */
const UTC = { timeZone: 'UTC' };
const slackSettingsOf = (config: ReturnType<typeof notifyConfig>): SlackSettings => slackSettings(config)!;
const emailSettingsOf = (config: ReturnType<typeof notifyConfig>): EmailSettings => emailSettings(config)!;
const WEBHOOK_SECRET = 'hookSecretZ9q8w7e6r5t4y3u2';
const SMTP_PASSWORD = 'smtp-Pa55word!secret';

const failure = (promise: Promise<unknown>) => rejection(promise, isDeliveryError);

function assertNoSecret(error: unknown, ...secrets: string[]): void {
  const text = JSON.stringify(serializeError(error as Error)) + String((error as Error).message);
  for (const secret of secrets) expect(text).not.toContain(secret);
}

describe('Slack channel', () => {
  let sink: SlackSink;
  let slack: SlackNotifier;
  const { logger } = capturedLogger();

  beforeAll(async () => {
    sink = await startSlackSink();
    const config = notifyConfig({
      slackWebhookUrl: sink.webhookUrl(WEBHOOK_SECRET),
      yaml: { slack: { timeoutMs: 300, webhooks: { data: sink.webhookUrl('dataSecretAbcdefgh123', 'T1', 'B1') } } },
    });
    slack = new SlackNotifier({ settings: slackSettings(config)!, logger });
  });
  afterAll(async () => {
    await sink.close();
  });
  beforeEach(() => sink.reset());

  const send = (target = 'default') => slack.send(slack.render({ transition: sampleTransition('finished', NOW) }, UTC), { route: 'default', target });

  it('posts a valid Block Kit message to the named webhook, without link_names', async () => {
    const receipt = await send();
    expect(receipt).toMatchObject({ channel: 'slack', target: 'default' });
    const [request] = sink.accepted();
    expect(request?.path).toBe(`/services/T00000000/B00000000/${WEBHOOK_SECRET}`);
    expect(request?.body?.text).toContain('ROAD_MATCHING job sample-1 finished: 84.68% matched');
    expect(request?.body).not.toHaveProperty('link_names');
    await slack.send(slack.render({ transition: sampleTransition('failed', NOW) }, UTC), { route: 'default', target: 'data' });
    expect(sink.accepted('/services/T1/B1/dataSecretAbcdefgh123')).toHaveLength(1);
  });

  it('reads the Retry-After of a 429 that @slack/webhook hides, and calls it retryable', async () => {
    sink.failNext(1, { status: 429, retryAfterSec: 2 });
    const error = await failure(send());
    expect(error).toMatchObject({ reason: 'rateLimited', retryable: true, status: 429, retryAfterMs: 2_000 });
  });

  it('retries 5xx, 408, timeouts and dropped connections', async () => {
    sink.failNext(1, { status: 500 });
    expect(await failure(send())).toMatchObject({ reason: 'serverError', retryable: true, status: 500 });
    sink.failNext(1, { status: 503 });
    expect(await failure(send())).toMatchObject({ reason: 'serverError', retryable: true });
    sink.failNext(1, { status: 408, body: 'timeout' });
    expect(await failure(send())).toMatchObject({ reason: 'timeout', retryable: true });
    sink.failNext(1, { hang: true });
    expect(await failure(send())).toMatchObject({ reason: 'timeout', retryable: true });
    sink.failNext(1, { drop: true });
    expect(await failure(send())).toMatchObject({ reason: 'serverError', retryable: true });
  });

  it('gives up at once on the answers Slack means for good', async () => {
    for (const [status, body, reason] of [
      [400, 'invalid_payload', 'clientError'],
      [403, 'action_prohibited', 'auth'],
      [404, 'channel_not_found', 'clientError'],
      [404, 'no_service', 'clientError'],
      [410, 'channel_is_archived', 'clientError'],
    ] as const) {
      sink.failNext(1, { status, body });
      const error = await failure(send());
      expect(error).toMatchObject({ reason, retryable: false, status, code: body });
      expect(error.message).toContain(`answered ${status} ${body}`);
    }
  });

  it('fails a webhook name the configuration lacks as permanent', async () => {
    expect(await failure(send('nope'))).toMatchObject({ name: 'UnknownDestinationError', retryable: false, reason: 'clientError' });
  });

  it('never quotes the webhook URL in an error, reachable or not', async () => {
    sink.failNext(1, { status: 500 });
    assertNoSecret(await failure(send()), WEBHOOK_SECRET);
    const port = await freePort();
    const unreachable = new SlackNotifier({ settings: slackSettingsOf(notifyConfig({ slackWebhookUrl: `http://127.0.0.1:${port}/services/T/B/${WEBHOOK_SECRET}` })), logger });
    const error = await failure(unreachable.send(unreachable.render({ transition: sampleTransition('finished', NOW) }, UTC), { route: 'default', target: 'default' }));
    expect(error).toMatchObject({ reason: 'serverError', retryable: true });
    assertNoSecret(error, WEBHOOK_SECRET);
  });
});

describe('email channel', () => {
  let sink: SmtpSink;
  let email: EmailNotifier;

  beforeAll(async () => {
    sink = await startSmtpSink({ auth: { user: 'mailer', pass: SMTP_PASSWORD } });
    email = new EmailNotifier({
      settings: emailSettingsOf(notifyConfig({
        smtpUrl: sink.url(),
        emailTo: ['ops@example.com', 'lead@example.com'],
        yaml: { routes: [{ name: 'lanes', email: ['lanes@example.com'] }] },
      })),
      logger: capturedLogger().logger,
    });
  });
  afterAll(async () => {
    await email.close();
    await sink.close();
  });
  beforeEach(() => sink.reset());

  const send = (route = 'default') =>
    email.send(email.render({ transition: sampleTransition('finished', NOW) }, UTC), { route, target: 'route', idempotencyKey: 'notify-sample-1-v3-default-email-route' });

  it('sends a multipart mail to the route recipients over one pooled, logged-in connection', async () => {
    await send();
    await send('lanes');
    await send();
    expect(sink.mails).toHaveLength(3);
    const [first, second] = sink.mails;
    expect(first?.envelope.to).toEqual(['ops@example.com', 'lead@example.com']);
    expect(second?.envelope.to).toEqual(['lanes@example.com']);
    expect(first?.user).toBe('mailer');
    expect(first?.parsed.subject).toBe('[gem-watch] ROAD_MATCHING job sample-1 finished: 84.68% matched');
    expect(first?.parsed.text).toContain('84.68%');
    expect(first?.parsed.html).toContain('<table');
    expect(first?.parsed.messageId).toBe('<notify-sample-1-v3-default-email-route@example.com>');
    expect(first?.parsed.headers.get('auto-submitted')).toBe('auto-generated');
    expect(new Set(sink.mails.map((mail) => mail.sessionId)).size).toBe(1);
  });

  it('retries SMTP 4xx and gives up on 5xx, at any stage', async () => {
    sink.refuseNext(1, { code: 451 });
    expect(await failure(send())).toMatchObject({ retryable: true, status: 451, reason: 'serverError' });
    sink.refuseNext(1, { code: 550 });
    expect(await failure(send())).toMatchObject({ retryable: false, status: 550, reason: 'clientError' });
    sink.refuseNext(1, { code: 452, stage: 'rcpt' });
    sink.refuseNext(1, { code: 452, stage: 'rcpt' });
    expect(await failure(send())).toMatchObject({ retryable: true });
    sink.refuseNext(1, { code: 553, stage: 'mail' });
    expect(await failure(send())).toMatchObject({ retryable: false, status: 553 });
    await send();
    expect(sink.mails).toHaveLength(1);
  });

  it('refuses a route without recipients as permanent', async () => {
    expect(await failure(send('nobody'))).toMatchObject({ name: 'UnknownDestinationError', retryable: false });
  });

  it('calls a wrong password an auth failure and never quotes the password', async () => {
    const wrong = new EmailNotifier({ settings: emailSettingsOf(notifyConfig({ smtpUrl: sink.url({ user: 'mailer', pass: 'wrong-Pa55word!' }) })), logger: capturedLogger().logger });
    try {
      const error = await failure(wrong.send(wrong.render({ transition: sampleTransition('failed', NOW) }, UTC), { route: 'default', target: 'route' }));
      expect(error).toMatchObject({ reason: 'auth', retryable: false, status: 535 });
      assertNoSecret(error, 'wrong-Pa55word!', SMTP_PASSWORD);
    } finally {
      await wrong.close();
    }
  });

  it('retries when the server cannot be reached, within the configured timeouts', async () => {
    const port = await freePort();
    const down = new EmailNotifier({
      settings: emailSettingsOf(notifyConfig({ smtpUrl: `smtp://mailer:${encodeURIComponent(SMTP_PASSWORD)}@127.0.0.1:${port}`, yaml: { email: { connectionTimeoutMs: 500 } } })),
      logger: capturedLogger().logger,
    });
    try {
      const error = await failure(down.send(down.render({ transition: sampleTransition('failed', NOW) }, UTC), { route: 'default', target: 'route' }));
      expect(error.retryable).toBe(true);
      assertNoSecret(error, SMTP_PASSWORD);
    } finally {
      await down.close();
    }
  });
});

describe('email over TLS', () => {
  it('speaks TLS from the start with smtps:// and upgrades with STARTTLS when offered on smtp://', async () => {
    for (const tls of [{ secure: true }, { starttls: true }]) {
      const sink = await startSmtpSink(tls);
      const email = new EmailNotifier({ settings: emailSettingsOf(notifyConfig({ smtpUrl: sink.url() })), logger: capturedLogger().logger });
      try {
        expect(sink.url()).toMatch(tls.secure ? /^smtps:/ : /^smtp:/);
        await email.send(email.render({ transition: sampleTransition('finished', NOW) }, UTC), { route: 'default', target: 'route' });
        expect(sink.mails[0]?.secure).toBe(true);
      } finally {
        await email.close();
        await sink.close();
      }
    }
  });
});

describe('registry', () => {
  it('builds only the configured channels', async () => {
    const { logger } = capturedLogger();
    expect(createNotifiers(notifyConfig(), logger).list()).toEqual([]);
    const slackOnly = createNotifiers(notifyConfig({ slackWebhookUrl: 'https://hooks.slack.com/services/T/B/x1234567' }), logger);
    expect(slackOnly.list().map((notifier) => notifier.name)).toEqual(['slack']);
    const both = createNotifiers(notifyConfig({ slackWebhookUrl: 'https://hooks.slack.com/services/T/B/x1234567', smtpUrl: 'smtp://127.0.0.1:2525' }), logger);
    expect(both.list().map((notifier) => notifier.name)).toEqual(['slack', 'email']);
    expect(both.get('email')?.endpoints()).toEqual([{ route: 'default', target: 'route' }]);
    await both.close();
  });
});
