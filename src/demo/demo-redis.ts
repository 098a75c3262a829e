import { findRedisServer, startRedisServer } from '../simulator/redis-server.js';

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
  if (!findRedisServer()) throw new DemoRedisUnavailableError(NO_REDIS_MESSAGE);
  let server;
  try {
    server = await startRedisServer({ detached: true });
  } catch (error) {
    throw new DemoRedisUnavailableError((error as Error).message, { cause: error });
  }
  const { url, port } = server;
  return {
    url,
    pid: server.pid,
    description: `redis-server pid ${server.pid} on 127.0.0.1:${port} (temporary, no persistence)`,
    kill: () => server.kill(),
    stop: () => server.close(),
  };
}
