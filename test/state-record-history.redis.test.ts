import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Keys } from '../src/state/keys.js';
import { StateStore } from '../src/state/state-store.js';
import { startRedis, uniquePrefix, type TestRedis } from './helpers/redis.js';

let server: TestRedis;
let redis: Redis;

beforeAll(async () => {
  server = await startRedis();
  redis = server.client();
});
afterAll(async () => {
  redis.disconnect();
  await server.close();
});

function store(): StateStore {
  return new StateStore(redis, new Keys(uniquePrefix('history')), { transitionsDays: 30 });
}

describe('state store: history in bulk', () => {
  it('records index entries only, the way a compact save of a new job does', async () => {
    const s = store();
    const recorded = await s.recordHistory('ROAD_MATCHING', [
      { id: '1', indexValue: 'finished|1' },
      { id: '2', indexValue: 'failed|1' },
    ]);
    expect(recorded).toBe(2);
    expect(Object.fromEntries(await s.readIndex('ROAD_MATCHING'))).toEqual({ '1': 'finished|1', '2': 'failed|1' });
    expect(await redis.exists(s.keys.jobs(), s.keys.transitions(), s.keys.outbox())).toBe(0);
    expect((await s.get('2', 'ROAD_MATCHING'))?.tracked).toMatchObject({ status: 'failed', version: 1 });
  });

  it('leaves a job that already has an entry as it is, and counts only the new ones', async () => {
    const s = store();
    await s.recordHistory('ROAD_MATCHING', [{ id: '1', indexValue: 'running|2' }]);
    const recorded = await s.recordHistory('ROAD_MATCHING', [
      { id: '1', indexValue: 'finished|1' },
      { id: '3', indexValue: 'cancelled|1' },
    ]);
    expect(recorded).toBe(1);
    expect(Object.fromEntries(await s.readIndex('ROAD_MATCHING'))).toEqual({ '1': 'running|2', '3': 'cancelled|1' });
  });

  it('clears the vanished mark of a job it records, as save does', async () => {
    const s = store();
    await s.markVanished(['7'], 'ROAD_MATCHING', 1_000);
    await s.recordHistory('ROAD_MATCHING', [{ id: '7', indexValue: 'finished|1' }]);
    expect((await s.vanishedIds()).has('7')).toBe(false);
  });

  it('takes thousands of jobs in one call and nothing for an empty batch', async () => {
    const s = store();
    expect(await s.recordHistory('LANE_LEVEL_MATCHING', [])).toBe(0);
    const entries = Array.from({ length: 5_000 }, (_, i) => ({ id: String(100_000_000 + i), indexValue: 'finished|1' }));
    expect(await s.recordHistory('LANE_LEVEL_MATCHING', entries)).toBe(5_000);
    expect(await redis.hlen(s.keys.statusIndex('LANE_LEVEL_MATCHING'))).toBe(5_000);
  });
});
