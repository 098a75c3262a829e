import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Queue } from 'bullmq';
import { stringify } from 'yaml';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { QUEUE_NAMES } from '../src/queue/names.js';
import { GemSimulator } from '../src/simulator/gem-simulator.js';
import { startSlackSink, type SlackSink } from '../src/simulator/slack-sink.js';
import { Keys } from '../src/state/keys.js';
import { waitFor } from './helpers/pipeline.js';
import { startRedis, uniquePrefix, type TestRedis } from './helpers/redis.js';
import { startSmtpSink, type SmtpSink } from './helpers/smtp-sink.js';

/**
 * The daemon as operators run it: `gem-watch run` in its own process (from source through tsx, so
 * the test never depends on a stale dist/), stopped with real signals.
 */

const ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));
/** runDaemon's default grace for in-flight tasks, plus the 10 s it allows for closing. */
const GRACE_MS = 10_000;
const STOP_BOUND_MS = GRACE_MS + 10_000;

interface Daemon {
  child: ChildProcess;
  /** Parsed JSON log lines. */
  logs: Array<Record<string, unknown>>;
  output: () => string;
  exited: Promise<{ code: number | null; at: number }>;
}

let redis: TestRedis;
let slack: SlackSink;
let smtp: SmtpSink;
let dir: string;
const sim = new GemSimulator({ apiKey: 'lifecycle-key' });
const daemons: Daemon[] = [];

beforeAll(async () => {
  redis = await startRedis();
  slack = await startSlackSink();
  smtp = await startSmtpSink();
  await sim.start();
  dir = mkdtempSync(join(tmpdir(), 'gem-watch-lifecycle-'));
});

afterEach(async () => {
  for (const daemon of daemons.splice(0)) {
    if (daemon.child.exitCode === null && daemon.child.signalCode === null) {
      daemon.child.kill('SIGKILL');
      await daemon.exited;
    }
  }
  sim.clearJobs();
  sim.setFaults(undefined);
  slack.reset();
  smtp.reset();
});

afterAll(async () => {
  await sim.stop();
  await slack?.close();
  await smtp?.close();
  await redis?.close();
  rmSync(dir, { recursive: true, force: true });
});

function writeConfig(name: string, yaml: Record<string, unknown>): string {
  const file = join(dir, `${name}.yaml`);
  writeFileSync(file, stringify(yaml));
  return file;
}

function spawnDaemon(prefix: string, configFile: string): Daemon {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    GEM_API_KEY: sim.apiKey,
    GEM_API_BASE_URL: sim.baseUrl,
    GEM_JOB_TYPES: 'ROAD_MATCHING',
    POLL_CRON: '* * * * * *',
    REDIS_URL: redis.url,
    GEM_WATCH_PREFIX: prefix,
    SLACK_WEBHOOK_URL: slack.webhookUrl(),
    SMTP_URL: smtp.url(),
    EMAIL_TO: 'ops@example.com',
    HTTP_PORT: '0',
    LOG_LEVEL: 'info',
    LOG_PRETTY: 'false',
  };
  delete env.GEM_WATCH_CONFIG;
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', '--config', configFile, 'run'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const logs: Array<Record<string, unknown>> = [];
  let output = '';
  let pending = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    output += chunk.toString('utf8');
    pending += chunk.toString('utf8');
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) {
      try {
        logs.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        // Not a log line.
      }
    }
  });
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  const exited = new Promise<{ code: number | null; at: number }>((done) => child.once('exit', (code) => done({ code, at: Date.now() })));
  const daemon = { child, logs, output: () => output, exited };
  daemons.push(daemon);
  return daemon;
}

function logged(daemon: Daemon, message: string): boolean {
  return daemon.logs.some((line) => line.msg === message);
}

/** Accepted Slack posts per job id of a finished announcement. */
function slackPostsPerJob(): Map<string, number> {
  const counts = new Map<string, number>();
  for (const request of slack.accepted()) {
    const id = /ROAD_MATCHING job (\S+) finished/.exec(request.body?.text ?? '')?.[1];
    if (id) counts.set(id, (counts.get(id) ?? 0) + 1);
  }
  return counts;
}

function mailsPerJob(): Map<string, number> {
  const counts = new Map<string, number>();
  for (const mail of smtp.mails) {
    const id = /ROAD_MATCHING job (\S+) finished/.exec(mail.parsed.subject ?? '')?.[1];
    if (id) counts.set(id, (counts.get(id) ?? 0) + 1);
  }
  return counts;
}

describe('gem-watch run: lifecycle', () => {
  it('exits within the bound on SIGTERM during a busy cycle, and after a restart announces every job exactly once per channel', async () => {
    const prefix = uniquePrefix('life');
    const keys = new Keys(prefix);
    const ids = Array.from({ length: 30 }, (_, i) => String(900 + i));
    for (const id of ids) sim.upsertJob({ id, status: 'running', progress: 50 });
    // Deliveries at 5 a second take several seconds: the stop lands in the middle of them. One
    // message per transition (burst grouping off), so each job's announcements can be counted.
    const config = writeConfig('busy', { notify: { slackPerSecond: 5, concurrency: 4 }, alerts: { burstWindowSec: 0 } });

    const first = spawnDaemon(prefix, config);
    const client = redis.client();
    try {
      await waitFor(async () => (await client.hlen(keys.jobs())) === ids.length, `the first poll to track ${ids.length} jobs:\n${first.output()}`, 30_000);
      expect(logged(first, 'http server listening')).toBe(true);

      // Every job ends at once, with detail answers slowed down: a busy cycle of 30 detail fetches
      // and 60 deliveries.
      sim.setFaults({ rate: 1, kinds: ['slow'], slowMs: 200, endpoints: ['detail'] });
      for (const id of ids) sim.setStatus(id, 'finished');
      await slack.waitFor((requests) => requests.filter((request) => request.answer === 200).length >= 3, 30_000);
      const signalledAt = Date.now();
      first.child.kill('SIGTERM');
      const exit = await first.exited;
      expect(exit.code, first.output()).toBe(0);
      expect(exit.at - signalledAt).toBeLessThan(STOP_BOUND_MS);
      expect(logged(first, 'stopping gracefully')).toBe(true);
      expect(logged(first, 'stopped')).toBe(true);
      const postedBeforeRestart = slack.accepted().length;
      expect(postedBeforeRestart).toBeLessThan(ids.length);

      // The restarted daemon delivers the rest, and nothing twice.
      sim.setFaults(undefined);
      const second = spawnDaemon(prefix, config);
      const notify = new Queue(QUEUE_NAMES.notify, { connection: redis.client(), prefix });
      try {
        await waitFor(
          () => slackPostsPerJob().size === ids.length && mailsPerJob().size === ids.length,
          `every job announced after the restart (${slackPostsPerJob().size} on Slack, ${mailsPerJob().size} by email)`,
          60_000,
        );
        await waitFor(async () => {
          const counts = await notify.getJobCounts('waiting', 'active', 'delayed', 'prioritized');
          const outbox = await client.zcard(keys.outbox());
          return Object.values(counts).every((count) => count === 0) && outbox === 0;
        }, 'the notify queue and the outbox to drain');
        const failed = await notify.getJobCounts('failed');
        expect(failed.failed).toBe(0);
      } finally {
        await notify.close();
      }
      expect([...slackPostsPerJob().values()].every((count) => count === 1), JSON.stringify([...slackPostsPerJob()])).toBe(true);
      expect([...mailsPerJob().values()].every((count) => count === 1), JSON.stringify([...mailsPerJob()])).toBe(true);
      expect(slack.accepted()).toHaveLength(ids.length);

      second.child.kill('SIGTERM');
      expect((await second.exited).code).toBe(0);
    } finally {
      client.disconnect();
    }
  });

  it('stays graceful when one Ctrl-C arrives twice at once, and a second signal a second later forces exit 130', async () => {
    const prefix = uniquePrefix('force');
    const keys = new Keys(prefix);
    sim.upsertJob({ id: '77', status: 'running', progress: 10 });
    // A Slack post that never answers keeps a delivery in flight for the whole grace period.
    const config = writeConfig('hang', { slack: { timeoutMs: 60_000 } });
    const client = redis.client();
    try {
      const daemon = spawnDaemon(prefix, config);
      await waitFor(async () => (await client.hlen(keys.jobs())) === 1, 'the job to be tracked', 30_000);
      slack.failNext(1, { hang: true });
      sim.setStatus('77', 'finished');
      await slack.waitFor((requests) => requests.some((request) => request.answer === 'hang'), 30_000);

      // A terminal's Ctrl-C reaches the process through npm and its shell too: two signals together.
      daemon.child.kill('SIGINT');
      daemon.child.kill('SIGTERM');
      await waitFor(() => logged(daemon, 'stopping gracefully'), 'the graceful stop to begin');
      const firstAt = Date.now();
      // Still stopping gracefully a second later: the duplicate did not force anything.
      await waitFor(() => Date.now() - firstAt >= 1_100, 'a second to pass', 5_000);
      expect(daemon.child.exitCode).toBeNull();
      expect(logged(daemon, 'second signal: exiting now')).toBe(false);

      daemon.child.kill('SIGTERM');
      expect((await daemon.exited).code).toBe(130);
      expect(logged(daemon, 'second signal: exiting now')).toBe(true);
    } finally {
      client.disconnect();
    }
  });
});
