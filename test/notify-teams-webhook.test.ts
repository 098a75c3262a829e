import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError } from '../src/config/load.js';
import { isDeliveryError } from '../src/notify/errors.js';
import { testNotify } from '../src/notify/operations.js';
import { createNotifiers } from '../src/notify/registry.js';
import { sampleAlert, sampleTransition } from '../src/notify/sample-data.js';
import { teamsSettings } from '../src/notify/channels/teams/settings.js';
import { TeamsNotifier } from '../src/notify/channels/teams/teams-notifier.js';
import { webhookSettings } from '../src/notify/channels/webhook/settings.js';
import { WebhookNotifier } from '../src/notify/channels/webhook/webhook-notifier.js';
import { startTeamsSink, type TeamsSink } from '../src/simulator/teams-workflows-sink.js';
import { startWebhookReceiver, webhookSecret, type WebhookReceiver } from '../src/simulator/webhook-receiver.js';
import { serializeError } from '../src/telemetry/redact.js';
import { freePort } from './helpers/free-port.js';
import { capturedLogger, notifyConfig } from './helpers/notify-config.js';
import { rejection } from './helpers/rejection.js';

/**
 * Teams and the signed webhook against local servers that answer like the real ones: the
 * Workflows sink (202, errors on demand) and a Standard Webhooks receiver that verifies every
 * signature with the `standardwebhooks` package. Each failure comes out classified once, and no
 * error quotes a webhook URL, its `sig` or the signing secret.
 */

const NOW = Date.UTC(2026, 0, 20, 10, 25);
const UTC = { timeZone: 'UTC' };
const TEAMS_SIG = 'teamsSigZ9q8w7e6r5t4y3u2i1o0p';
const failure = (promise: Promise<unknown>) => rejection(promise, isDeliveryError);

function assertNoSecret(error: unknown, ...secrets: string[]): void {
  const text = JSON.stringify(serializeError(error as Error)) + String((error as Error).message);
  for (const secret of secrets) expect(text).not.toContain(secret);
}

describe('Teams channel', () => {
  let sink: TeamsSink;
  let teams: TeamsNotifier;
  const { logger } = capturedLogger();

  beforeAll(async () => {
    sink = await startTeamsSink();
    const config = notifyConfig({
      env: { TEAMS_WEBHOOK_URL: sink.webhookUrl(TEAMS_SIG) },
      yaml: { teams: { timeoutMs: 300, webhooks: { lanes: sink.webhookUrl('lanesSigAbcdefgh123', 'fedcba9876543210fedcba9876543210') } } },
    });
    teams = new TeamsNotifier({ settings: teamsSettings(config)!, logger });
  });
  afterAll(async () => {
    await teams.close();
    await sink.close();
  });
  beforeEach(() => sink.reset());

  const send = (target = 'default') => teams.send(teams.render({ transition: sampleTransition('failed', NOW) }, UTC), { route: 'default', target });

  it('posts one Adaptive Card 1.4 in a Workflows message and takes the 202 as delivered', async () => {
    const receipt = await send();
    expect(receipt).toEqual({ channel: 'teams', target: 'default', detail: '202' });
    const [request] = sink.shown();
    expect(request?.headers['content-type']).toBe('application/json');
    expect(request?.card).toMatchObject({ type: 'AdaptiveCard', version: '1.4' });
    expect(JSON.stringify(request?.card)).toContain('ROAD\\\\_MATCHING job sample-1 failed');
    await teams.send(teams.render({ alert: sampleAlert(NOW) }, UTC), { route: 'default', target: 'lanes' });
    expect(sink.shown('/workflows/fedcba9876543210fedcba9876543210/triggers/manual/paths/invoke')).toHaveLength(1);
  });

  it('retries 429 after its Retry-After, 5xx, timeouts and dropped connections', async () => {
    sink.failNext(1, { status: 429, retryAfterSec: 3 });
    expect(await failure(send())).toMatchObject({ channel: 'teams', reason: 'rateLimited', retryable: true, status: 429, retryAfterMs: 3_000 });
    sink.failNext(1, { status: 502 });
    expect(await failure(send())).toMatchObject({ reason: 'serverError', retryable: true, status: 502 });
    sink.failNext(1, { hang: true });
    expect(await failure(send())).toMatchObject({ reason: 'timeout', retryable: true });
    sink.failNext(1, { drop: true });
    expect(await failure(send())).toMatchObject({ reason: 'serverError', retryable: true });
  });

  it('gives up at once on 400, 401, 403 and 404, saying what to fix', async () => {
    for (const [status, reason, words] of [
      [400, 'clientError', 'refused the card'],
      [401, 'auth', 'copy the URL of the flow again'],
      [403, 'auth', 'who may trigger the flow'],
      [404, 'clientError', 'deleted or turned off'],
    ] as const) {
      sink.failNext(1, { status, body: JSON.stringify({ error: { code: 'WorkflowTriggerIsNotEnabled', message: `secret ${TEAMS_SIG}` } }) });
      const error = await failure(send());
      expect(error).toMatchObject({ reason, retryable: false, status, code: 'WorkflowTriggerIsNotEnabled' });
      expect(error.message).toContain(words);
      assertNoSecret(error, TEAMS_SIG);
    }
  });

  it('fails a webhook name the configuration lacks as permanent', async () => {
    expect(await failure(send('nope'))).toMatchObject({ name: 'UnknownDestinationError', retryable: false });
  });

  it('never quotes the Workflows URL or its sig in an error, reachable or not', async () => {
    sink.failNext(1, { status: 500 });
    assertNoSecret(await failure(send()), TEAMS_SIG);
    const port = await freePort();
    const url = `http://127.0.0.1:${port}/workflows/abc/triggers/manual/paths/invoke?api-version=2016-06-01&sig=${TEAMS_SIG}`;
    const down = new TeamsNotifier({ settings: teamsSettings(notifyConfig({ env: { TEAMS_WEBHOOK_URL: url } }))!, logger });
    const error = await failure(down.send(down.render({ transition: sampleTransition('finished', NOW) }, UTC), { route: 'default', target: 'default' }));
    expect(error).toMatchObject({ reason: 'serverError', retryable: true });
    assertNoSecret(error, TEAMS_SIG, url);
    await down.close();
  });

  it('refuses retired Office 365 connector URLs at start, saying to create a Workflows webhook', () => {
    for (const url of ['https://contoso.webhook.office.com/webhookb2/a@b/IncomingWebhook/c/d', 'https://outlook.office.com/webhook/a@b/IncomingWebhook/c/d']) {
      let error: unknown;
      try {
        notifyConfig({ env: { TEAMS_WEBHOOK_URL: url } });
      } catch (caught) {
        error = caught;
      }
      expect(error).toBeInstanceOf(ConfigError);
      expect(String((error as Error).message)).toContain('teams.webhookUrl (TEAMS_WEBHOOK_URL): is an Office 365 connector URL');
      expect(String((error as Error).message)).toContain('Workflows webhook');
      expect(String((error as Error).message)).not.toContain('IncomingWebhook');
    }
    expect(() => notifyConfig({ yaml: { teams: { webhooks: { old: 'https://x.webhook.office.com/webhookb2/y' } } } })).toThrow(/teams\.webhooks\.old: is an Office 365 connector URL/);
  });
});

describe('signed webhook channel', () => {
  let receiver: WebhookReceiver;
  let other: WebhookReceiver;
  let hook: WebhookNotifier;
  const { logger } = capturedLogger();

  beforeAll(async () => {
    receiver = await startWebhookReceiver();
    other = await startWebhookReceiver({ secret: webhookSecret(9), path: '/billing' });
    const config = notifyConfig({
      env: { WEBHOOK_URL: receiver.url, WEBHOOK_SECRET: receiver.secret },
      yaml: { webhook: { timeoutMs: 300, endpoints: { billing: { url: other.url, secret: other.secret } } } },
    });
    hook = new WebhookNotifier({ settings: webhookSettings(config)!, logger });
  });
  afterAll(async () => {
    await hook.close();
    await receiver.close();
    await other.close();
  });
  beforeEach(() => {
    receiver.reset();
    other.reset();
  });

  const event = () => hook.render({ transition: sampleTransition('failed', NOW) });
  const send = (target = 'default', idempotencyKey = 'notify-sample-1-v3-default-webhook-default') => hook.send(event(), { route: 'default', target, idempotencyKey });

  it('signs every event so that a standardwebhooks receiver verifies it, each endpoint with its own secret', async () => {
    expect(await send()).toEqual({ channel: 'webhook', target: 'default', detail: '204 job.failed' });
    await send('billing', 'notify-sample-1-v3-r-webhook-billing');
    const [delivered] = receiver.deliveries();
    expect(delivered).toMatchObject({ verified: true, id: 'notify-sample-1-v3-default-webhook-default' });
    expect(delivered?.headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]+={0,2}$/);
    expect(delivered?.event).toMatchObject({ type: 'job.failed', data: { job: { id: 'sample-1', status: 'failed' }, transition: { to: 'failed', version: 3 } } });
    expect(other.deliveries()).toHaveLength(1);
  });

  it('gives every attempt of one delivery the same webhook-id: a 500 then a 204 is two attempts and one delivery', async () => {
    receiver.failNext(1, { status: 500 });
    expect(await failure(send())).toMatchObject({ reason: 'serverError', retryable: true, status: 500 });
    await send();
    expect(receiver.requests).toHaveLength(2);
    expect(new Set(receiver.requests.map((request) => request.headers['webhook-id']))).toEqual(new Set(['notify-sample-1-v3-default-webhook-default']));
    expect(receiver.deliveries()).toHaveLength(1);
  });

  it('fails verification for a tampered body or a wrong secret', async () => {
    await send();
    const [request] = receiver.requests;
    const headers = { 'webhook-id': String(request!.headers['webhook-id']), 'webhook-timestamp': String(request!.headers['webhook-timestamp']), 'webhook-signature': String(request!.headers['webhook-signature']) };
    const verifier = new Webhook(receiver.secret);
    expect(verifier.verify(request!.raw, headers)).toMatchObject({ type: 'job.failed' });
    expect(() => verifier.verify(request!.raw.replace('"failed"', '"finished"'), headers)).toThrow();
    expect(() => new Webhook(webhookSecret(3)).verify(request!.raw, headers)).toThrow();
  });

  it('calls 410 the receiver gone for good, and retries 429, 5xx, timeouts and dropped connections', async () => {
    receiver.failNext(1, { status: 410 });
    const gone = await failure(send());
    expect(gone).toMatchObject({ reason: 'clientError', retryable: false, status: 410 });
    expect(gone.message).toContain('the receiver is gone');
    receiver.failNext(1, { status: 429, retryAfterSec: 2 });
    expect(await failure(send())).toMatchObject({ reason: 'rateLimited', retryable: true, retryAfterMs: 2_000 });
    receiver.failNext(1, { status: 503 });
    expect(await failure(send())).toMatchObject({ reason: 'serverError', retryable: true });
    receiver.failNext(1, { hang: true });
    expect(await failure(send())).toMatchObject({ reason: 'timeout', retryable: true });
    receiver.failNext(1, { drop: true });
    expect(await failure(send())).toMatchObject({ reason: 'serverError', retryable: true });
    receiver.failNext(1, { status: 400 });
    expect(await failure(send())).toMatchObject({ reason: 'clientError', retryable: false });
  });

  it('never quotes the secret or the URL in an error', async () => {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}/hooks/token-in-path-123456`;
    const down = new WebhookNotifier({ settings: webhookSettings(notifyConfig({ env: { WEBHOOK_URL: url, WEBHOOK_SECRET: receiver.secret } }))!, logger });
    const error = await failure(down.send(event(), { route: 'default', target: 'default' }));
    expect(error).toMatchObject({ reason: 'serverError', retryable: true });
    assertNoSecret(error, receiver.secret, receiver.secret.slice('whsec_'.length), url, 'token-in-path-123456');
    await down.close();
    receiver.failNext(1, { status: 401, body: receiver.secret });
    assertNoSecret(await failure(send()), receiver.secret);
  });

  it('refuses a secret that is not whsec_ and base64, or a URL without one, naming the key and never the value', () => {
    const attempts: Array<[Record<string, string>, Record<string, unknown>, RegExp]> = [
      [{ WEBHOOK_URL: 'https://example.com/hook', WEBHOOK_SECRET: 'plainsecretvalue' }, {}, /webhook\.secret \(WEBHOOK_SECRET\): must be whsec_/],
      [{ WEBHOOK_URL: 'https://example.com/hook', WEBHOOK_SECRET: 'whsec_c2hvcnQ=' }, {}, /must hold 24 to 64 bytes/],
      [{ WEBHOOK_URL: 'https://example.com/hook' }, {}, /webhook\.secret \(WEBHOOK_SECRET\): is required/],
      [{}, { webhook: { endpoints: { billing: { url: 'https://example.com/b', secret: 'nope-secret-value' } } } }, /webhook\.endpoints\.billing\.secret: must be whsec_/],
      [{}, { routes: [{ name: 'r', webhook: ['ghost'] }] }, /routes\[0\]\.webhook: names "ghost", which webhook\.endpoints does not define/],
      [{}, { routes: [{ name: 'r', teams: ['default'] }] }, /routes\[0\]\.teams: names "default" but teams\.webhookUrl \(TEAMS_WEBHOOK_URL\) is not set/],
    ];
    for (const [env, yaml, message] of attempts) {
      let error: unknown;
      try {
        notifyConfig({ env, yaml });
      } catch (caught) {
        error = caught;
      }
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as Error).message).toMatch(message);
      expect((error as Error).message).not.toContain('plainsecretvalue');
      expect((error as Error).message).not.toContain('nope-secret-value');
    }
  });
});

describe('registry with Teams and the signed webhook', () => {
  it('builds them when configured, after Slack and email, and walks their endpoints', async () => {
    const { logger } = capturedLogger();
    const registry = createNotifiers(
      notifyConfig({
        slackWebhookUrl: 'https://hooks.slack.com/services/T/B/x1234567',
        env: { TEAMS_WEBHOOK_URL: 'https://prod-1.westeurope.logic.azure.com/workflows/a/triggers/manual/paths/invoke?sig=abc', WEBHOOK_URL: 'https://example.com/hook', WEBHOOK_SECRET: webhookSecret() },
        yaml: { teams: { webhooks: { lanes: 'https://prod-1.westeurope.logic.azure.com/workflows/b/triggers/manual/paths/invoke?sig=def' } } },
      }),
      logger,
    );
    expect(registry.list().map((notifier) => notifier.name)).toEqual(['slack', 'teams', 'webhook']);
    expect(registry.get('teams')?.endpoints()).toEqual([
      { route: 'default', target: 'default' },
      { route: 'default', target: 'lanes' },
    ]);
    expect(registry.get('webhook')?.endpoints()).toEqual([{ route: 'default', target: 'default' }]);
    await registry.close();
  });
});

describe('test-notify over Teams and the signed webhook', () => {
  it('sends the sample to every endpoint of both and reports each, a refusal included', async () => {
    const sink = await startTeamsSink();
    const receiver = await startWebhookReceiver();
    const registry = createNotifiers(
      notifyConfig({
        env: { TEAMS_WEBHOOK_URL: sink.webhookUrl(TEAMS_SIG), WEBHOOK_URL: receiver.url, WEBHOOK_SECRET: receiver.secret },
        yaml: { teams: { webhooks: { lanes: sink.webhookUrl('lanesSig123456789', 'aaaabbbbccccddddaaaabbbbccccdddd') } } },
      }),
      capturedLogger().logger,
    );
    try {
      sink.failNext(1, { status: 403 }, '/workflows/aaaabbbbccccddddaaaabbbbccccdddd/triggers/manual/paths/invoke');
      const results = await testNotify({ notifiers: registry, now: NOW });
      expect(results.map(({ channel, target, ok }) => ({ channel, target, ok }))).toEqual([
        { channel: 'teams', target: 'default', ok: true },
        { channel: 'teams', target: 'lanes', ok: false },
        { channel: 'webhook', target: 'default', ok: true },
      ]);
      expect(results[1]).toMatchObject({ reason: 'auth', retryable: false });
      expect(results[1]!.detail).not.toContain('lanesSig123456789');
      expect(sink.shown()).toHaveLength(1);
      expect(receiver.deliveries()[0]?.event?.type).toBe('job.finished');
      const alert = await testNotify({ notifiers: registry, channel: 'webhook', sample: 'alert', now: NOW });
      expect(alert).toMatchObject([{ ok: true }]);
      expect(receiver.deliveries()[1]?.event?.type).toBe('gemwatch.down');
    } finally {
      await registry.close();
      await sink.close();
      await receiver.close();
    }
  });
});
