import { Redis } from 'ioredis';
import { findRedisServer, startRedisServer } from '../../src/simulator/redis-server.js';

export interface TestRedis {
  url: string;
  port: number;
  /** Stops the server (keeping its AOF when enabled), for outage tests. */
  stop(): Promise<void>;
  /** Starts it again on the same port and data directory. */
  start(): Promise<void>;
  /** Stops it for good and removes its data. */
  close(): Promise<void>;
  /** A fresh client; closed by the caller. */
  client(): Redis;
  /** False when REDIS_URL was used: such a server cannot be stopped and restarted. */
  owned: boolean;
}

export interface TestRedisOptions {
  /** Append-only file on, so a restart keeps the data. */
  aof?: boolean;
}

/**
 * A real redis-server for one test file: its own process on a free port (redis-server from PATH or
 * REDIS_SERVER_BIN), or the server at TEST_REDIS_URL (else REDIS_URL) when set. Never a mock.
 */
export async function startRedis(options: TestRedisOptions = {}): Promise<TestRedis> {
  const shared = process.env.TEST_REDIS_URL ?? process.env.REDIS_URL;
  if (shared) {
    return {
      url: shared,
      port: Number(new URL(shared).port || 6379),
      owned: false,
      stop: async () => {
        throw new Error('cannot stop the shared TEST_REDIS_URL server');
      },
      start: async () => {},
      close: async () => {},
      client: () => new Redis(shared),
    };
  }
  if (!findRedisServer()) {
    throw new Error(
      'No redis-server found. Install it (apt-get install redis-server, brew install redis), set REDIS_SERVER_BIN to its path, or set TEST_REDIS_URL to a Redis the tests may use.',
    );
  }
  const server = await startRedisServer({ aof: options.aof });
  return {
    url: server.url,
    port: server.port,
    owned: true,
    start: server.start,
    stop: server.stop,
    close: server.close,
    client: () => new Redis(server.url),
  };
}

/** A prefix no other test uses, so tests may share one server. */
export function uniquePrefix(name: string): string {
  return `t-${name}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
}
