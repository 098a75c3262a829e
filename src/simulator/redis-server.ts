import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';

/**
 * A throw-away redis-server on a free loopback port, for the demo, the tests and the benchmark:
 * one process, a temporary directory, no RDB snapshots. Never used by the daemon itself.
 */

/** redis-server is not on PATH (or at REDIS_SERVER_BIN), or it would not start. */
export class RedisServerUnavailableError extends Error {
  override readonly name = 'RedisServerUnavailableError';
}

export interface RedisServerOptions {
  /** The binary; default REDIS_SERVER_BIN, else `redis-server` from PATH. */
  bin?: string;
  /** Append-only file on (fsync always), so a restart keeps the data. Default off. */
  aof?: boolean;
  /**
   * Own process group, so a Ctrl-C in the terminal reaches only the parent, which stops this
   * server after whatever still uses it. Default false.
   */
  detached?: boolean;
  /** How long to wait for the first PING, in milliseconds. Default 10,000. */
  startTimeoutMs?: number;
}

export interface RedisServer {
  url: string;
  port: number;
  /** pid of the running server; undefined while stopped. */
  readonly pid: number | undefined;
  /** Starts the server again on the same port and data directory (after `stop`). */
  start(): Promise<void>;
  /** Stops the server gracefully (SIGTERM, SIGKILL after 5 s), keeping its data directory. */
  stop(): Promise<void>;
  /** Stops the server for good and removes its data directory. */
  close(): Promise<void>;
  /** Synchronous last resort on exit: SIGKILL. */
  kill(): void;
}

/** A TCP port free on 127.0.0.1 at the moment of asking. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no free port'))));
    });
  });
}

/** The redis-server binary to use, or undefined when there is none. */
export function findRedisServer(bin = process.env.REDIS_SERVER_BIN ?? 'redis-server'): string | undefined {
  const probe = spawnSync(bin, ['--version'], { encoding: 'utf8' });
  return probe.error || probe.status !== 0 ? undefined : bin;
}

function running(child: ChildProcess | undefined): child is ChildProcess {
  return child !== undefined && child.exitCode === null && child.signalCode === null;
}

async function waitForPing(url: string, child: ChildProcess, stderr: () => string, deadlineMs: number): Promise<void> {
  const until = Date.now() + deadlineMs;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new RedisServerUnavailableError(`redis-server exited at start (${child.exitCode ?? child.signalCode}): ${stderr().trim().slice(-500)}`);
    }
    const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, enableOfflineQueue: false });
    client.on('error', () => {});
    try {
      await client.connect();
      await client.ping();
      client.disconnect();
      return;
    } catch (error) {
      client.disconnect();
      if (Date.now() > until) throw new RedisServerUnavailableError(`redis-server did not answer at ${url}: ${(error as Error).message}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

/** Starts a redis-server. Throws RedisServerUnavailableError when none can be started. */
export async function startRedisServer(options: RedisServerOptions = {}): Promise<RedisServer> {
  const bin = findRedisServer(options.bin);
  if (!bin) throw new RedisServerUnavailableError(`no redis-server found (${options.bin ?? process.env.REDIS_SERVER_BIN ?? 'redis-server'} on PATH)`);
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'gem-watch-redis-'));
  const url = `redis://127.0.0.1:${port}`;
  let child: ChildProcess | undefined;

  const kill = () => {
    if (running(child)) child.kill('SIGKILL');
  };
  const start = async () => {
    const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--daemonize', 'no', '--loglevel', 'warning'];
    args.push('--appendonly', options.aof ? 'yes' : 'no', '--appendfsync', 'always');
    const started = spawn(bin, args, { stdio: ['ignore', 'ignore', 'pipe'], detached: options.detached === true });
    child = started;
    let errors = '';
    started.stderr?.on('data', (chunk: Buffer) => {
      errors = (errors + chunk.toString('utf8')).slice(-4_000);
    });
    try {
      await waitForPing(url, started, () => errors, options.startTimeoutMs ?? 10_000);
    } catch (error) {
      kill();
      throw error;
    }
  };
  const stop = async () => {
    const current = child;
    if (!running(current)) return;
    const exited = new Promise<void>((resolve) => current.once('exit', () => resolve()));
    current.kill('SIGTERM');
    const timer = setTimeout(() => current.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(timer);
  };

  try {
    await start();
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  return {
    url,
    port,
    get pid() {
      return running(child) ? child.pid : undefined;
    },
    start,
    stop,
    kill,
    async close() {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
