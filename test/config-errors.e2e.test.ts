import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/load.js';
import { createApp } from '../src/main.js';
import { Metrics } from '../src/telemetry/metrics.js';
import { clearSecrets } from '../src/telemetry/redact.js';
import { GemSimulator } from '../src/simulator/gem-simulator.js';
import { LogCapture } from './helpers/pipeline.js';
import { startRedis, uniquePrefix, type TestRedis } from './helpers/redis.js';
import { runCli, type CliRun } from './helpers/run-cli.js';
import { startSmtpSink, type SmtpSink } from './helpers/smtp-sink.js';

/**
 * Settings that are wrong say so: `gem-watch check` (the real CLI, from source) names the variable
 * and never the secret in it, and a warning-worthy setting is logged when the daemon starts.
 */

const REDIS_PASSWORD = 'redis-pass-4f1c9a';
const SECRETS = [REDIS_PASSWORD, 'pw-in-url-77e1', 'short-tok-9'];

let redis: TestRedis;
let smtp: SmtpSink;
const sim = new GemSimulator({ apiKey: 'cfg-key-123456' });
let env: NodeJS.ProcessEnv;

function cli(args: string[], over: NodeJS.ProcessEnv): Promise<CliRun> {
  return runCli(args, { PATH: process.env.PATH, HOME: process.env.HOME, LOG_LEVEL: 'warn', ...env, ...over });
}

function expectNoSecret(run: CliRun): void {
  for (const secret of SECRETS) expect(run.stdout + run.stderr).not.toContain(secret);
}

beforeAll(async () => {
  redis = await startRedis();
  smtp = await startSmtpSink();
  await sim.start();
  env = {
    GEM_API_KEY: sim.apiKey,
    GEM_API_BASE_URL: sim.baseUrl,
    GEM_JOB_TYPES: 'ROAD_MATCHING',
    REDIS_URL: redis.url,
    GEM_WATCH_PREFIX: uniquePrefix('cfg'),
  };
});

afterAll(async () => {
  await sim.stop();
  await smtp?.close();
  await redis?.close();
});

describe('gem-watch check on a wrong setting', () => {
  const port = () => new URL(redis.url).port;
  const cases: Array<{ name: string; variable: string; over: () => NodeJS.ProcessEnv; says: RegExp }> = [
    {
      name: 'a REDIS_URL database that is not a number',
      variable: 'REDIS_URL',
      over: () => ({ REDIS_URL: `redis://:pw-in-url-77e1@127.0.0.1:${port()}/abc` }),
      says: /database .* must be a whole number/,
    },
    {
      name: 'a REDIS_URL ?db= that is not a number',
      variable: 'REDIS_URL',
      over: () => ({ REDIS_URL: `redis://127.0.0.1:${port()}?db=one` }),
      says: /database .* must be a whole number/,
    },
    { name: 'an EMAIL_FROM that is no address', variable: 'EMAIL_FROM', over: () => ({ EMAIL_FROM: 'nobody' }), says: /must be an e-mail address/ },
    {
      name: 'an HTTP_HOST that only looks like loopback, without a token',
      variable: 'HTTP_HOST',
      over: () => ({ HTTP_HOST: '127.0.0.1.nip.io' }),
      says: /only localhost and loopback IP literals count as loopback/,
    },
    { name: 'an HTTP_AUTH_TOKEN shorter than 16 characters', variable: 'HTTP_AUTH_TOKEN', over: () => ({ HTTP_AUTH_TOKEN: 'short-tok-9' }), says: /at least 16 characters/ },
  ];

  for (const { name, variable, over, says } of cases) {
    it(`exits 2 naming ${variable} for ${name}`, async () => {
      const run = await cli(['check'], over());
      expect(run.code, run.stderr).toBe(2);
      const problem = run.stderr.split('\n').find((line) => line.includes(`(${variable})`));
      expect(problem, run.stderr).toMatch(says);
      // One clear line per problem, no stack.
      expect(run.stderr).not.toMatch(/\n\s+at /);
      expectNoSecret(run);
    });
  }

  it('run refuses a REDIS_URL database that is not a number before connecting (exit 2, no unhandled rejections)', async () => {
    const run = await cli(['run'], { REDIS_URL: `redis://127.0.0.1:${port()}/abc`, HTTP_PORT: '0' });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/redis\.url \(REDIS_URL\)/);
    expect(run.stdout + run.stderr).not.toMatch(/unhandled/i);
  });

  it('says WRONGPASS and NOAUTH as such and exits 2 (a wrong setting), naming REDIS_URL and never the password', async () => {
    const admin = redis.client();
    await admin.config('SET', 'requirepass', REDIS_PASSWORD);
    try {
      const wrong = await cli(['check'], { REDIS_URL: `redis://:pw-in-url-77e1@127.0.0.1:${port()}` });
      expect(wrong.code).toBe(2);
      expect(wrong.stdout).toMatch(/FAIL\s+redis\s+cannot use Redis: Redis refused the user name or password in REDIS_URL \(WRONGPASS/);
      expect(wrong.stdout).not.toMatch(/Connection is closed/);
      expectNoSecret(wrong);

      const none = await cli(['check'], {});
      expect(none.code).toBe(2);
      expect(none.stdout).toMatch(/FAIL\s+redis\s+cannot use Redis: Redis requires a password and REDIS_URL gives none \(NOAUTH/);
      expectNoSecret(none);

      const right = await cli(['check'], { REDIS_URL: `redis://:${REDIS_PASSWORD}@127.0.0.1:${port()}` });
      expect(right.stdout).toMatch(/OK\s+redis\s+version/);
      expectNoSecret(right);
    } finally {
      await admin.auth(REDIS_PASSWORD);
      await admin.config('SET', 'requirepass', '');
      admin.disconnect();
    }
  });

  it('fails the Redis check for a database beyond the server\'s count, which ioredis would quietly swap for database 0', async () => {
    const run = await cli(['check'], { REDIS_URL: `redis://127.0.0.1:${port()}/99` });
    expect(run.code).toBe(2);
    expect(run.stdout).toMatch(/FAIL\s+redis\s+cannot use Redis: the database number in REDIS_URL is beyond/);
  });

  it('warns when SMTP_URL is set but no recipient is configured anywhere, and not once EMAIL_TO is set', async () => {
    const lonely = await cli(['check'], { SMTP_URL: smtp.url() });
    // A warning (the daemon starts with it), and a wrong setting all the same: exit 2.
    expect(lonely.code, lonely.stdout + lonely.stderr).toBe(2);
    expect(lonely.stdout).toMatch(/WARN\s+config\s+email\.smtpUrl \(SMTP_URL\) is set but no recipient is configured anywhere \(email\.to \/ EMAIL_TO/);

    const addressed = await cli(['check'], { SMTP_URL: smtp.url(), EMAIL_TO: 'team@example.com' });
    expect(addressed.code).toBe(0);
    expect(addressed.stdout).not.toMatch(/WARN\s+config/);
  });
});

describe('start', () => {
  it('logs the SMTP_URL-without-recipients warning once when the daemon starts', async () => {
    const logs = new LogCapture('warn');
    const config = loadConfig({ env: { ...env, SMTP_URL: smtp.url(), POLL_CRON: '0 0 1 1 *', DIGEST_CRON: '0 0 1 1 *' } });
    const app = createApp(config, { logger: logs.logger, metrics: new Metrics(), http: false });
    try {
      await app.start();
    } finally {
      await app.stop(2_000);
      clearSecrets();
    }
    expect(logs.messages().filter((message) => message.includes('SMTP_URL') && message.includes('no recipient'))).toHaveLength(1);
  });
});
