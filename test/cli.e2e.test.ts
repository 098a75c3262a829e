import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GemSimulator } from '../src/simulator/gem-simulator.js';
import { startSlackApiServer } from '../src/simulator/slack-api.js';
import { startSlackSink, type SlackSink } from '../src/simulator/slack-sink.js';
import { startTeamsSink } from '../src/simulator/teams-workflows-sink.js';
import { startWebhookReceiver } from '../src/simulator/webhook-receiver.js';
import { startRedis, uniquePrefix, type TestRedis } from './helpers/redis.js';
import { runCli, type CliRun } from './helpers/run-cli.js';

/** The real CLI, from source, with this environment over a minimal one (PATH, HOME, quiet logs). */
function cli(args: string[], env: NodeJS.ProcessEnv): Promise<CliRun> {
  return runCli(args, { PATH: process.env.PATH, HOME: process.env.HOME, LOG_LEVEL: 'warn', ...env });
}

let redis: TestRedis;
let slack: SlackSink;
const sim = new GemSimulator({ apiKey: 'cli-key-123456', bearerToken: 'cli-token-abcdef' });
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  redis = await startRedis();
  slack = await startSlackSink();
  await sim.start();
  env = {
    GEM_API_KEY: 'cli-key-123456',
    GEM_BEARER_TOKEN: 'cli-token-abcdef',
    GEM_API_BASE_URL: sim.baseUrl,
    GEM_JOB_TYPES: 'ROAD_MATCHING',
    REDIS_URL: redis.url,
    GEM_WATCH_PREFIX: uniquePrefix('cli'),
    SLACK_WEBHOOK_URL: slack.webhookUrl('cli-secret-webhook-path'),
  };
});
afterAll(async () => {
  await sim.stop();
  await slack.close();
  await redis.close();
});

describe('gem-watch CLI', () => {
  it('check --send sends a test message to each Teams and signed webhook endpoint, and names the one that refuses', async () => {
    const teams = await startTeamsSink();
    const receiver = await startWebhookReceiver();
    try {
      const run = await cli(['check', '--send'], {
        ...env,
        TEAMS_WEBHOOK_URL: teams.webhookUrl('cli-teams-sig-123456'),
        WEBHOOK_URL: receiver.url,
        WEBHOOK_SECRET: receiver.secret,
      });
      expect(run.stdout).toMatch(/OK\s+teams\s+test message sent to "default"/);
      expect(run.stdout).toMatch(/OK\s+webhook\s+test message sent to "default"/);
      expect(teams.shown()).toHaveLength(1);
      expect(receiver.deliveries()[0]?.event?.type).toBe('job.finished');

      receiver.failNext(1, { status: 410 });
      const gone = await cli(['check', '--send'], { ...env, WEBHOOK_URL: receiver.url, WEBHOOK_SECRET: receiver.secret });
      expect(gone.code).toBe(3);
      expect(gone.stdout).toMatch(/FAIL\s+webhook\s+"default": .*410.*the receiver is gone/);
      expect(gone.stdout).toMatch(/SKIP\s+teams\s+TEAMS_WEBHOOK_URL not set/);
      expect(gone.stdout + gone.stderr).not.toContain(receiver.secret);
    } finally {
      await teams.close();
      await receiver.close();
    }
  });

  it('check names GEM_API_KEY and exits 2 when the key is empty', async () => {
    const run = await cli(['check'], { GEM_API_KEY: '' });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/GEM_API_KEY/);
  });

  it('check names a bad POLL_CRON and a bad SMTP_URL in the same run, without echoing the password', async () => {
    const run = await cli(['check'], { GEM_API_KEY: 'k-1234', POLL_CRON: '61 * * * *', SMTP_URL: 'ftp://user:pa55word-x@mail' });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/POLL_CRON/);
    expect(run.stderr).toMatch(/SMTP_URL/);
    expect(run.stderr).not.toContain('pa55word-x');
  });

  it('check passes against a reachable Redis and GEM, and fails with exit 3 when GEM refuses the key', async () => {
    sim.upsertJob({ id: '499', status: 'finished' });
    try {
      const ok = await cli(['check'], env);
      expect(ok.stderr).toBe('');
      expect(ok.code).toBe(0);
      expect(ok.stdout).toMatch(/OK\s+gem api\s+ROAD_MATCHING: credentials accepted, 1 job\(s\) listed/);
      expect(ok.stdout).toMatch(/OK\s+gem api\s+ROAD_MATCHING: details of job 499 read \(finished\)/);
      expect(ok.stdout).toMatch(/OK\s+redis\s+version/);
      expect(ok.stdout).not.toMatch(/not a job type GEM documents/);

      const typo = await cli(['check'], { ...env, GEM_JOB_TYPES: 'ROAD_MATCHNG' });
      expect(typo.code).toBe(0);
      expect(typo.stdout).toMatch(/WARN\s+gem api\s+ROAD_MATCHNG: not a job type GEM documents \(ROAD_MATCHING, LANE_LEVEL_MATCHING\); check GEM_JOB_TYPES/);

      const refused = await cli(['check'], { ...env, GEM_API_KEY: 'wrong-key-0000' });
      expect(refused.code).toBe(3);
      expect(refused.stdout).toMatch(/FAIL\s+gem api/);
      expect(refused.stdout + refused.stderr).not.toContain('wrong-key-0000');

      // A detail path the API does not serve: the list works, every detail is a 404.
      const wrongPath = await cli(['check'], { ...env, GEM_DETAIL_PATH: '/gem/runs/{jobRunId}' });
      expect(wrongPath.code).toBe(3);
      expect(wrongPath.stdout).toMatch(/FAIL\s+gem api\s+ROAD_MATCHING: details of job 499: .*404.*check GEM_DETAIL_PATH \(now \/gem\/runs\/\{jobRunId\}\)/);
    } finally {
      sim.removeJob('499');
    }
  });

  it('poll-once prints a job id holding terminal control codes as plain text', async () => {
    // OSC 52 would write the operator's clipboard; BEL ends it.
    sim.upsertJob({ id: 'job\u001b]52;c;aGk=\u0007-9', status: 'running', progress: 5 });
    try {
      const run = await cli(['poll-once'], env);
      expect(run.code).toBe(0);
      expect(run.stdout).toContain('job ]52;c;aGk= -9');
      // eslint-disable-next-line no-control-regex
      expect(run.stdout).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f]/);
    } finally {
      sim.removeJob('job\u001b]52;c;aGk=\u0007-9');
    }
  });

  it('poll-once prints the transitions it found, and status lists the tracked jobs', async () => {
    sim.upsertJob({ id: '501', status: 'running', progress: 20, inputFile: 'roads_eu.parquet' });
    const first = await cli(['poll-once'], env);
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/ROAD_MATCHING\t501\t\(new\) -> running/);

    sim.setStatus('501', 'finished');
    const second = await cli(['poll-once'], env);
    expect(second.stdout).toMatch(/501\trunning -> finished\tv2/);

    const status = await cli(['status', '--all'], env);
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(/^ID\s+TYPE\s+STATUS/m);
    expect(status.stdout).toMatch(/501\s+ROAD_MATCHING\s+finished/);
  });

  it('digest --dry-run renders the HTML of the period so far to stdout and sends nothing', async () => {
    const run = await cli(['digest', '--dry-run', '--since', new Date(Date.now() - 3_600_000).toISOString()], env);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/<html/i);
    expect(run.stdout).not.toMatch(/<script/i);
  });

  it('digest refuses --out without --dry-run with exit 2', async () => {
    const run = await cli(['digest', '--out', '/tmp/x.html'], env);
    expect(run.code).toBe(2);
  });

  it('test-notify posts a sample message to Slack and never prints the webhook', async () => {
    slack.reset();
    const run = await cli(['test-notify', '--channel', 'slack'], env);
    expect(run.code).toBe(0);
    expect(slack.accepted()).toHaveLength(1);
    expect(run.stdout + run.stderr).not.toContain('cli-secret-webhook-path');
  });

  it('test-notify --channel slack-app posts a sample card and its thread reply with the bot token, and never prints the token', async () => {
    const token = 'xoxb-cli-0000000000-cliSecretBotToken';
    const api = await startSlackApiServer({ token });
    try {
      const run = await cli(['test-notify', '--channel', 'slack-app'], { ...env, SLACK_BOT_TOKEN: token, SLACK_CHANNEL: '#gem-alerts', SLACK_API_URL: api.apiUrl });
      expect(run.code).toBe(0);
      const [message] = api.messages('#gem-alerts');
      expect(message).toBeDefined();
      expect(api.succeeded('chat.postMessage').length).toBeGreaterThanOrEqual(1);
      expect(run.stdout + run.stderr).not.toContain(token);
      const check = await cli(['check', '--send'], { ...env, SLACK_BOT_TOKEN: token, SLACK_CHANNEL: '#gem-alerts', SLACK_API_URL: api.apiUrl });
      expect(api.succeeded('auth.test')).toHaveLength(1);
      expect(check.stdout).toMatch(/OK\s+slack app\s+bot token accepted/);
      expect(check.stdout).toMatch(/OK\s+slack app\s+test message posted to channel "#gem-alerts"/);
      expect(check.stdout + check.stderr).not.toContain(token);
    } finally {
      await api.close();
    }
  });

  it('test-notify exits 2 for a channel that is not configured', async () => {
    const run = await cli(['test-notify', '--channel', 'email'], env);
    expect(run.code).toBe(2);
  });

  it('notifications --failed says when nothing failed', async () => {
    const run = await cli(['notifications', '--failed'], env);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/no failed deliveries/);
  });
});
