import { spawn } from 'node:child_process';
import { gzipSync } from 'node:zlib';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from './helpers/free-port.js';
import { startRawHttpServer, type RawHttpServer } from './helpers/raw-http-server.js';
import type { TokenProvider } from '../src/gem/auth/token-provider.js';
import { GemClient, type GemClientOptions } from '../src/gem/client.js';
import { GemResponseError, isGemApiError } from '../src/gem/errors.js';
import { rejection } from './helpers/rejection.js';

/**
 * The client's HTTP transport against a raw local server that misbehaves on purpose: answers that
 * stall or trickle, bodies over the limit with and without Content-Length, compressed answers, and
 * the keep-alive connection that must survive every answer the client gives up on.
 */

const API_KEY = 'key-Transport-5ecret';
const TOKEN = 'token-Transport-5ecret';

let server: RawHttpServer;
beforeAll(async () => {
  server = await startRawHttpServer((_, response) => response.end('{}'));
});
afterAll(() => server.close());
afterEach(() => server.reset());

class RotatingToken implements TokenProvider {
  readonly kind = 'static';
  constructor(public token: string) {}
  async getToken() {
    return this.token;
  }
  invalidate() {
    this.token = TOKEN;
  }
}

const clients: GemClient[] = [];
afterAll(async () => {
  await Promise.all(clients.map((client) => client.close()));
});

function client(overrides: Partial<GemClientOptions> = {}): GemClient {
  const created = new GemClient({ baseUrl: server.baseUrl, apiKey: API_KEY, tokenProvider: new RotatingToken(TOKEN), timeoutMs: 2_000, ...overrides });
  clients.push(created);
  return created;
}

const failure = (promise: Promise<unknown>) => rejection(promise, isGemApiError);

function expectNoSecret(error: unknown): void {
  const text = `${String((error as Error).message)} ${JSON.stringify(error)} ${String(((error as Error).cause as Error | undefined)?.message)}`;
  expect(text).not.toContain(API_KEY);
  expect(text).not.toContain(TOKEN);
}

const DETAIL = JSON.stringify({ jobRunId: 'job-1', status: 'RUNNING', progress: 50 });

describe('GemClient transport', () => {
  it('sends the documented headers on both calls', async () => {
    server.handler = (request, response) => response.end(request.url!.includes('job_type') ? '{"jobs":[]}' : DETAIL);
    await client().listJobs('ROAD_MATCHING');
    await client({ apiVersion: '2' }).getJob('job-1');
    const [list, detail] = server.requests;
    for (const request of [list!, detail!]) {
      expect(request.headers['tomtom-api-key']).toBe(API_KEY);
      expect(request.headers.authorization).toBe(`Bearer ${TOKEN}`);
      expect(request.headers.accept).toBe('application/json');
    }
    expect(list!.headers['x-version']).toBeUndefined();
    expect(detail!.headers['x-version']).toBe('2');
  });

  it('carries sequential requests, and the answers it gives up on, over one keep-alive connection', async () => {
    let call = 0;
    // Error bodies past undici's 64 KiB buffer: one left unread would hold its socket.
    const padding = ' '.repeat(100 * 1024);
    server.handler = (request, response) => {
      call += 1;
      if (call === 2) return void response.writeHead(404, { 'content-type': 'application/json' }).end(`{"error":"Not Found"}${padding}`);
      if (call === 3) return void response.writeHead(503, { 'retry-after': '3' }).end(`{"error":"busy"}${padding}`);
      if (call === 4) return void response.writeHead(401).end(`{"error":"Unauthorized"}${padding}`);
      response.end(DETAIL);
    };
    const gem = client();
    // undici hands a connection back to its pool in a microtask after the body ends; a request
    // sent in the same tick would open a second one. A turn of the event loop between calls makes
    // the count exact, so an answer whose socket were never freed would show as a new connection.
    const turn = () => new Promise((resolve) => setImmediate(resolve));
    await gem.getJob('job-1');
    await turn();
    expect(await failure(gem.getJob('job-1'))).toMatchObject({ reason: 'notFound', status: 404 });
    await turn();
    expect(await failure(gem.getJob('job-1'))).toMatchObject({ reason: 'serverError', status: 503, retryAfterMs: 3_000 });
    expect(server.connections).toBe(1);
    await turn();
    // A 401, the token refreshed, then 200. The retry follows the drained 401 in the same tick,
    // so undici may give it a second connection; both are reused from then on.
    await gem.getJob('job-1');
    const afterRetry = server.connections;
    expect(afterRetry).toBeLessThanOrEqual(2);
    for (let i = 0; i < 5; i += 1) {
      await turn();
      await gem.getJob('job-1');
    }
    expect(call).toBe(10);
    expect(server.connections).toBe(afterRetry);
  });

  it('times out an answer that stalls mid-body within about timeoutMs', async () => {
    server.handler = (_, response) => {
      response.writeHead(200, { 'content-type': 'application/json', 'content-length': '1000' });
      response.write('{"jobRunId": "job-1", ');
    };
    const started = Date.now();
    const error = await failure(client({ timeoutMs: 300 }).getJob('job-1'));
    expect(error).toMatchObject({ reason: 'timeout', retryable: true });
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    expect(Date.now() - started).toBeLessThan(1_500);
    expectNoSecret(error);
  });

  it('times out an answer that trickles without pause: the deadline is total, not between chunks', async () => {
    server.handler = (_, response) => {
      response.writeHead(200, { 'content-type': 'application/json' });
      const timer = setInterval(() => response.write(' '), 50);
      response.on('close', () => clearInterval(timer));
    };
    const started = Date.now();
    const error = await failure(client({ timeoutMs: 400 }).listJobs('ROAD_MATCHING'));
    expect(error).toMatchObject({ reason: 'timeout', retryable: true });
    expect(Date.now() - started).toBeLessThan(1_500);
  });

  it('times out a server that never answers, and reports the outcome once', async () => {
    server.handler = () => {};
    const outcomes: string[] = [];
    const credentials: boolean[] = [];
    const started = Date.now();
    const error = await failure(
      client({ timeoutMs: 300, onRequest: (_, outcome) => outcomes.push(outcome), onCredentials: (ok) => void credentials.push(ok) }).getJob('job-1'),
    );
    expect(error).toMatchObject({ reason: 'timeout', retryable: true });
    expect(Date.now() - started).toBeLessThan(1_500);
    expect(outcomes).toEqual(['timeout']);
    expect(credentials).toEqual([]);
    expectNoSecret(error);
  });

  it('refuses an answer over the limit that declares no Content-Length, without reading it all', async () => {
    let written = 0;
    server.handler = (_, response) => {
      response.writeHead(200, { 'content-type': 'application/json' });
      const chunk = 'x'.repeat(64 * 1024);
      const pump = () => {
        while (written < 64 * 1024 * 1024 && !response.destroyed) {
          written += chunk.length;
          if (!response.write(chunk)) return void response.once('drain', pump);
        }
        response.end();
      };
      pump();
    };
    const outcomes: string[] = [];
    const error = await failure(client({ maxBodyBytes: 256 * 1024, onRequest: (_, outcome) => outcomes.push(outcome) }).listJobs('ROAD_MATCHING'));
    expect(error).toBeInstanceOf(GemResponseError);
    expect(error).toMatchObject({ reason: 'badResponse', retryable: true, status: 200 });
    expect(error.message).toContain('limit');
    expect(outcomes).toEqual(['badResponse']);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(written).toBeLessThan(16 * 1024 * 1024);
  });

  it('refuses an answer whose Content-Length is over the limit', async () => {
    server.handler = (_, response) => {
      response.writeHead(200, { 'content-type': 'application/json', 'content-length': String(2 * 1024 * 1024) });
      response.write('{"jobs": [');
    };
    const error = await failure(client({ maxBodyBytes: 1024 * 1024 }).listJobs('ROAD_MATCHING'));
    expect(error).toBeInstanceOf(GemResponseError);
    expect(error.message).toContain(`answer of ${2 * 1024 * 1024} bytes exceeds`);
  });

  it('allows one job’s details far less than a list: 8 MiB by default', async () => {
    const answer = (bytes: number): RawHttpServer['handler'] => (_, response) => {
      response.writeHead(200, { 'content-type': 'application/json', 'content-length': String(bytes) });
      response.end(JSON.stringify({ jobRunId: 'job-1', status: 'running', padding: 'x'.repeat(bytes - 60) }).padEnd(bytes));
    };
    server.handler = answer(9 * 1024 * 1024);
    const error = await failure(client().getJob('job-1'));
    expect(error).toBeInstanceOf(GemResponseError);
    expect(error.message).toContain(`answer of ${9 * 1024 * 1024} bytes exceeds`);
    server.handler = answer(7 * 1024 * 1024);
    await expect(client().getJob('job-1')).resolves.toMatchObject({ job: { id: 'job-1' } });
  });

  it('reads a gzip answer, and refuses one that inflates past the limit', async () => {
    let body = gzipSync(DETAIL);
    server.handler = (request, response) => {
      expect(request.headers['accept-encoding']).toContain('gzip');
      response.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip' }).end(body);
    };
    const { job } = await client().getJob('job-1');
    expect(job).toMatchObject({ id: 'job-1', status: 'running', progress: 50 });
    body = gzipSync(JSON.stringify({ jobRunId: 'job-1', status: 'RUNNING', padding: ' '.repeat(4 * 1024 * 1024) }));
    expect(body.length).toBeLessThan(64 * 1024);
    const error = await failure(client({ maxBodyBytes: 1024 * 1024 }).getJob('job-1'));
    expect(error).toBeInstanceOf(GemResponseError);
    expect(error.message).toContain('decompressed');
  });

  it('reads an answer that starts with a byte order mark, as fetch did', async () => {
    server.handler = (_, response) => response.end(`\ufeff${DETAIL}`);
    await expect(client().getJob('job-1')).resolves.toMatchObject({ job: { id: 'job-1' } });
  });

  it('calls a connection dropped mid-answer unreadable, and a refused one a network error', async () => {
    server.handler = (request, response) => {
      response.writeHead(200, { 'content-length': '500' });
      response.write('{"jobs"', () => request.socket.destroy());
    };
    const dropped = await failure(client().listJobs('ROAD_MATCHING'));
    expect(dropped).toMatchObject({ reason: 'badResponse', retryable: true });
    const port = await freePort();
    const refused = await failure(client({ baseUrl: `http://127.0.0.1:${port}` }).listJobs('ROAD_MATCHING'));
    expect(refused).toMatchObject({ reason: 'network', retryable: true });
    expect(refused.message).toContain('ECONNREFUSED');
    expectNoSecret(refused);
  });

  it('does not follow a redirect, so the API key never goes elsewhere', async () => {
    server.handler = (_, response) => response.writeHead(302, { location: 'http://127.0.0.2:1/elsewhere' }).end();
    const error = await failure(client().listJobs('ROAD_MATCHING'));
    expect(error).toMatchObject({ reason: 'clientError', retryable: false, status: 302 });
    expect(server.requests).toHaveLength(1);
  });

  it('lets a one-shot process exit at once with an idle keep-alive connection open', async () => {
    server.handler = (_, response) => response.end('{"jobs":[]}');
    const script = [
      "import { GemClient } from './src/gem/client.ts';",
      "import { NoTokenProvider } from './src/gem/auth/token-provider.ts';",
      `const client = new GemClient({ baseUrl: '${server.baseUrl}', apiKey: 'k', tokenProvider: new NoTokenProvider() });`,
      "await client.listJobs('ROAD_MATCHING');",
      "console.log('listed');",
    ].join('\n');
    let listedAt = 0;
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('listed')) listedAt ||= Date.now();
    });
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(output).toContain('listed');
    expect(code).toBe(0);
    expect(server.connections).toBe(1);
    // The server would keep the connection for 30 s; the process must not wait for it.
    expect(Date.now() - listedAt).toBeLessThan(2_000);
  });
});
