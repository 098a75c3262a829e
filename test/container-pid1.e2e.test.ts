import { spawn, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GemSimulator } from '../src/simulator/gem-simulator.js';
import { waitFor } from './helpers/pipeline.js';
import { startRedis, uniquePrefix, type TestRedis } from './helpers/redis.js';

/**
 * The image starts node itself, with no init, so in a container gem-watch is PID 1. The kernel
 * drops every signal that PID 1 has no handler for, even SIGTERM: node's default behaviour would
 * leave `docker stop` and the kubelet waiting out their grace period and then SIGKILL it. Here the
 * daemon runs as PID 1 of a new PID namespace (`unshare`, as root; CI runs as root), signalled
 * from outside the way a container runtime signals it.
 */

const ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));
const canUnshare = spawnSync('unshare', ['--pid', '--fork', 'true']).status === 0;

let redis: TestRedis;
const sim = new GemSimulator({ apiKey: 'pid1-key' });

beforeAll(async () => {
  redis = await startRedis();
  await sim.start();
});

afterAll(async () => {
  await sim.stop();
  await redis?.close();
});

/** The process whose parent is `parent`, and its PID inside its own namespace (NSpid's last field). */
function childOf(parent: number): { pid: number; innerPid: number } | undefined {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const status = readFileSync(`/proc/${entry}/status`, 'utf8');
      if (Number(/^PPid:\s+(\d+)/m.exec(status)?.[1]) !== parent) continue;
      const nspid = /^NSpid:\s+(.+)$/m.exec(status)?.[1]?.trim().split(/\s+/) ?? [];
      return { pid: Number(entry), innerPid: Number(nspid.at(-1)) };
    } catch {
      // Gone meanwhile.
    }
  }
  return undefined;
}

describe('gem-watch as PID 1', () => {
  it.skipIf(!canUnshare)('stops gracefully on SIGTERM from outside, as from docker stop or the kubelet', async () => {
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      GEM_API_KEY: sim.apiKey,
      GEM_API_BASE_URL: sim.baseUrl,
      GEM_JOB_TYPES: 'ROAD_MATCHING',
      POLL_CRON: '* * * * * *',
      REDIS_URL: redis.url,
      GEM_WATCH_PREFIX: uniquePrefix('pid1'),
      HTTP_PORT: '0',
      LOG_LEVEL: 'info',
      LOG_PRETTY: 'false',
    };
    delete env.GEM_WATCH_CONFIG;
    // --kill-child: should the test fail half-way, the daemon dies with unshare.
    const wrapper = spawn('unshare', ['--pid', '--fork', '--kill-child', process.execPath, '--import', 'tsx', 'src/cli.ts', 'run'], {
      cwd: ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    wrapper.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    wrapper.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    const exited = new Promise<number | null>((done) => wrapper.once('exit', (code) => done(code)));
    try {
      await waitFor(() => output.includes('"msg":"gem-watch started"'), 'the daemon to start', 30_000);
      const daemon = childOf(wrapper.pid!);
      expect(daemon?.innerPid).toBe(1);
      process.kill(daemon!.pid, 'SIGTERM');
      // unshare exits with its child's status: 0 is the graceful stop, not a kill.
      expect(await exited).toBe(0);
      expect(output).toContain('"msg":"stopping gracefully"');
      expect(output).toContain('"msg":"stopped"');
    } finally {
      if (wrapper.exitCode === null) wrapper.kill('SIGKILL');
    }
  });
});
