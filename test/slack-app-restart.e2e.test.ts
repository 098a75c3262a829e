import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Queue } from 'bullmq';
import { stringify } from 'yaml';
import { QUEUE_NAMES } from '../src/queue/names.js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { GemSimulator } from '../src/simulator/gem-simulator.js';
import { startSlackApiServer, type SlackApiMessage, type SlackApiServer } from '../src/simulator/slack-api.js';
import { waitFor } from './helpers/pipeline.js';
import { startRedis, uniquePrefix, type TestRedis } from './helpers/redis.js';

/**
 * Slack app mode with the daemon as operators run it (`gem-watch run` in its own process, from
 * source through tsx), against the local Slack Web API server: a job queued → running → finished
 * is one top-level message, updated in place, with one thread reply for its end, across SIGKILLs
 * and restarts between its events, and with two replicas on one Redis. Mirrors the webhook path's
 * daemon-lifecycle.e2e.test.ts.
 */

const ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));
const BOT_TOKEN = 'xoxb-9999999999-8888888888-RestartTestToken';
const CHANNEL = '#gem-alerts';

interface Daemon {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

let redis: TestRedis;
let slack: SlackApiServer;
let dir: string;
let configFile: string;
const sim = new GemSimulator({ apiKey: 'slack-app-restart-key' });
const daemons: Daemon[] = [];

beforeAll(async () => {
  redis = await startRedis();
  slack = await startSlackApiServer({ token: BOT_TOKEN });
  await sim.start();
  dir = mkdtempSync(join(tmpdir(), 'gem-watch-slack-app-'));
  configFile = join(dir, 'config.yaml');
  writeFileSync(configFile, stringify({ notify: { on: ['queued', 'running', 'finished', 'failed', 'cancelled'], backoffMs: 100, maxBackoffMs: 1_000 } }));
});

afterEach(async () => {
  // The bot token is only ever in the Authorization header: no line of any daemon holds it.
  for (const daemon of daemons) {
    expect(daemon.output()).not.toContain(BOT_TOKEN);
    expect(daemon.output()).not.toContain('RestartTestToken');
  }
  for (const daemon of daemons.splice(0)) {
    if (daemon.child.exitCode === null && daemon.child.signalCode === null) {
      daemon.child.kill('SIGKILL');
      await daemon.exited;
    }
  }
  sim.clearJobs();
  slack.reset();
});

afterAll(async () => {
  await sim.stop();
  await slack?.close();
  await redis?.close();
  rmSync(dir, { recursive: true, force: true });
});

function spawnDaemon(prefix: string): Daemon {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    GEM_API_KEY: sim.apiKey,
    GEM_API_BASE_URL: sim.baseUrl,
    GEM_JOB_TYPES: 'ROAD_MATCHING',
    POLL_CRON: '* * * * * *',
    REDIS_URL: redis.url,
    GEM_WATCH_PREFIX: prefix,
    SLACK_WEBHOOK_URL: '',
    SLACK_BOT_TOKEN: BOT_TOKEN,
    SLACK_CHANNEL: CHANNEL,
    SLACK_API_URL: slack.apiUrl,
    SMTP_URL: '',
    HTTP_PORT: '0',
    LOG_LEVEL: 'info',
    LOG_PRETTY: 'false',
  };
  delete env.GEM_WATCH_CONFIG;
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', '--config', configFile, 'run'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
  const daemon = { child, output: () => output, exited };
  daemons.push(daemon);
  return daemon;
}

/** Waits until no notify task is waiting or running, so a SIGKILL lands between events, not inside a delivery. */
async function notifyIdle(prefix: string): Promise<void> {
  const connection = redis.client();
  const queue = new Queue(QUEUE_NAMES.notify, { connection, prefix });
  try {
    await waitFor(async () => {
      const counts = await queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized');
      return Object.values(counts).every((count) => count === 0);
    }, 'the notify queue to drain', 30_000);
  } finally {
    await queue.close();
    connection.disconnect();
  }
}

async function kill(daemon: Daemon): Promise<void> {
  daemon.child.kill('SIGKILL');
  await daemon.exited;
}

/** The channel's top-level messages about one job. */
function messagesOf(jobId: string): SlackApiMessage[] {
  return slack.messages(CHANNEL).filter((message) => message.text.includes(`job ${jobId} `));
}

function shows(jobId: string, status: string): boolean {
  const [message, ...more] = messagesOf(jobId);
  return more.length === 0 && message !== undefined && message.text.includes(`job ${jobId} ${status}`);
}

function expectOneMessageEndingFinished(jobId: string): void {
  const messages = messagesOf(jobId);
  expect(messages, slack.calls.map((call) => `${call.method} ${call.status} ${call.error ?? ''}`).join('\n')).toHaveLength(1);
  const [message] = messages;
  expect(message!.text).toContain(`job ${jobId} finished`);
  expect(JSON.stringify(message!.blocks)).toContain('Roads matched');
  expect(message!.edits).toBeGreaterThanOrEqual(2);
  const replies = slack.thread(CHANNEL, message!.ts);
  expect(replies).toHaveLength(1);
  expect(replies[0]!.text).toContain('finished');
  const tops = slack.succeeded('chat.postMessage').filter((call) => call.body?.thread_ts === undefined && call.raw.includes(`job ${jobId} `));
  expect(tops).toHaveLength(1);
}

describe('Slack app mode: the daemon across restarts and replicas', () => {
  it('keeps one top-level message per job when the daemon is SIGKILLed and restarted between its events', async () => {
    const prefix = uniquePrefix('slackapp-kill');
    sim.upsertJob({ id: '7001', status: 'queued' });

    const first = spawnDaemon(prefix);
    await waitFor(() => shows('7001', 'queued'), `the queued job posted:\n${first.output()}`, 60_000);
    await notifyIdle(prefix);
    await kill(first);

    sim.setStatus('7001', 'running', { progress: 35 });
    // One refused update on the way, retried: its error lines go through the secret scan too.
    slack.failNext(1, { status: 500, body: `upstream failed for ${BOT_TOKEN}` }, 'chat.update');
    const second = spawnDaemon(prefix);
    await waitFor(() => shows('7001', 'running'), `the running job updated:\n${second.output()}`, 60_000);
    await notifyIdle(prefix);
    await kill(second);

    sim.setStatus('7001', 'finished');
    const third = spawnDaemon(prefix);
    await waitFor(() => shows('7001', 'finished') && slack.thread(CHANNEL, messagesOf('7001')[0]!.ts).length === 1, `the end:\n${third.output()}`, 60_000);
    expectOneMessageEndingFinished('7001');
    third.child.kill('SIGTERM');
    expect(await third.exited).toBe(0);
  }, 240_000);

  it('keeps one top-level message per job with two replicas on one Redis', async () => {
    const prefix = uniquePrefix('slackapp-replicas');
    const ids = ['8001', '8002', '8003', '8004', '8005'];
    for (const id of ids) sim.upsertJob({ id, status: 'queued' });
    const replicas = [spawnDaemon(prefix), spawnDaemon(prefix)];
    const output = () => replicas.map((replica) => replica.output()).join('\n');
    await waitFor(() => ids.every((id) => shows(id, 'queued')), `every queued job posted:\n${output()}`, 60_000);
    for (const id of ids) sim.setStatus(id, 'running', { progress: 50 });
    await waitFor(() => ids.every((id) => shows(id, 'running')), `every job running:\n${output()}`, 60_000);
    // Every job ends at once: the replicas deliver the ends side by side.
    for (const id of ids) sim.setStatus(id, 'finished');
    await waitFor(() => ids.every((id) => shows(id, 'finished') && slack.thread(CHANNEL, messagesOf(id)[0]!.ts).length === 1), `every end:\n${output()}`, 60_000);
    for (const id of ids) expectOneMessageEndingFinished(id);
    expect(slack.calls.filter((call) => call.error !== undefined || call.status !== 200)).toEqual([]);
  }, 240_000);
});
