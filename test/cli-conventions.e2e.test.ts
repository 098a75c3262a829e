import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedisServer } from '../src/simulator/redis-server.js';
import { GemSimulator } from '../src/simulator/gem-simulator.js';
import { startSlackSink, type SlackSink } from '../src/simulator/slack-sink.js';
import { freePort } from './helpers/free-port.js';
import { startRedis, uniquePrefix, type TestRedis } from './helpers/redis.js';
import { runCli, type CliRun } from './helpers/run-cli.js';

/** The conventions every command shares: version, colour, JSON, read-only commands, Redis errors, completion. */

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const VERSION = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

function cli(args: string[], env: NodeJS.ProcessEnv): Promise<CliRun> {
  return runCli(args, { PATH: process.env.PATH, HOME: process.env.HOME, LOG_LEVEL: 'warn', ...env });
}

let redis: TestRedis;
let slack: SlackSink;
const sim = new GemSimulator({ apiKey: 'conv-key-123456' });
let env: NodeJS.ProcessEnv;
/** The same deployment seen by a read-only command: no API key at all. */
let readOnlyEnv: NodeJS.ProcessEnv;

beforeAll(async () => {
  redis = await startRedis();
  slack = await startSlackSink();
  await sim.start();
  readOnlyEnv = { REDIS_URL: redis.url, GEM_WATCH_PREFIX: uniquePrefix('cliconv'), GEM_JOB_TYPES: 'ROAD_MATCHING' };
  env = { ...readOnlyEnv, GEM_API_KEY: 'conv-key-123456', GEM_API_BASE_URL: sim.baseUrl, SLACK_WEBHOOK_URL: slack.webhookUrl('conv-secret-hook') };
});
afterAll(async () => {
  await sim.stop();
  await slack.close();
  await redis.close();
});

describe('gem-watch conventions', () => {
  it('prints its version with --version and -V', async () => {
    for (const flag of ['--version', '-V']) {
      const run = await cli([flag], {});
      expect(run.code, flag).toBe(0);
      expect(run.stdout, flag).toBe(`${VERSION}\n`);
    }
  });

  it('runs status, log, notifications and silence list without GEM_API_KEY; check still needs it', async () => {
    for (const args of [['status'], ['status', '--json'], ['log'], ['notifications'], ['silence', 'list', '--json']]) {
      const run = await cli(args, readOnlyEnv);
      expect(run.stderr, args.join(' ')).toBe('');
      expect(run.code, args.join(' ')).toBe(0);
    }
    const check = await cli(['check'], readOnlyEnv);
    expect(check.code).toBe(2);
    expect(check.stderr).toMatch(/GEM_API_KEY/);
  });

  it('prints every --json in one convention: ISO 8601 times, numbers as numbers, null for unknown', async () => {
    sim.upsertJob({ id: '801', status: 'running', progress: 20 });
    try {
      const poll = await cli(['poll-once', '--json'], env);
      expect(poll.stderr).toBe('');
      const transitions = JSON.parse(poll.stdout) as Array<Record<string, unknown>>;
      expect(transitions).toEqual([{ jobType: 'ROAD_MATCHING', jobId: '801', from: null, to: 'running', version: 1, detectedAt: expect.stringMatching(ISO), silent: expect.any(Boolean) }]);

      const status = JSON.parse((await cli(['status', '--json'], readOnlyEnv)).stdout) as Array<Record<string, unknown>>;
      expect(status).toEqual([
        { id: '801', type: 'ROAD_MATCHING', status: 'running', rawStatus: expect.any(String), gone: false, progress: 20, eta: null, lastChange: expect.stringMatching(ISO), version: 1 },
      ]);

      sim.setStatus('801', 'finished');
      await cli(['poll-once'], env);
      const ended = JSON.parse((await cli(['status', '--all', '--json'], readOnlyEnv)).stdout) as Array<Record<string, unknown>>;
      expect(ended[0]).toMatchObject({ id: '801', status: 'finished', version: 2 });

      const check = await cli(['check', '--json'], env);
      expect(check.code).toBe(0);
      const report = JSON.parse(check.stdout) as { ok: boolean; checks: Array<{ verdict: string; what: string; detail: string }> };
      expect(report.ok).toBe(true);
      expect(report.checks).toContainEqual({ verdict: 'ok', what: 'config', detail: expect.any(String) });
      expect(report.checks.some((c) => c.what === 'redis' && c.verdict === 'ok')).toBe(true);
      expect(check.stdout).not.toContain('conv-secret-hook');

      const invalid = await cli(['check', '--json'], { ...env, POLL_CRON: 'often' });
      expect(invalid.code).toBe(2);
      expect(JSON.parse(invalid.stdout)).toEqual({ ok: false, checks: [{ verdict: 'fail', what: 'config', detail: expect.stringMatching(/POLL_CRON/) }] });

      const digest = await cli(['digest', '--dry-run', '--json', '--since', new Date(Date.now() - 3_600_000).toISOString()], env);
      expect(digest.code).toBe(0);
      const rendered = JSON.parse(digest.stdout) as Record<string, unknown>;
      expect(rendered).toMatchObject({ action: 'dry-run', periodStart: expect.stringMatching(ISO), periodEnd: expect.stringMatching(ISO), channels: null, out: null });
      expect(rendered.html).toMatch(/<html/i);
      expect(typeof rendered.subject).toBe('string');

      await cli(['silence', 'add', '--route', 'default', '--for', '1h'], env);
      const silences = JSON.parse((await cli(['silence', 'list', '--json'], readOnlyEnv)).stdout) as Array<Record<string, unknown>>;
      expect(silences).toEqual([{ id: expect.any(String), route: 'default', startsAt: expect.stringMatching(ISO), endsAt: expect.stringMatching(ISO), comment: null, createdAt: expect.stringMatching(ISO) }]);

      const notifications = JSON.parse((await cli(['notifications', '--json'], readOnlyEnv)).stdout) as unknown[];
      expect(notifications).toEqual([]);
    } finally {
      sim.removeJob('801');
    }
  });

  it('prints log --json times as ISO 8601 and absent fields as null', async () => {
    // A minute ago: the log keeps entries for retention.deliveriesDays only.
    const at = Date.now() - 60_000;
    const client = redis.client();
    try {
      // What the notify stage logs for an operator alert: no job, no reason.
      const entry = { at, taskId: 'notify-alert-x', route: 'default', channel: 'slack', target: 'default', outcome: 'delivered', attempt: 1, attempts: 1, subject: 'alert polling down', kind: 'alert' };
      await client.lpush(`${readOnlyEnv.GEM_WATCH_PREFIX}:notify:log`, JSON.stringify(entry));
    } finally {
      client.disconnect();
    }
    const run = await cli(['log', '--json'], readOnlyEnv);
    expect(run.stderr).toBe('');
    const entries = JSON.parse(run.stdout) as Array<Record<string, unknown>>;
    expect(entries).toEqual([
      { at: new Date(at).toISOString(), taskId: 'notify-alert-x', route: 'default', channel: 'slack', target: 'default', outcome: 'delivered', attempt: 1, attempts: 1, subject: 'alert polling down', kind: 'alert', jobId: null, version: null, status: null, reason: null, detail: null, via: null },
    ]);
  });

  it('says in one line that Redis is unreachable, for every command that reads it', async () => {
    const closed = `redis://127.0.0.1:${await freePort()}`;
    for (const args of [['status'], ['log'], ['notifications'], ['silence', 'list'], ['poll-once'], ['digest']]) {
      const run = await cli(args, { ...env, REDIS_URL: closed });
      expect(run.code, args.join(' ')).toBe(1);
      expect(run.stderr, args.join(' ')).toMatch(/^gem-watch: cannot reach Redis at 127\.0\.0\.1:\d+ \(ECONNREFUSED\): is it running, and is REDIS_URL right\?\n$/);
    }
  });

  it('says in one line that Redis refused or wants the password, never quoting it', async () => {
    const server = await startRedisServer({});
    const admin = new Redis(server.url);
    try {
      await admin.config('SET', 'requirepass', 'right-pass-4711');
      const port = new URL(server.url).port;
      const wrong = await cli(['status'], { ...readOnlyEnv, REDIS_URL: `redis://:wrong-pass-0815@127.0.0.1:${port}` });
      expect(wrong.code).toBe(1);
      expect(wrong.stderr).toBe(`gem-watch: Redis at 127.0.0.1:${port} refused the user name or password: check them in REDIS_URL\n`);
      const none = await cli(['log'], { ...readOnlyEnv, REDIS_URL: `redis://127.0.0.1:${port}` });
      expect(none.code).toBe(1);
      expect(none.stderr).toMatch(/^gem-watch: Redis at 127\.0\.0\.1:\d+ requires a password: give it in REDIS_URL \(redis:\/\/:PASSWORD@127\.0\.0\.1:\d+\)\n$/);
      const right = await cli(['status'], { ...readOnlyEnv, REDIS_URL: `redis://:right-pass-4711@127.0.0.1:${port}` });
      expect(right.code).toBe(0);
    } finally {
      admin.disconnect();
      await server.close();
    }
  });

  it('prints pretty logs without colour when NO_COLOR is set', () => {
    const script = "import { createLogger } from './src/telemetry/logger.ts'; createLogger({ level: 'info', pretty: 'true' }).warn('hello');";
    const run = (extra: NodeJS.ProcessEnv) =>
      spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: ROOT, env: { PATH: process.env.PATH, HOME: process.env.HOME, ...extra }, encoding: 'utf8' });
    const plain = run({ NO_COLOR: '1' });
    expect(plain.stdout).toMatch(/WARN.*hello/);
    expect(plain.stdout).not.toContain('\u001b[');
  });
});

describe('shell completion', () => {
  /** What bash offers at the end of `line` (the last word is the one being completed). */
  function bashOffers(script: string, words: string[]): string[] {
    const quoted = words.map((word) => `'${word}'`).join(' ');
    const result = spawnSync('bash', ['-c', `${script}\nCOMP_WORDS=(${quoted}); COMP_CWORD=${words.length - 1}; _gem_watch_complete; printf '%s\\n' "\${COMPREPLY[@]}"`], { encoding: 'utf8' });
    expect(result.stderr).toBe('');
    return result.stdout.split('\n').filter(Boolean);
  }

  /** What zsh offers, with compadd, _describe and _files standing in for the completion system. */
  function zshOffers(script: string, words: string[]): string[] {
    const stubs = [
      'compdef() { :; }',
      'compadd() { [[ $1 == -- ]] && shift; printf "%s\\n" "$@"; }',
      '_files() { print FILES; }',
      '_describe() { local -a list; list=("${(@P)4}"); local item; for item in "${list[@]}"; do print -r -- "${item%%:*}"; done; }',
    ].join('\n');
    const quoted = words.map((word) => `'${word}'`).join(' ');
    const result = spawnSync('zsh', ['-f', '-c', `${stubs}\n${script}\nwords=(${quoted}); CURRENT=${words.length}; _gem_watch`], { encoding: 'utf8' });
    expect(result.stderr).toBe('');
    return result.stdout.split('\n').filter(Boolean).map((word) => word.replace(/\\:/g, ':'));
  }

  it('completes commands, subcommands, options and option values in bash', async () => {
    const script = (await cli(['completion', 'bash'], {})).stdout;
    expect(bashOffers(script, ['gem-watch', ''])).toEqual(expect.arrayContaining(['run', 'check', 'status', 'silence', 'completion', 'log']));
    expect(bashOffers(script, ['gem-watch', 'st'])).toEqual(['status']);
    expect(bashOffers(script, ['gem-watch', 'silence', ''])).toEqual(['add', 'list', 'remove']);
    expect(bashOffers(script, ['gem-watch', '--config', 'x.yaml', 'silence', 'l'])).toEqual(['list']);
    expect(bashOffers(script, ['gem-watch', 'status', '--'])).toEqual(expect.arrayContaining(['--all', '--json', '--help', '--config']));
    expect(bashOffers(script, ['gem-watch', 'run', '--role', ''])).toEqual(['all', 'scheduler', 'worker']);
    expect(bashOffers(script, ['gem-watch', 'completion', ''])).toEqual(['bash', 'zsh']);
    expect(bashOffers(script, ['gem-watch', 'test-notify', '--sample', 'f'])).toEqual(['finished', 'failed']);
  });

  it('completes commands, subcommands, options and option values in zsh', async () => {
    const found = spawnSync('zsh', ['--version']);
    if (found.error) {
      // .ci/run installs zsh; a developer's machine without it has the bash test.
      if (process.env.CI) throw new Error('zsh is not installed: .ci/run installs it');
      return;
    }
    const script = (await cli(['completion', 'zsh'], {})).stdout;
    expect(script.startsWith('#compdef gem-watch\n')).toBe(true);
    expect(zshOffers(script, ['gem-watch', ''])).toEqual(expect.arrayContaining(['run', 'check', 'status', 'silence', 'completion']));
    expect(zshOffers(script, ['gem-watch', 'silence', ''])).toEqual(['add', 'list', 'remove']);
    expect(zshOffers(script, ['gem-watch', 'status', '-'])).toEqual(expect.arrayContaining(['--all', '--json', '--config']));
    expect(zshOffers(script, ['gem-watch', 'run', '--role', ''])).toEqual(['all', 'scheduler', 'worker']);
    expect(zshOffers(script, ['gem-watch', 'digest', '--out', ''])).toEqual(['FILES']);
  });

  it('refuses a shell it does not know with exit 2', async () => {
    const run = await cli(['completion', 'fish'], {});
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/bash, zsh/);
  });
});
