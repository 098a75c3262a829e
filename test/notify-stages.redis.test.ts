import { describe, expect, it } from 'vitest';
import { useRedis } from './helpers/use-redis.js';
import { uniquePrefix } from './helpers/redis.js';
import { DeliveryDedup, dedupSettings } from '../src/notify/stages/dedup.js';
import { EndpointGate } from '../src/notify/stages/rate-gate.js';
import { silentLogger } from '../src/telemetry/logger.js';
import { Keys } from '../src/state/keys.js';
import { NotificationLogStore } from '../src/state/notification-log-store.js';

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

  it('writes a plain marker and releases the lock in one command, and never frees a lock another sender took since', async () => {
    const keys = new Keys(uniquePrefix('dedup'));
    const client = redis.client();
    const dedup = new DeliveryDedup(client, keys, settings);
    const lock = await dedup.claim('notify-d', silentLogger());
    if (!lock.locked) throw new Error('expected the lock');
    await lock.mark({ at: 5, channel: 'slack', target: 'default' }, {});
    // The release went with the marker: the lock is free, and release() has nothing left to do.
    expect(await client.exists(keys.deliveryLock('notify-d'))).toBe(0);
    await lock.release();
    expect(await dedup.claim('notify-d', silentLogger())).toMatchObject({ locked: true, previous: { at: 5 } });

    // A sender whose lock expired and was taken by another still writes its marker (the send
    // happened), but leaves the new holder's lock alone.
    const stale = await dedup.claim('notify-e', silentLogger());
    if (!stale.locked) throw new Error('expected the lock');
    await client.set(keys.deliveryLock('notify-e'), 'another-holder');
    await stale.mark({ at: 6, channel: 'slack', target: 'default' }, {});
    expect(await client.get(keys.deliveryLock('notify-e'))).toBe('another-holder');
    expect(JSON.parse((await client.get(keys.delivered('notify-e')))!)).toMatchObject({ at: 6 });
  });

  it('takes an unreadable marker for a delivered task all the same', async () => {
    const keys = new Keys(uniquePrefix('dedup'));
    const client = redis.client();
    await client.set(keys.delivered('notify-c'), 'not json');
    expect(await new DeliveryDedup(client, keys, settings).claim('notify-c', silentLogger())).toMatchObject({ locked: true, previous: {} });
  });

  it('keeps the lock longer than the slowest send and the marker for retention.deliveriesDays', () => {
    expect(dedupSettings({ retention: { deliveriesDays: 2 }, slack: { timeoutMs: 10_000 }, email: { connectionTimeoutMs: 5_000, socketTimeoutMs: 30_000 } })).toEqual({
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

describe('notification log store', () => {
  it('pushes entries newest first in one command, trimmed to its length and with an expiry', async () => {
    const keys = new Keys(uniquePrefix('log'));
    const client = redis.client();
    const store = new NotificationLogStore(client, keys, { maxEntries: 3, retentionMs: 120_000 });
    const entry = (n: number) => ({ at: Date.now(), taskId: `t${n}`, route: 'default', channel: 'slack', target: 'default', outcome: 'delivered', attempt: 1, attempts: 1, subject: `s${n}` });
    await store.push([entry(1), entry(2)]);
    await store.push([entry(3), entry(4)]);
    await store.push([]);
    expect((await store.query()).map((e) => e.taskId)).toEqual(['t4', 't3', 't2']);
    const ttl = await client.pttl(keys.notificationLog());
    expect(ttl).toBeGreaterThan(60_000);
    expect(ttl).toBeLessThanOrEqual(120_000);
  });
});
