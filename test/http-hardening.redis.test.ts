import { request as httpRequest } from 'node:http';
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type App } from '../src/main.js';
import { Metrics } from '../src/telemetry/metrics.js';
import { GemSimulator } from '../src/simulator/gem-simulator.js';
import { LogCapture, testConfig, waitFor } from './helpers/pipeline.js';
import { startRedis, type TestRedis } from './helpers/redis.js';

/**
 * The HTTP server against hostile clients, over real sockets. The limits are small so the test
 * waits for the server's own events (a 408, a closed socket), never for a duration it asserts.
 */

const LIMITS = { headersTimeoutMs: 2_000, requestTimeoutMs: 2_000, maxConnections: 8, maxHeaderBytes: 2_048, maxBodyBytes: 1_024 };

let redis: TestRedis;
let app: App;
let port: number;
const sim = new GemSimulator({ apiKey: 'harden-key' });

interface SlowClient {
  received: string;
  closed: boolean;
  socket: Socket;
}

/** A client that sends a request line and then one header line every 100 ms, never ending its headers. */
async function trickler(): Promise<SlowClient> {
  const socket = connect(port, '127.0.0.1');
  const client: SlowClient = { received: '', closed: false, socket };
  socket.on('data', (chunk: Buffer) => (client.received += chunk.toString('latin1')));
  socket.on('error', () => {});
  await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
  socket.write('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n');
  let n = 0;
  const timer = setInterval(() => {
    if (!socket.destroyed) socket.write(`X-Slow-${n++}: a\r\n`);
  }, 100);
  socket.on('close', () => {
    client.closed = true;
    clearInterval(timer);
  });
  return client;
}

/** Sends raw bytes and resolves with everything the server answered until it closed the connection. */
function raw(bytes: string): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let answer = '';
    socket.on('data', (chunk: Buffer) => (answer += chunk.toString('latin1')));
    socket.on('error', () => {});
    socket.on('close', () => resolve(answer));
    socket.on('connect', () => socket.write(bytes));
  });
}

/** GET with any Host header (fetch will not send a forged one) and its own connection. */
function get(path: string, host = `127.0.0.1:${port}`): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, headers: { host, connection: 'close' }, agent: false }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (body += chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

beforeAll(async () => {
  redis = await startRedis();
  await sim.start();
  const config = testConfig(sim, redis.url, { HTTP_PORT: '0' });
  config.http = { ...config.http, ...LIMITS };
  app = createApp(config, { logger: new LogCapture('warn').logger, metrics: new Metrics(), role: 'scheduler' });
  await app.start();
  port = Number(new URL(app.http!.url).port);
});

afterAll(async () => {
  await app?.stop(2_000);
  await sim.stop();
  await redis?.close();
});

describe('HTTP server against hostile clients', () => {
  it('answers /healthz while clients trickling headers hold connections, and cuts them with 408', async () => {
    const slow = await Promise.all(Array.from({ length: 5 }, () => trickler()));
    const health = await get('/healthz');
    const stillOpen = slow.filter((client) => !client.closed).length;
    expect(health.status).toBe(200);
    expect(stillOpen).toBe(5);
    await waitFor(() => slow.every((client) => client.closed), 'the header deadline to cut every trickling client', 15_000);
    for (const client of slow) expect(client.received).toMatch(/^HTTP\/1\.1 408 /);
  });

  it('closes the oldest idle connections beyond maxConnections, so /healthz gets in while slow clients fill every slot', async () => {
    const slow: SlowClient[] = [];
    for (let i = 0; i < LIMITS.maxConnections + 4; i++) slow.push(await trickler());
    // The four oldest made room for the four beyond the budget, with no answer.
    await waitFor(() => slow.filter((client) => client.closed).length >= 4, 'the oldest slow clients to be closed', 15_000);
    expect(slow.slice(0, 4).every((client) => client.closed && client.received === '')).toBe(true);
    expect(slow.slice(4).every((client) => !client.closed)).toBe(true);

    const health = await get('/healthz');
    expect(health.status).toBe(200);
    // The next oldest made room for the probe, with no answer either.
    await waitFor(() => slow[4]!.closed, 'the next oldest slow client to make room for the probe');
    expect(slow[4]!.received).toBe('');
    await waitFor(() => slow.every((client) => client.closed), 'every slow client to be cut', 15_000);
  });

  it('answers 431 to headers beyond maxHeaderBytes, 413 to a body beyond maxBodyBytes and 411 to a body without a length', async () => {
    const bigHeader = await raw(`GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: ${'a'.repeat(4_000)}\r\n\r\n`);
    expect(bigHeader).toMatch(/^HTTP\/1\.1 431 /);

    const bigBody = await fetch(`http://127.0.0.1:${port}/healthz`, { method: 'POST', body: 'x'.repeat(LIMITS.maxBodyBytes + 1) });
    expect(bigBody.status).toBe(413);
    expect(await bigBody.json()).toMatchObject({ error: 'request body too large' });

    const chunked = await raw('POST /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n');
    expect(chunked).toMatch(/^HTTP\/1\.1 411 /);

    const small = await fetch(`http://127.0.0.1:${port}/healthz`, { method: 'GET', headers: { 'x-fine': 'a'.repeat(500) } });
    expect(small.status).toBe(200);
  });

  it('without a token serves only loopback Host headers (DNS rebinding), and /healthz to any', async () => {
    for (const host of ['evil.example', `evil.example:${port}`, `127.0.0.1.nip.io:${port}`, 'a@127.0.0.1']) {
      for (const path of ['/', '/readyz', '/metrics', '/queues/']) {
        const refused = await get(path, host);
        expect(refused.status, `${host} ${path}`).toBe(403);
        expect(refused.body).not.toContain('evil.example');
      }
    }
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, 'LOCALHOST', `[::1]:${port}`]) {
      expect((await get('/metrics', host)).status, host).toBe(200);
    }
    expect((await get('/healthz', 'evil.example')).status).toBe(200);
  });

  it('sends no X-Powered-By and forbids framing on every path, bull-board included, whose page loads nothing from outside', async () => {
    for (const path of ['/healthz', '/readyz', '/metrics', '/', '/queues/', '/queues/api/queues', '/nowhere']) {
      const answer = await get(path);
      expect(answer.headers['x-powered-by'], path).toBeUndefined();
      expect(answer.headers['content-security-policy'], path).toContain("frame-ancestors 'none'");
      expect(answer.headers['x-frame-options'], path).toBe('DENY');
    }
    const board = await get('/queues/');
    expect(board.status).toBe(200);
    expect(board.body).toContain('static/js/');
    expect(board.body).not.toMatch(/fonts\.googleapis|https?:\/\/(?!www\.w3\.org)/);
    const csp = String(board.headers['content-security-policy']);
    expect(csp).toContain("font-src 'self'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toMatch(/https?:|\*/);
  });
});
