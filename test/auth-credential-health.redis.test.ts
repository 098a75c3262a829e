import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { credentialAlert, CREDENTIAL_DOWN_TITLE, CREDENTIAL_UP_TITLE } from '../src/gem/auth/credential-alert.js';
import { CredentialHealth, type CredentialHealthChange } from '../src/gem/auth/credential-health.js';
import { createLogger } from '../src/telemetry/logger.js';
import { HealthFlag } from '../src/state/health-flag.js';
import { Keys } from '../src/state/keys.js';
import { uniquePrefix } from './helpers/redis.js';
import { useRedis } from './helpers/use-redis.js';

class AuthFailure extends Error {
  readonly reason = 'auth';
}
class ServerFailure extends Error {
  readonly reason = 'serverError';
}

function captureLogs() {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk, _encoding, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  return { lines, logger: createLogger({ level: 'debug', pretty: 'false', destination }) };
}

describe('CredentialHealth', () => {
  const redis = useRedis();
  const { client } = redis;

  function replicas(count: number) {
    const keys = new Keys(uniquePrefix('cred'));
    const changes: Array<CredentialHealthChange & { replica: number }> = [];
    const { lines, logger } = captureLogs();
    const all = Array.from(
      { length: count },
      (_, replica) =>
        new CredentialHealth({
          flag: new HealthFlag(client(), keys, 'auth'),
          logger,
          onChange: (change) => {
            changes.push({ ...change, replica });
          },
        }),
    );
    return { all, changes, lines, keys };
  }

  it('calls onChange once per change across two replicas, and logs each change once', async () => {
    const { all, changes, lines } = replicas(2);
    const refused = () => Promise.reject(new AuthFailure('GEM list call rejected (401) after a token refresh'));
    const failures = await Promise.allSettled(all.flatMap((health) => Array.from({ length: 10 }, () => health.track(refused))));
    expect(failures.every((outcome) => outcome.status === 'rejected')).toBe(true);
    expect(changes).toEqual([expect.objectContaining({ healthy: false, reason: 'GEM list call rejected (401) after a token refresh' })]);
    expect(all.map((health) => health.healthy)).toEqual([false, false]);

    const results = await Promise.all(all.flatMap((health) => Array.from({ length: 10 }, () => health.track(async () => 'jobs'))));
    expect(results).toEqual(Array(20).fill('jobs'));
    expect(changes.map((change) => change.healthy)).toEqual([false, true]);
    expect(all.map((health) => health.healthy)).toEqual([true, true]);

    expect(lines.filter((line) => line.includes('GEM refuses the credentials'))).toHaveLength(1);
    expect(lines.filter((line) => line.includes('GEM accepts the credentials again'))).toHaveLength(1);
  });

  it('ignores failures that say nothing about credentials', async () => {
    const { all, changes } = replicas(1);
    await expect(all[0]!.track(() => Promise.reject(new ServerFailure('GEM list call failed on the server (503)')))).rejects.toThrow('503');
    await expect(all[0]!.track(() => Promise.reject(new Error('plain')))).rejects.toThrow('plain');
    expect(changes).toEqual([]);
    expect(all[0]!.healthy).toBe(true);
  });

  it('lets a replica that made no request learn the shared state with sync', async () => {
    const { all } = replicas(2);
    await all[0]!.recordFailure(new AuthFailure('GEM list call forbidden (403)'));
    expect(all[1]!.healthy).toBe(true);
    expect(await all[1]!.sync()).toBe(false);
    expect(all[1]!.reason).toContain('403');
  });

  it('survives an onChange that throws, and logs it', async () => {
    const { lines, logger } = captureLogs();
    const health = new CredentialHealth({
      flag: new HealthFlag(client(), new Keys(uniquePrefix('cred')), 'auth'),
      logger,
      onChange: () => {
        throw new Error('queue unavailable');
      },
    });
    await health.recordFailure(new AuthFailure('refused'));
    expect(health.healthy).toBe(false);
    expect(lines.some((line) => line.includes('could not hand the credential state change to the alert'))).toBe(true);
  });

  it('masks anything token-like in the reason it stores and passes on', async () => {
    const { all, changes, keys } = replicas(1);
    const opaque = 'Zk9xQ2lWbmRqT1pQcVh3eUtMbU5vUHFSc1R1VndYeVo0Mw';
    await all[0]!.recordFailure(new AuthFailure(`GEM said: token ${opaque} is not valid`));
    expect(changes[0]!.reason).not.toContain(opaque);
    expect(JSON.stringify(await client().hgetall(keys.healthFlag('auth')))).not.toContain(opaque);
  });

  it('keeps its own view and sends no alert while Redis is down, then reports again', async () => {
    const { lines, logger } = captureLogs();
    const changes: CredentialHealthChange[] = [];
    // Fails commands fast while the server is down, instead of queueing them until it returns.
    const flagRedis = client({ maxRetriesPerRequest: 1, retryStrategy: () => 200 });
    const health = new CredentialHealth({ flag: new HealthFlag(flagRedis, new Keys(uniquePrefix('cred')), 'auth'), logger, onChange: (c) => void changes.push(c) });
    await redis.server.stop();
    await health.recordFailure(new AuthFailure('refused'));
    await health.recordFailure(new AuthFailure('refused'));
    expect(health.healthy).toBe(false);
    expect(changes).toEqual([]);
    expect(lines.filter((line) => line.includes('cannot reach the shared credential health flag'))).toHaveLength(1);
    await redis.server.start();
    await flagRedis.ping();
    await health.recordFailure(new AuthFailure('refused'));
    expect(changes).toEqual([expect.objectContaining({ healthy: false })]);
  });
});

describe('credentialAlert', () => {
  it('builds the down and up alerts of kind auth with the advice for the provider', () => {
    const down = credentialAlert({ healthy: false, reason: 'cannot get a bearer token (command): exited with code 1.', since: 1_000 }, 'command');
    expect(down).toMatchObject({ kind: 'auth', state: 'down', title: CREDENTIAL_DOWN_TITLE, since: 1_000 });
    expect(down.detail).toContain('exited with code 1. Check that GEM_BEARER_TOKEN_COMMAND works');
    const up = credentialAlert({ healthy: true, reason: '', since: 2_000 }, 'command');
    expect(up).toMatchObject({ kind: 'auth', state: 'up', title: CREDENTIAL_UP_TITLE, since: 2_000 });
    expect(CREDENTIAL_DOWN_TITLE).toBe('gem-watch cannot authenticate to GEM');
  });
});
