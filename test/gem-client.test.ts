import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { NoTokenProvider, type TokenProvider } from '../src/gem/auth/token-provider.js';
import { classifyHttpStatus } from '../src/domain/failure.js';
import { GemClient } from '../src/gem/client.js';
import { GemAuthError, GemNotFoundError, GemResponseError, isGemApiError } from '../src/gem/errors.js';
import { GemSimulator } from '../src/simulator/gem-simulator.js';
import { rejection } from './helpers/rejection.js';

class FixedToken implements TokenProvider {
  readonly kind = 'static';
  invalidations = 0;
  constructor(public token: string) {}
  async getToken() {
    return this.token;
  }
  invalidate() {
    this.invalidations += 1;
  }
}

const sim = new GemSimulator({ apiKey: 'key-123456', bearerToken: 'token-abcdef' });
let baseUrl = '';

beforeAll(async () => {
  baseUrl = await sim.start();
});
afterAll(() => sim.stop());
afterEach(() => {
  sim.clearJobs();
  sim.setFaults(undefined);
  sim.setBearerToken('token-abcdef');
  sim.detailShape = 'doc';
});

function client(overrides: Partial<ConstructorParameters<typeof GemClient>[0]> = {}) {
  return new GemClient({ baseUrl, apiKey: 'key-123456', tokenProvider: new FixedToken('token-abcdef'), timeoutMs: 2_000, ...overrides });
}

const failure = (promise: Promise<unknown>) => rejection(promise, isGemApiError);

describe('GemClient against the simulator', () => {
  it('lists jobs of one type in the list shape and fetches details in the doc shape', async () => {
    sim.upsertJob({ id: '123456789', jobType: 'ROAD_MATCHING', status: 'queued', inputFile: 'a.parquet' });
    sim.upsertJob({ id: '987654321', jobType: 'LANE_LEVEL_MATCHING', status: 'running', progress: 40 });
    const list = await client().listJobs('ROAD_MATCHING');
    expect(list.jobs).toHaveLength(1);
    expect(list.jobs[0]).toEqual({ id: '123456789', jobType: 'ROAD_MATCHING', status: 'queued', rawStatus: 'REQUESTED' });

    sim.setStatus('123456789', 'finished');
    const { job } = await client().getJob('123456789');
    expect(job).toMatchObject({ id: '123456789', jobType: 'ROAD_MATCHING', status: 'finished', rawStatus: 'finished' });
    expect(job.statistics?.roadsMatchedPct).toEqual(sim.getJob('123456789')!.statistics!.roadsMatchedPct);
  });

  it("reads details answered in the list's shape to the same model", async () => {
    sim.upsertJob({ id: '42', status: 'finished', outputFile: 'x.results.parquet' });
    sim.setStatus('42', 'finished');
    const doc = (await client().getJob('42')).job;
    sim.detailShape = 'list';
    const list = (await client().getJob('42')).job;
    expect({ ...list, rawStatus: '', modifiedAt: '' }).toEqual({ ...doc, rawStatus: '', modifiedAt: '' });
  });

  it('serves the singular detail path when configured so', async () => {
    sim.upsertJob({ id: 'job-1', status: 'running', progress: 10 });
    const { job } = await client({ detailPath: '/gem/job/{jobRunId}' }).getJob('job-1');
    expect(job.progress).toBe(10);
  });

  it('classifies a wrong API key as auth, and never puts the key in the message', async () => {
    const error = await failure(client({ apiKey: 'wrong-key-999' }).listJobs('ROAD_MATCHING'));
    expect(error).toBeInstanceOf(GemAuthError);
    expect(error.status).toBe(401);
    expect(error.message).not.toContain('wrong-key-999');
  });

  it('refreshes the token once after a 401 and succeeds with the new one', async () => {
    const tokens = new FixedToken('old-token-1');
    tokens.invalidate = function () {
      this.invalidations += 1;
      this.token = 'token-abcdef';
    };
    await expect(client({ tokenProvider: tokens }).listJobs('ROAD_MATCHING')).resolves.toBeDefined();
    expect(tokens.invalidations).toBe(1);
  });

  it('gives up with GemAuthError when the refreshed token is refused too', async () => {
    const tokens = new FixedToken('stale-token-1');
    const error = await failure(client({ tokenProvider: tokens }).getJob('1'));
    expect(error).toBeInstanceOf(GemAuthError);
    expect(error).toMatchObject({ reason: 'auth', retryable: false, status: 401 });
    expect(tokens.invalidations).toBe(1);
  });

  it('classifies every failing status by the shared table, as the channels do: a 408 is retried, a 400 or 403 is not', async () => {
    for (const status of [400, 403, 404, 408, 410, 429, 500, 503]) {
      sim.failNext(status, 1);
      const error = await failure(client().listJobs('ROAD_MATCHING'));
      const expected = classifyHttpStatus(status);
      expect(expected.ok).toBe(false);
      const { reason, retryable } = expected as Extract<typeof expected, { ok: false }>;
      expect({ status, reason: error.reason, retryable: error.retryable }).toEqual({ status, reason, retryable });
    }
    sim.failNext(408, 1);
    expect(await failure(client().getJob('1'))).toMatchObject({ reason: 'timeout', retryable: true, status: 408 });
    sim.failNext(403, 1);
    expect(await failure(client().getJob('1'))).toMatchObject({ name: 'GemAuthError', reason: 'auth', retryable: false, status: 403 });
  });

  it('answers 400 to a detail call without X-Version, as the docs require the header', async () => {
    sim.upsertJob({ id: '7' });
    const response = await fetch(`${baseUrl}/gem/jobs/7`, {
      headers: { 'tomtom-api-key': 'key-123456', authorization: 'Bearer token-abcdef' },
    });
    expect(response.status).toBe(400);
  });

  it('classifies 404 as not found, not retryable', async () => {
    const error = await failure(client().getJob('nope'));
    expect(error).toBeInstanceOf(GemNotFoundError);
    expect(error.retryable).toBe(false);
  });

  it('classifies 500 as a retryable server error and 429 with its Retry-After', async () => {
    sim.failNext(500, 1);
    const server = await failure(client().listJobs('ROAD_MATCHING'));
    expect(server).toMatchObject({ reason: 'serverError', retryable: true, status: 500 });
    sim.setFaults({ rate: 1, kinds: ['rateLimited'], retryAfterSec: 7 });
    const limited = await failure(client().listJobs('ROAD_MATCHING'));
    expect(limited).toMatchObject({ reason: 'rateLimited', retryable: true, retryAfterMs: 7_000 });
  });

  it('classifies malformed JSON as a bad response of its own class', async () => {
    sim.failNext('malformed');
    const error = await failure(client().listJobs('ROAD_MATCHING'));
    expect(error).toBeInstanceOf(GemResponseError);
    expect(error.reason).toBe('badResponse');
  });

  it('classifies a request that never answers as a timeout', async () => {
    sim.failNext('timeout');
    const error = await failure(client({ timeoutMs: 300 }).listJobs('ROAD_MATCHING'));
    expect(error).toMatchObject({ reason: 'timeout', retryable: true });
  });

  it('classifies a refused connection as a network error', async () => {
    const error = await failure(client({ baseUrl: 'http://127.0.0.1:1' }).listJobs('ROAD_MATCHING'));
    expect(error).toMatchObject({ reason: 'network', retryable: true });
  });

  it('refuses an answer larger than the limit', async () => {
    sim.failNext('huge');
    const error = await failure(client({ maxBodyBytes: 1024 * 1024 }).listJobs('ROAD_MATCHING'));
    expect(error).toBeInstanceOf(GemResponseError);
  });

  it('works without a bearer token when the API asks for none', async () => {
    sim.setBearerToken(undefined);
    await expect(client({ tokenProvider: new NoTokenProvider() }).listJobs('ROAD_MATCHING')).resolves.toMatchObject({ jobs: [] });
  });

  it('keeps ids beyond 2^53 exact', async () => {
    sim.upsertJob({ id: '12345678901234567890', status: 'queued' });
    // The simulator sends ids of up to 15 digits as numbers; this one as a string. Check the
    // client's own guard on a raw number too.
    const server = await import('node:http');
    const raw = server.createServer((_, response) => response.end('{"jobs":[{"job_id": 12345678901234567890, "status": "REQUESTED"}]}'));
    await new Promise<void>((resolve) => raw.listen(0, '127.0.0.1', resolve));
    const port = (raw.address() as { port: number }).port;
    const { jobs } = await client({ baseUrl: `http://127.0.0.1:${port}` }).listJobs('ROAD_MATCHING');
    raw.close();
    expect(jobs[0]!.id).toBe('12345678901234567890');
  });
});
