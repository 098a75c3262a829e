import { Redis, type RedisOptions } from 'ioredis';
import { afterAll, beforeAll } from 'vitest';
import { startRedis, type TestRedis, type TestRedisOptions } from './redis.js';

// Kept apart from redis.ts, which the benchmark imports outside vitest.

/** A test server for one suite and the clients its tests opened. */
export interface SuiteRedis {
  /** The server; set once the suite's beforeAll has run. */
  readonly server: TestRedis;
  /**
   * A fresh client of the server, with an `error` listener (a test may stop the server under it),
   * disconnected after the suite.
   */
  client(options?: RedisOptions): Redis;
}

/**
 * Starts a redis-server (see {@link startRedis}) before the suite's tests, and after them
 * disconnects every client handed out and stops the server. Call it at the top of a `describe`
 * block or of a test file.
 */
export function useRedis(options: TestRedisOptions = {}): SuiteRedis {
  let server: TestRedis | undefined;
  const clients: Redis[] = [];
  beforeAll(async () => {
    server = await startRedis(options);
  });
  afterAll(async () => {
    for (const made of clients) made.disconnect();
    await server?.close();
  });
  const suite: SuiteRedis = {
    get server() {
      if (!server) throw new Error('useRedis: the server starts in beforeAll; use it inside a test or hook');
      return server;
    },
    client: (clientOptions = {}) => {
      const made = new Redis(suite.server.url, clientOptions);
      made.on('error', () => {});
      clients.push(made);
      return made;
    },
  };
  return suite;
}
