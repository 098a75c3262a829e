import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type App } from '../src/main.js';
import { Metrics } from '../src/telemetry/metrics.js';
import { GemSimulator } from '../src/simulator/gem-simulator.js';
import { LogCapture, testConfig, waitFor } from './helpers/pipeline.js';
import { startRedis, type TestRedis } from './helpers/redis.js';

const TOKEN = 'ops-test-token-5d0b9e31';
const auth = { authorization: `Bearer ${TOKEN}` };

let redis: TestRedis;
let app: App;
let main: string;
let ops: string;
const sim = new GemSimulator({ apiKey: 'ops-key' });
const logs = new LogCapture('warn');

/**
 * A raw request, so paths reach the server exactly as written (fetch would normalise `/a/../b` and
 * `//x` before sending).
 */
function raw(base: string, path: string, options: { method?: string; headers?: Record<string, string> } = {}): Promise<{ status: number; body: string; type: string }> {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: url.hostname, port: url.port, path, method: options.method ?? 'GET', headers: options.headers ?? {} }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (body += chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body, type: String(response.headers['content-type'] ?? '') }));
    });
    req.on('error', reject);
    req.end();
  });
}

beforeAll(async () => {
  redis = await startRedis();
  await sim.start();
  sim.upsertJob({ id: '701', status: 'running', progress: 10 });
  const config = testConfig(sim, redis.url, {
    POLL_CRON: '*/2 * * * * *',
    HTTP_HOST: '127.0.0.1',
    HTTP_PORT: '0',
    HTTP_AUTH_TOKEN: TOKEN,
    HTTP_OPS_PORT: '0',
    HTTP_OPS_HOST: '127.0.0.1',
  });
  app = createApp(config, { logger: logs.logger, metrics: new Metrics() });
  await app.start();
  main = app.http!.url;
  ops = app.ops!.url;
});

afterAll(async () => {
  await app?.stop(2_000);
  await sim.stop();
  await redis?.close();
});

describe('the ops listener (HTTP_OPS_PORT)', () => {
  it('answers a probe of /readyz and a scrape of /metrics without a token, on its own port', async () => {
    expect(ops).not.toBe(main);
    expect((await raw(ops, '/healthz')).status).toBe(200);
    // Ready once the first poll has succeeded and GEM has accepted the key.
    await waitFor(async () => (await raw(ops, '/readyz')).status === 200, 'the ops /readyz to say ready');
    const ready = JSON.parse((await raw(ops, '/readyz')).body) as { ready: boolean; checks: Array<{ name: string }> };
    expect(ready.ready).toBe(true);
    expect(ready.checks.map((check) => check.name)).toEqual(expect.arrayContaining(['redis', 'workers', 'poll', 'credentials']));

    await waitFor(async () => (await raw(ops, '/metrics')).body.includes('gemwatch_tracked_jobs{status="running"} 1'), 'the first poll to track the running job');
    const scrape = await raw(ops, '/metrics');
    expect(scrape.status).toBe(200);
    expect(scrape.type).toContain('text/plain');
    expect(scrape.body).toContain('gemwatch_tracked_jobs{status="running"} 1');
    // Kubelet and Prometheus may add a query string; it selects nothing.
    expect((await raw(ops, '/metrics?format=text')).status).toBe(200);
    const head = await raw(ops, '/healthz', { method: 'HEAD' });
    expect([head.status, head.body]).toEqual([200, '']);
  });

  it('leaves the main port as it was: the status page, /readyz and /metrics still need the token', async () => {
    expect((await raw(main, '/healthz')).status).toBe(200);
    for (const path of ['/', '/readyz', '/metrics', '/queues/']) {
      expect((await raw(main, path)).status, path).toBe(401);
      expect((await raw(main, path, { headers: auth })).status, path).toBe(200);
    }
  });

  it('answers 404 for everything but its three paths, token or not', async () => {
    const paths = ['/', '/queues', '/queues/', '/queues/api/queues', '/status', '/healthz/', '/readyz/x', '/metrics.json', '//metrics', '/../queues', '/%2e%2e/queues', '/HEALTHZ', '*'];
    for (const path of paths) {
      for (const headers of [{}, auth]) {
        const answer = await raw(ops, path, { headers });
        expect(answer.status, path).toBe(404);
        expect(answer.body).not.toContain('<html');
      }
    }
    for (const method of ['POST', 'PUT', 'DELETE', 'OPTIONS']) {
      expect((await raw(ops, '/metrics', { method })).status, method).toBe(404);
    }
  });

  it('says not ready from the first signal on while /healthz still answers, and never logs the token', async () => {
    app.http!.beginShutdown();
    const report = await raw(ops, '/readyz');
    expect(report.status).toBe(503);
    expect(report.body).toContain('shutting down');
    expect((await raw(ops, '/healthz')).status).toBe(200);
    expect(logs.raw.join('\n')).not.toContain(TOKEN);
  });
});

describe('without HTTP_OPS_PORT', () => {
  it('starts no ops listener', () => {
    const config = testConfig(sim, 'redis://127.0.0.1:1', { HTTP_PORT: '0' });
    expect(config.http.opsPort).toBeNull();
    expect(createApp(config, { logger: logs.logger, metrics: new Metrics() }).ops).toBeUndefined();
  });
});
