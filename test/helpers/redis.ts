import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freePort } from './free-port.js';

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

function redisServerBin(): string | undefined {
  const candidate = process.env.REDIS_SERVER_BIN ?? 'redis-server';
  const probe = spawnSync(candidate, ['--version'], { encoding: 'utf8' });
  return probe.status === 0 ? candidate : undefined;
}

async function waitForPing(url: string, deadlineMs: number): Promise<void> {
  const until = Date.now() + deadlineMs;
  for (;;) {
    const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    client.on('error', () => {});
    try {
      await client.connect();
      await client.ping();
      client.disconnect();
      return;
    } catch (error) {
      client.disconnect();
      if (Date.now() > until) throw new Error(`redis-server did not answer at ${url}: ${(error as Error).message}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
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
  const bin = redisServerBin();
  if (!bin) {
    throw new Error(
      'No redis-server found. Install it (apt-get install redis-server, brew install redis), set REDIS_SERVER_BIN to its path, or set TEST_REDIS_URL to a Redis the tests may use.',
    );
  }
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'gem-watch-redis-'));
  const url = `redis://127.0.0.1:${port}`;
  let child: ChildProcess | undefined;

  const start = async () => {
    const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--daemonize', 'no'];
    args.push('--appendonly', options.aof ? 'yes' : 'no', '--appendfsync', 'always');
    child = spawn(bin, args, { stdio: 'ignore' });
    await waitForPing(url, 10_000);
  };
  const stop = async () => {
    const running = child;
    child = undefined;
    if (!running || running.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      running.once('exit', () => resolve());
      running.kill('SIGTERM');
    });
  };
  await start();
  return {
    url,
    port,
    owned: true,
    start,
    stop,
    close: async () => {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
    client: () => new Redis(url),
  };
}

/** A prefix no other test uses, so tests may share one server. */
export function uniquePrefix(name: string): string {
  return `t-${name}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
}
