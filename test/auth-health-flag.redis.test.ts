import { describe, expect, it } from 'vitest';
import { HealthFlag } from '../src/state/health-flag.js';
import { Keys } from '../src/state/keys.js';
import { uniquePrefix } from './helpers/redis.js';
import { useRedis } from './helpers/use-redis.js';

describe('HealthFlag', () => {
  const { client } = useRedis();

  it('is healthy until a failure is reported, and a healthy report then is no change', async () => {
    const flag = new HealthFlag(client(), new Keys(uniquePrefix('flag')), 'auth');
    expect(await flag.read()).toEqual({ ok: true, reason: '', since: undefined });
    expect(await flag.report(true, '', 1_000)).toMatchObject({ changed: false, ok: true });
    expect(await flag.read()).toEqual({ ok: true, reason: '', since: undefined });
  });

  it('tells exactly one of two replicas that it changed the flag, each way', async () => {
    const keys = new Keys(uniquePrefix('flag'));
    const replicas = [new HealthFlag(client(), keys, 'auth'), new HealthFlag(client(), keys, 'auth')];
    const down = await Promise.all(
      Array.from({ length: 40 }, (_, index) => replicas[index % 2]!.report(false, `401 after refresh (${index})`, 10_000 + index)),
    );
    expect(down.filter((report) => report.changed)).toHaveLength(1);
    const first = down.find((report) => report.changed)!;
    expect(await replicas[1]!.read()).toEqual({ ok: false, reason: first.reason, since: first.since });

    const up = await Promise.all(Array.from({ length: 40 }, (_, index) => replicas[index % 2]!.report(true, '', 20_000 + index)));
    expect(up.filter((report) => report.changed)).toHaveLength(1);
    expect(await replicas[0]!.read()).toMatchObject({ ok: true, reason: '' });
  });

  it('ignores a report about a request that started before the last change', async () => {
    const flag = new HealthFlag(client(), new Keys(uniquePrefix('flag')), 'auth');
    expect((await flag.report(false, 'rejected', 5_000)).changed).toBe(true);
    expect(await flag.report(true, '', 4_999)).toMatchObject({ changed: false, ok: false, since: 5_000 });
    expect(await flag.report(true, '', 5_001)).toMatchObject({ changed: true, ok: true, since: 5_001 });
  });

  it('keeps flags of different names and deployments apart', async () => {
    const redis = client();
    const prefix = uniquePrefix('flag');
    const auth = new HealthFlag(redis, new Keys(prefix), 'auth');
    const polling = new HealthFlag(redis, new Keys(prefix), 'polling');
    const otherDeployment = new HealthFlag(redis, new Keys(uniquePrefix('flag')), 'auth');
    await auth.report(false, 'rejected', 1);
    expect((await polling.read()).ok).toBe(true);
    expect((await otherDeployment.read()).ok).toBe(true);
    expect(await redis.exists(new Keys(prefix).healthFlag('auth'))).toBe(1);
  });
});
