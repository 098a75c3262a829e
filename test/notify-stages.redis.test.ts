import { describe, expect, it } from 'vitest';
import { useRedis } from './helpers/use-redis.js';
import { uniquePrefix } from './helpers/redis.js';
import { DeliveryDedup, dedupSettings } from '../src/notify/stages/dedup.js';
import { EndpointGate } from '../src/notify/stages/rate-gate.js';
import { silentLogger } from '../src/telemetry/logger.js';
import { Keys } from '../src/state/keys.js';

/** The two delivery stages that keep their state in Redis, each on its own, over a real server. */

const redis = useRedis();
const settings = { lockTtlMs: 10_000, markerTtlMs: 60_000 };

describe('dedup stage', () => {
  it('lets one sender hold a task, tells a second how long to wait, and lets it in once released', async () => {
    const keys = new Keys(uniquePrefix('dedup'));
    const dedup = new DeliveryDedup(redis.client(), keys, settings);
    const first = await dedup.claim('notify-a', silentLogger());
    expect(first).toMatchObject({ locked: true, previous: null });
    const second = await dedup.claim('notify-a', silentLogger());
    expect(second).toMatchObject({ locked: false, waitMs: expect.any(Number) });
    const waitMs = second.locked ? 0 : second.waitMs;
    expect(waitMs).toBeGreaterThan(0);
    expect(waitMs).toBeLessThanOrEqual(5_000);
    if (first.locked) await first.release();
    expect((await dedup.claim('notify-a', silentLogger())).locked).toBe(true);
  });

  it('finds the marker a sender wrote before releasing, with its time and receipt', async () => {
    const keys = new Keys(uniquePrefix('dedup'));
    const client = redis.client();
    const dedup = new DeliveryDedup(client, keys, settings);
    const lock = await dedup.claim('notify-b', silentLogger());
    if (!lock.locked) throw new Error('expected the lock');
    // Issued in this order on one connection, as the delivery does: marker first, then release.
    const marking = lock.mark({ at: 1_234, channel: 'slack', target: 'default', detail: 'ok' }, {});
    const releasing = lock.release();
    await Promise.all([marking, releasing]);
    expect(await dedup.claim('notify-b', silentLogger())).toMatchObject({ locked: true, previous: { at: 1_234, detail: 'ok' } });
    expect(await client.pttl(keys.delivered('notify-b'))).toBeGreaterThan(50_000);
  });

  it('takes an unreadable marker for a delivered task all the same', async () => {
    const keys = new Keys(uniquePrefix('dedup'));
    const client = redis.client();
    await client.set(keys.delivered('notify-c'), 'not json');
    expect(await new DeliveryDedup(client, keys, settings).claim('notify-c', silentLogger())).toMatchObject({ locked: true, previous: {} });
  });

  it('keeps the lock longer than the slowest send and the marker for retention.deliveriesDays', () => {
    expect(dedupSettings({ retention: { deliveriesDays: 2 }, slack: { timeoutMs: 10_000 }, email: { connectionTimeoutMs: 5_000, socketTimeoutMs: 30_000 } } as never)).toEqual({
      lockTtlMs: 75_000,
      markerTtlMs: 172_800_000,
    });
  });
});

describe('rate-gate stage', () => {
  it('never waits for a channel without a per-target limit', async () => {
    const gate = new EndpointGate(redis.client(), new Keys(uniquePrefix('gate')));
    expect(await gate.admit({}, 'email', 'route')).toBe(0);
    expect(await gate.admit({}, 'email', 'route')).toBe(0);
  });

  it('gives an endpoint one slot per interval, and shuts it for a Retry-After', async () => {
    const gate = new EndpointGate(redis.client(), new Keys(uniquePrefix('gate')));
    const slack = { perTargetPerSecond: 1 };
    expect(await gate.admit(slack, 'slack', 'a')).toBe(0);
    const wait = await gate.admit(slack, 'slack', 'a');
    expect(wait).toBeGreaterThan(0);
    expect(wait).toBeLessThanOrEqual(1_000);
    // Another endpoint of the same channel has a gate of its own.
    expect(await gate.admit(slack, 'slack', 'b')).toBe(0);
    await gate.hold('slack', 'c', 30_000);
    expect(await gate.admit(slack, 'slack', 'c')).toBeGreaterThan(20_000);
  });
});
