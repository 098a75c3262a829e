import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { waitFor } from './helpers/pipeline.js';

const ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));

interface Spawned {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<number | null>;
}

const children: ChildProcess[] = [];
const dirs: string[] = [];

/** `gem-watch demo` from source, in its own process group (as a terminal runs a foreground job). */
function spawnDemo(outDir: string, env: NodeJS.ProcessEnv): Spawned {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'demo', '--out', outDir], {
    cwd: ROOT,
    env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
  return { child, stdout: () => stdout, stderr: () => stderr, exited };
}

function demoEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, HTTP_PORT: '0', LOG_LEVEL: 'warn', ...extra };
  delete env.REDIS_URL;
  delete env.TEST_REDIS_URL;
  return env;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function commandLine(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
  } catch {
    return '';
  }
}

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'gem-watch-demo-test-'));
  dirs.push(dir);
  return dir;
}

afterEach(() => {
  for (const child of children.splice(0)) {
    if (child.exitCode === null && child.signalCode === null && child.pid) {
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
  }
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('gem-watch demo', () => {
  it('shows Slack messages, Teams cards and verified webhook events and writes .eml files for a finished and a failed job, and Ctrl-C leaves no process behind', async () => {
    const out = join(tempDir(), 'demo-out');
    const demo = spawnDemo(out, demoEnv());
    const emls = () => (existsSync(out) ? readdirSync(out).filter((name) => name.endsWith('.eml')) : []);

    await waitFor(
      () => emls().some((name) => name.includes('finished')) && emls().some((name) => name.includes('failed')),
      `an .eml for a finished and for a failed job (stdout so far:\n${demo.stdout()}\nstderr:\n${demo.stderr()})`,
      55_000,
    );
    // The .eml files and the console messages come from two channels that deliver independently:
    // wait for the console to show both messages rather than assume they came with the mails.
    await waitFor(
      () => /✅ ROAD_MATCHING job \d+ finished/.test(demo.stdout()) && /❌ LANE_LEVEL_MATCHING job \d+ failed/.test(demo.stdout()),
      'the Slack messages of the finished and the failed job on the console',
      30_000,
    );

    // Teams and the signed webhook deliver on their own tasks too.
    await waitFor(
      () => /Teams card ✅ ROAD_MATCHING job \d+ finished/.test(demo.stdout()) && /Webhook event job\.failed \(webhook-id notify-\S+, signature verified\)/.test(demo.stdout()),
      'the Teams card and the webhook event on the console',
      30_000,
    );

    // Slack app mode: the job's one message, edited in place, and its end as a thread reply.
    await waitFor(
      () => /Slack app #gem-alerts: updated message [\d.]+ in place/.test(demo.stdout()) && /Slack app #gem-alerts: replied in the thread of [\d.]+/.test(demo.stdout()),
      'the Slack app message updated and a thread reply on the console',
      30_000,
    );

    const stdout = demo.stdout();
    expect(stdout).toMatch(/Slack app #gem-alerts: posted message [\d.]+/);
    expect(stdout).toMatch(/✅ ROAD_MATCHING job \d+ finished/);
    expect(stdout).toMatch(/❌ LANE_LEVEL_MATCHING job \d+ failed/);
    expect(stdout).toContain('Failure detail');
    // The history the first poll found is recorded, never announced.
    expect(stdout).not.toContain('eu_france_roads_2025-12.parquet');

    const finished = emls().find((name) => name.includes('finished'))!;
    const eml = readFileSync(join(out, finished), 'utf8');
    expect(eml).toMatch(/^Subject: \[gem-watch\] ROAD_MATCHING job \d+ finished/m);
    const html = readFileSync(join(out, finished.replace(/\.eml$/, '.html')), 'utf8');
    expect(html).toContain('Roads matched');
    expect(html).toMatch(/<table/i);

    const pid = Number(/redis-server pid (\d+)/.exec(stdout)?.[1]);
    expect(pid).toBeGreaterThan(0);
    expect(commandLine(pid)).toContain('redis-server');
    const port = /redis-server pid \d+ on 127\.0\.0\.1:(\d+)/.exec(stdout)?.[1];

    // Ctrl-C: the terminal signals the whole foreground process group.
    process.kill(-demo.child.pid!, 'SIGINT');
    expect(await demo.exited).toBe(0);
    expect(demo.stdout()).toContain('demo stopped; nothing left running.');
    await waitFor(() => !alive(pid) || !commandLine(pid).includes('redis-server'), 'the demo redis-server to be gone', 10_000);
    const leftovers = readdirSync('/proc')
      .filter((entry) => /^\d+$/.test(entry))
      .map((entry) => commandLine(Number(entry)))
      .filter((command) => (command.includes('redis-server') && command.includes(`:${port}`)) || command.includes(out));
    expect(leftovers).toEqual([]);
  });

  it('says how to get Redis when there is neither REDIS_URL nor a redis-server on PATH', async () => {
    const out = join(tempDir(), 'demo-out');
    const demo = spawnDemo(out, demoEnv({ PATH: '/nonexistent' }));
    expect(await demo.exited).toBe(1);
    expect(demo.stderr()).toContain('needs Redis');
    expect(demo.stderr()).toContain('REDIS_URL=redis://127.0.0.1:6379 npm run demo');
    expect(demo.stderr()).toContain('apt-get install redis-server');
    expect(demo.stdout()).not.toContain('demo stopped');
  });
});
