import { Writable } from 'node:stream';
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { loadConfigWithSecrets } from '../src/config-secrets.js';
import { GemClient } from '../src/gem/client.js';
import { isGemAuthError } from '../src/gem/errors.js';
import { CachedTokenProvider } from '../src/gem/auth/cached-token-provider.js';
import { credentialAlert, CREDENTIAL_DOWN_TITLE, CREDENTIAL_UP_TITLE } from '../src/gem/auth/credential-alert.js';
import { CredentialHealth, type CredentialHealthChange } from '../src/gem/auth/credential-health.js';
import { createTokenProvider, type AuthSettings } from '../src/gem/auth/create-token-provider.js';
import { createLogger, type Logger } from '../src/telemetry/logger.js';
import { clearSecrets, serializeError } from '../src/telemetry/redact.js';
import { QUEUE_NAMES } from '../src/queue/names.js';
import { notifyTaskId, type NotifyTaskData } from '../src/notify/task.js';
import { GemSimulator } from '../src/simulator/gem-simulator.js';
import { HealthFlag } from '../src/state/health-flag.js';
import { Keys } from '../src/state/keys.js';
import { FakeAz, makeJwt } from './auth-fake-az.js';
import { startRedis, uniquePrefix, type TestRedis } from './helpers/redis.js';
import { dumpRedis } from './helpers/redis-dump.js';

const HOUR_MS = 3_600_000;

/** Every log line of the test, as the process would write it (JSON, trace level: the most verbose). */
function captureLogs(): { lines: string[]; logger: Logger } {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk, _encoding, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  return { lines, logger: createLogger({ level: 'trace', pretty: 'false', destination }) };
}

/** Everything an error can show when logged or stored. */
function errorSurface(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  return [error.message, error.stack ?? '', JSON.stringify(serializeError(error)), String(error.cause), JSON.stringify(error)].join('\n');
}

describe('bearer tokens against the GEM simulator', () => {
  let server: TestRedis;
  let redis: Redis;
  let sim: GemSimulator;
  let az: FakeAz;
  let logs: ReturnType<typeof captureLogs>;
  /** The test's clock: real time plus whatever the test skipped ahead. */
  let skippedMs = 0;
  const clock = () => Date.now() + skippedMs;
  const tokensSeen: string[] = [];
  const errorsSeen: unknown[] = [];

  beforeAll(async () => {
    server = await startRedis();
    redis = server.client();
    redis.on('error', () => {});
  });
  afterAll(async () => {
    redis.disconnect();
    await server.close();
  });

  beforeEach(async () => {
    skippedMs = 0;
    az = new FakeAz();
    sim = new GemSimulator({ apiKey: 'sim-api-key-e2e' });
    await sim.start();
    sim.upsertJob({ id: '4242', status: 'running', progress: 40 });
    logs = captureLogs();
  });
  afterEach(async () => {
    await sim.stop();
    az.close();
    clearSecrets();
    // The promise of the brief: no token in any log line or error of any test.
    for (const token of tokensSeen) {
      for (const line of logs.lines) expect(line).not.toContain(token);
      for (const error of errorsSeen) expect(errorSurface(error)).not.toContain(token);
    }
    tokensSeen.length = 0;
    errorsSeen.length = 0;
  });

  /** A token the fake az prints and the simulator accepts from now on (a rotation). */
  function rotate(expiresInMs = HOUR_MS, id?: string): string {
    const token = makeJwt(Math.floor((clock() + expiresInMs) / 1000), id);
    tokensSeen.push(token);
    az.setToken(token);
    sim.setBearerToken(token);
    return token;
  }

  /** The auth settings as gem-watch would load them, GEM_BEARER_TOKEN_COMMAND set. */
  function authConfig(env: Record<string, string> = {}): AuthSettings {
    return loadConfigWithSecrets({
      env: { GEM_API_KEY: sim.apiKey, GEM_API_BASE_URL: sim.baseUrl, GEM_BEARER_TOKEN_COMMAND: az.command(), ...env },
    }).gem.auth;
  }

  /** One gem-watch replica: its own token provider and client, the shared health flag. */
  function replica(keys: Keys, changes: CredentialHealthChange[], auth: AuthSettings = authConfig()) {
    const tokenProvider = createTokenProvider(auth, logs.logger, { clock });
    const client = new GemClient({ baseUrl: sim.baseUrl, apiKey: sim.apiKey, tokenProvider, timeoutMs: 5_000 });
    const health = new CredentialHealth({
      flag: new HealthFlag(redis, keys, 'auth'),
      logger: logs.logger,
      clock,
      onChange: (change) => void changes.push(change),
    });
    const poll = async () => {
      try {
        return await health.track(() => client.listJobs('ROAD_MATCHING'));
      } catch (error) {
        errorsSeen.push(error);
        logs.logger.warn({ err: error }, 'poll failed');
        throw error;
      }
    };
    return { tokenProvider, client, health, poll };
  }

  it('selects the command provider from GEM_BEARER_TOKEN_COMMAND, and static from GEM_BEARER_TOKEN', () => {
    expect(createTokenProvider(authConfig(), logs.logger).kind).toBe('command');
    const fixed = rotate();
    expect(createTokenProvider(authConfig({ GEM_BEARER_TOKEN_COMMAND: '', GEM_BEARER_TOKEN: fixed }), logs.logger).kind).toBe('static');
    expect(createTokenProvider(authConfig({ GEM_BEARER_TOKEN_COMMAND: '' }), logs.logger).kind).toBe('none');
    expect(createTokenProvider(authConfig({ GEM_AUTH_PROVIDER: 'azure' }), logs.logger).kind).toBe('azure');
  });

  it('after a rotation the next poll succeeds with the new token', async () => {
    const changes: CredentialHealthChange[] = [];
    const gemWatch = replica(new Keys(uniquePrefix('auth-e2e')), changes);
    rotate();
    expect((await gemWatch.poll()).jobs.map((job) => job.id)).toEqual(['4242']);
    rotate();
    expect((await gemWatch.poll()).jobs.map((job) => job.id)).toEqual(['4242']);
    // The old token was refused once, the command ran once more, and the retry was accepted.
    expect(sim.counts.byStatus[401]).toBe(1);
    expect(az.runs()).toBe(2);
    expect(changes).toEqual([]);
    expect(gemWatch.health.healthy).toBe(true);
  });

  it('runs the command once for twenty concurrent requests, and once more when all twenty meet a rotation', async () => {
    const gemWatch = replica(new Keys(uniquePrefix('auth-e2e')), []);
    rotate();
    az.setDelay(0.2);
    const first = await Promise.all(Array.from({ length: 20 }, () => gemWatch.client.getJob('4242')));
    expect(first.every((result) => result.job.id === '4242')).toBe(true);
    expect(az.runs()).toBe(1);

    rotate();
    const second = await Promise.all(Array.from({ length: 20 }, () => gemWatch.client.getJob('4242')));
    expect(second.every((result) => result.job.id === '4242')).toBe(true);
    expect(sim.counts.byStatus[401]).toBe(20);
    expect(az.runs()).toBe(2);
  });

  it('refreshes an expired JWT before using it', async () => {
    const gemWatch = replica(new Keys(uniquePrefix('auth-e2e')), []);
    rotate(HOUR_MS);
    await gemWatch.poll();
    // An hour later the cached JWT has expired; GEM now accepts only the new one.
    skippedMs += HOUR_MS;
    rotate(HOUR_MS);
    await gemWatch.poll();
    expect(az.runs()).toBe(2);
    // Refreshed before use: the expired token never reached GEM.
    expect(sim.counts.byStatus[401]).toBeUndefined();
    expect((gemWatch.tokenProvider as CachedTokenProvider).state()).toMatchObject({ expirySource: 'jwt', kind: 'command' });
  });

  it('a failing command yields the alert once and recovery the recovery message once, across two replicas', async () => {
    const keys = new Keys(uniquePrefix('auth-e2e'));
    const changes: CredentialHealthChange[] = [];
    const replicas = [replica(keys, changes), replica(keys, changes)];
    rotate();
    az.setBehaviour('fail-login');
    for (let round = 0; round < 3; round += 1) {
      const outcomes = await Promise.allSettled(replicas.flatMap((one) => [one.poll(), one.poll()]));
      expect(outcomes.every((outcome) => outcome.status === 'rejected' && isGemAuthError(outcome.reason))).toBe(true);
      // Past the provider's cooldown, so every round runs the command again.
      skippedMs += 11_000;
    }
    expect(az.runs()).toBe(6);
    expect(changes).toHaveLength(1);
    expect(changes[0]).toMatchObject({ healthy: false });
    expect(changes[0]!.reason).toMatch(/GEM_BEARER_TOKEN_COMMAND\) exited with code 1/);
    expect(changes[0]!.reason).toContain('az login');
    expect(replicas.map((one) => one.health.healthy)).toEqual([false, false]);

    az.setBehaviour('ok');
    for (let round = 0; round < 3; round += 1) {
      await Promise.all(replicas.flatMap((one) => [one.poll(), one.poll()]));
      skippedMs += 11_000;
    }
    expect(changes.map((change) => change.healthy)).toEqual([false, true]);
    expect(replicas.map((one) => one.health.healthy)).toEqual([true, true]);

    const down = credentialAlert(changes[0]!, 'command');
    const up = credentialAlert(changes[1]!, 'command');
    expect([down.title, up.title]).toEqual([CREDENTIAL_DOWN_TITLE, CREDENTIAL_UP_TITLE]);
    expect(logs.lines.filter((line) => line.includes('GEM refuses the credentials'))).toHaveLength(1);
    expect(logs.lines.filter((line) => line.includes('GEM accepts the credentials again'))).toHaveLength(1);
  });

  it('a 401 that survives the refresh, or a 403, marks the credentials unhealthy; a 5xx does not', async () => {
    const keys = new Keys(uniquePrefix('auth-e2e'));
    const changes: CredentialHealthChange[] = [];
    const gemWatch = replica(keys, changes);
    const accepted = rotate();
    // The command keeps printing a token GEM no longer takes.
    const refused = makeJwt(Math.floor((clock() + HOUR_MS) / 1000), 'refused');
    tokensSeen.push(refused);
    az.setToken(refused);
    const error = await gemWatch.poll().catch((thrown: unknown) => thrown);
    expect(isGemAuthError(error)).toBe(true);
    expect(sim.counts.byStatus[401]).toBe(2);
    expect(changes.map((change) => change.healthy)).toEqual([false]);

    az.setToken(accepted);
    gemWatch.tokenProvider.invalidate();
    await gemWatch.poll();
    expect(changes.map((change) => change.healthy)).toEqual([false, true]);

    sim.failNext(503);
    await expect(gemWatch.poll()).rejects.toThrow(/503/);
    expect(gemWatch.health.healthy).toBe(true);

    sim.failNext(403);
    await expect(gemWatch.poll()).rejects.toThrow(/403/);
    expect(changes.map((change) => change.healthy)).toEqual([false, true, false]);
    await gemWatch.poll();
    expect(changes.map((change) => change.healthy)).toEqual([false, true, false, true]);
  });

  it('an expired static token is reported once, not per request', async () => {
    const keys = new Keys(uniquePrefix('auth-e2e'));
    const changes: CredentialHealthChange[] = [];
    const fixed = rotate();
    const gemWatch = replica(keys, changes, authConfig({ GEM_BEARER_TOKEN_COMMAND: '', GEM_BEARER_TOKEN: fixed }));
    await gemWatch.poll();
    rotate();
    for (let i = 0; i < 5; i += 1) await expect(gemWatch.poll()).rejects.toSatisfy(isGemAuthError);
    expect(changes).toHaveLength(1);
    expect(credentialAlert(changes[0]!, gemWatch.tokenProvider.kind).detail).toContain('GEM_BEARER_TOKEN is a fixed token');
  });

  it('keeps every token out of logs, errors, the health flag and the alert tasks in BullMQ', async () => {
    const prefix = uniquePrefix('auth-e2e');
    const keys = new Keys(prefix);
    const changes: CredentialHealthChange[] = [];
    const gemWatch = replica(keys, changes);
    const queue = new Queue<NotifyTaskData>(QUEUE_NAMES.notify, { connection: { host: '127.0.0.1', port: server.port }, prefix });
    queue.on('error', () => {});
    // As the lead wires it: every change becomes one alert task for the default route.
    const enqueue = async (change: CredentialHealthChange) => {
      const data: NotifyTaskData = { alert: credentialAlert(change, gemWatch.tokenProvider.kind), route: 'default', channel: 'slack', target: 'default' };
      await queue.add('alert', data, { jobId: notifyTaskId(data) });
    };
    try {
      const first = rotate();
      await gemWatch.poll();
      rotate();
      await gemWatch.poll();
      // The command now prints a token GEM refuses: the refused token travels through a 401 twice.
      const refused = makeJwt(Math.floor((clock() + HOUR_MS) / 1000), 'refused');
      tokensSeen.push(refused);
      az.setToken(refused);
      gemWatch.tokenProvider.invalidate();
      await expect(gemWatch.poll()).rejects.toSatisfy(isGemAuthError);
      az.setFormat('json');
      rotate();
      gemWatch.tokenProvider.invalidate();
      await gemWatch.poll();
      for (const change of changes) await enqueue(change);

      expect(changes.map((change) => change.healthy)).toEqual([false, true]);
      const jobs = await queue.getJobs(['wait', 'delayed', 'active', 'completed', 'failed']);
      expect(jobs.map((job) => job.data.alert?.state).sort()).toEqual(['down', 'up']);
      const stored = await dumpRedis(redis, [prefix]);
      expect(stored).toContain(CREDENTIAL_DOWN_TITLE);
      for (const token of [first, ...tokensSeen]) expect(stored).not.toContain(token);
      expect(logs.lines.length).toBeGreaterThan(5);
    } finally {
      await queue.close();
    }
  });
});
