import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from './helpers/free-port.js';
import { capturedLogger, notifyConfig } from './helpers/notify-config.js';
import { startRawHttpServer, type RawHttpServer } from './helpers/raw-http-server.js';
import { isDeliveryError, type DeliveryError } from '../src/notify/errors.js';
import { sampleTransition } from '../src/notify/sample-data.js';
import { SlackNotifier } from '../src/notify/channels/slack/slack-notifier.js';
import { slackSettings } from '../src/notify/channels/slack/settings.js';
import { serializeError } from '../src/telemetry/redact.js';
import { rejection } from './helpers/rejection.js';

/**
 * The Slack channel's own HTTP post (the default, over undici) against a raw local server: the
 * deadline of `slack.timeoutMs` on an answer that never comes or stalls mid-body, the delivery's
 * abort signal, refused connections, redirects, and one keep-alive socket for many posts. Every
 * failure must name the webhook, never quote its URL.
 */

const NOW = Date.UTC(2026, 0, 20, 10, 25);
/** The time zone the channels' messages are rendered in here (the config's digest zone). */
const UTC = { timeZone: 'UTC' };
const SECRET = 'hookTransportSecret7x6c5v4b';

let server: RawHttpServer;
beforeAll(async () => {
  server = await startRawHttpServer((_, response) => response.writeHead(200, { 'content-type': 'text/plain' }).end('ok'));
});
afterAll(() => server.close());
afterEach(() => server.reset());

const notifiers: SlackNotifier[] = [];
afterAll(async () => {
  await Promise.all(notifiers.map((notifier) => notifier.close()));
});

function slack(webhookUrl = `${server.baseUrl}/services/T1/B1/${SECRET}`, timeoutMs = 300, fetch?: typeof globalThis.fetch): SlackNotifier {
  const config = notifyConfig({ yaml: { slack: { timeoutMs, webhooks: { ops: webhookUrl } } } });
  const notifier = new SlackNotifier({ settings: slackSettings(config)!, logger: capturedLogger().logger, ...(fetch ? { fetch } : {}) });
  notifiers.push(notifier);
  return notifier;
}

const send = (notifier: SlackNotifier, signal?: AbortSignal) =>
  notifier.send(notifier.render({ transition: sampleTransition('finished', NOW) }, UTC), { route: 'default', target: 'ops', ...(signal ? { signal } : {}) });

const failure = (promise: Promise<unknown>) => rejection(promise, isDeliveryError);

function expectNamedWithoutSecret(error: DeliveryError): void {
  expect(error.message).toContain('"ops"');
  const text = JSON.stringify(serializeError(error)) + error.message;
  expect(text).not.toContain(SECRET);
}

describe('Slack default post', () => {
  it('posts the JSON message with its content type and reads Slack\'s answer', async () => {
    let seen: { method?: string; type?: string; body?: string; path?: string } = {};
    server.handler = (request, response, body) => {
      seen = { method: request.method, type: request.headers['content-type'], body, path: request.url };
      response.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
    };
    const receipt = await send(slack());
    expect(receipt).toMatchObject({ channel: 'slack', target: 'ops', detail: '200 ok' });
    expect(seen).toMatchObject({ method: 'POST', type: 'application/json', path: `/services/T1/B1/${SECRET}` });
    expect(JSON.parse(seen.body!).text).toContain('sample-1');
  });

  it('sends one message after another over one keep-alive connection, errors included', async () => {
    let call = 0;
    server.handler = (_, response) => {
      call += 1;
      if (call === 2) return void response.writeHead(429, { 'retry-after': '2' }).end('rate_limited');
      if (call === 3) return void response.writeHead(500).end('rollup_error');
      response.writeHead(200).end('ok');
    };
    const notifier = slack();
    // undici frees a connection in a microtask after the answer ends; a turn of the event loop
    // between posts makes the count exact (a post in the same tick could open a second one).
    const turn = () => new Promise((resolve) => setImmediate(resolve));
    await send(notifier);
    await turn();
    expect(await failure(send(notifier))).toMatchObject({ reason: 'rateLimited', retryAfterMs: 2_000 });
    await turn();
    expect(await failure(send(notifier))).toMatchObject({ reason: 'serverError', status: 500 });
    for (let i = 0; i < 4; i += 1) {
      await turn();
      await send(notifier);
    }
    expect(server.requests.length).toBe(7);
    expect(server.connections).toBe(1);
  });

  it('times out a webhook that never answers within about slack.timeoutMs', async () => {
    server.handler = () => {};
    const started = Date.now();
    const error = await failure(send(slack()));
    expect(error).toMatchObject({ reason: 'timeout', retryable: true });
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    expect(Date.now() - started).toBeLessThan(1_500);
    expectNamedWithoutSecret(error);
  });

  it('times out an answer that stalls mid-body', async () => {
    server.handler = (_, response) => {
      response.writeHead(200, { 'content-type': 'text/plain', 'content-length': '100' });
      response.write('o');
    };
    const started = Date.now();
    const error = await failure(send(slack()));
    expect(error).toMatchObject({ reason: 'timeout', retryable: true });
    expect(Date.now() - started).toBeLessThan(1_500);
  });

  it("stops a post when the delivery's signal aborts (shutdown), as a retryable timeout", async () => {
    server.handler = () => {};
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error('worker closing')), 100);
    const started = Date.now();
    const error = await failure(send(slack(undefined, 5_000), controller.signal));
    expect(error).toMatchObject({ reason: 'timeout', retryable: true });
    expect(Date.now() - started).toBeLessThan(1_000);
    const aborted = new AbortController();
    aborted.abort();
    expect(await failure(send(slack(undefined, 5_000), aborted.signal))).toMatchObject({ reason: 'timeout', retryable: true });
  });

  it('calls a refused connection a retryable server error, naming the webhook and not its URL', async () => {
    const port = await freePort();
    const error = await failure(send(slack(`http://127.0.0.1:${port}/services/T1/B1/${SECRET}`)));
    expect(error).toMatchObject({ reason: 'serverError', retryable: true });
    expect(error.message).toContain('ECONNREFUSED');
    expectNamedWithoutSecret(error);
  });

  it('does not follow a redirect, and retries it', async () => {
    server.handler = (_, response) => response.writeHead(302, { location: `${server.baseUrl}/elsewhere/${SECRET}` }).end();
    const error = await failure(send(slack()));
    expect(error).toMatchObject({ reason: 'serverError', retryable: true });
    expect(server.requests.length).toBe(1);
    expectNamedWithoutSecret(error);
  });

  it('still posts through an injected fetch, with the deadline and the signal on it', async () => {
    const signals: Array<AbortSignal | null | undefined> = [];
    const recording: typeof globalThis.fetch = (input, init) => {
      signals.push(init?.signal);
      return globalThis.fetch(input, init);
    };
    await send(slack(undefined, 300, recording));
    expect(signals).toHaveLength(1);
    expect(signals[0]).toBeInstanceOf(AbortSignal);
    server.handler = () => {};
    expect(await failure(send(slack(undefined, 300, recording)))).toMatchObject({ reason: 'timeout', retryable: true });
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 100);
    const started = Date.now();
    expect(await failure(send(slack(undefined, 5_000, recording), controller.signal))).toMatchObject({ reason: 'timeout', retryable: true });
    expect(Date.now() - started).toBeLessThan(1_000);
  });
});
