import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';

/** No Redis for the demo: neither REDIS_URL nor a redis-server on PATH. */
export class DemoRedisUnavailableError extends Error {
  override readonly name = 'DemoRedisUnavailableError';
}

/** The demo's Redis: one it started (and will stop), or the one REDIS_URL names. */
export interface DemoRedis {
  url: string;
  /** How it was obtained, for the banner. */
  description: string;
  /** pid of the redis-server the demo started; undefined with REDIS_URL. */
  pid?: number;
  /** Stops the server the demo started (nothing for REDIS_URL) and removes its directory. */
  stop(): Promise<void>;
  /** Synchronous last resort on exit: kills the server the demo started. */
  kill(): void;
}

export const NO_REDIS_MESSAGE = [
  'The demo needs Redis, and found neither REDIS_URL nor a redis-server on PATH. Either:',
  '  - install Redis so the demo can start a throw-away server itself:',
  '      Debian/Ubuntu: sudo apt-get install redis-server    macOS: brew install redis',
  '  - or point REDIS_URL at a Redis it may use (its keys go under a gemwatch-demo-* prefix):',
  '      docker run --rm -p 6379:6379 redis:7   then   REDIS_URL=redis://127.0.0.1:6379 npm run demo',
].join('\n');

async function freePort(): Promise<number> {
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

async function waitForPing(url: string, child: ChildProcess, stderr: () => string, deadlineMs: number): Promise<void> {
  const until = Date.now() + deadlineMs;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new DemoRedisUnavailableError(`redis-server exited at start (${child.exitCode ?? child.signalCode}): ${stderr().trim().slice(-500)}`);
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
      if (Date.now() > until) throw new DemoRedisUnavailableError(`redis-server did not answer at ${url}: ${(error as Error).message}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

/**
 * Redis for the demo: REDIS_URL when set, else a redis-server from PATH on a free loopback port, in
 * a temporary directory, without persistence. The server runs in its own process group, so a
 * Ctrl-C in the terminal reaches the demo (which stops the pipeline first, then the server) rather
 * than killing Redis under a pipeline that is still closing.
 */
export async function startDemoRedis(env: NodeJS.ProcessEnv = process.env): Promise<DemoRedis> {
  if (env.REDIS_URL) {
    return { url: env.REDIS_URL, description: 'REDIS_URL', stop: async () => {}, kill: () => {} };
  }
  const probe = spawnSync('redis-server', ['--version'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) throw new DemoRedisUnavailableError(NO_REDIS_MESSAGE);

  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'gem-watch-demo-redis-'));
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no', '--daemonize', 'no', '--loglevel', 'warning'];
  const child = spawn('redis-server', args, { stdio: ['ignore', 'ignore', 'pipe'], detached: true });
  let errors = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    errors = (errors + chunk.toString('utf8')).slice(-4_000);
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = `redis://127.0.0.1:${port}`;
  const kill = () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };
  try {
    await waitForPing(url, child, () => errors, 10_000);
  } catch (error) {
    kill();
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  return {
    url,
    pid: child.pid,
    description: `redis-server pid ${child.pid} on 127.0.0.1:${port} (temporary, no persistence)`,
    kill,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(kill, 5_000);
        await exited;
        clearTimeout(timer);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
