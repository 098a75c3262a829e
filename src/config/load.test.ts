import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, configSecrets, loadConfig } from './load.js';
import { isLoopbackHost } from './loopback.js';

function problemsOf(env: NodeJS.ProcessEnv, file?: string): string[] {
  try {
    loadConfig({ env, file });
  } catch (error) {
    if (error instanceof ConfigError) return [...error.problems];
    throw error;
  }
  return [];
}

describe('loadConfig', () => {
  it('applies the documented defaults with only the API key set', () => {
    const config = loadConfig({ env: { GEM_API_KEY: 'k-1234' } });
    expect(config.gem.baseUrl).toBe('https://api.tomtom.com/maps/orbis/platform');
    expect(config.gem.jobTypes).toEqual(['ROAD_MATCHING', 'LANE_LEVEL_MATCHING']);
    expect(config.poll.cron).toBe('* * * * *');
    expect(config.redis).toEqual({ url: 'redis://127.0.0.1:6379', prefix: 'gemwatch', sentinelPassword: '' });
    expect(config.notify.on).toEqual(['finished', 'failed']);
    expect(config.email.onTransition).toBe(true);
    expect(config.digest).toMatchObject({ cron: '0 8 * * *', timezone: 'UTC' });
    expect(config.http).toMatchObject({ host: '127.0.0.1', port: 9464 });
    expect(config.log.level).toBe('info');
  });

  it('refuses retention.vanishedDays shorter than retention.deliveriesDays + 1, naming both, and takes the defaults', () => {
    const file = (yaml: string) => {
      const path = join(mkdtempSync(join(tmpdir(), 'gw-retention-')), 'config.yaml');
      writeFileSync(path, yaml);
      return path;
    };
    const env = { GEM_API_KEY: 'k-1234' };
    const problems = problemsOf(env, file('retention:\n  vanishedDays: 30\n  deliveriesDays: 30\n'));
    expect(problems).toEqual([
      'retention.vanishedDays: 30 must be at least retention.deliveriesDays (30) + 1: a forgotten job listed again starts over at version 1, and delivery markers of its old run kept longer would drop the announcement of its new end',
    ]);
    expect(problemsOf(env, file('retention:\n  vanishedDays: 8\n  deliveriesDays: 7\n'))).toEqual([]);
    expect(loadConfig({ env }).retention).toMatchObject({ vanishedDays: 31, deliveriesDays: 30 });
  });

  it('reads Slack app mode from SLACK_BOT_TOKEN, SLACK_CHANNEL and SLACK_API_URL, and says what is wrong with them', () => {
    const path = (yaml: string) => {
      const file = join(mkdtempSync(join(tmpdir(), 'gw-slackapp-')), 'config.yaml');
      writeFileSync(file, yaml);
      return file;
    };
    const config = loadConfig({ env: { GEM_API_KEY: 'k-1234', SLACK_BOT_TOKEN: 'xoxb-123-456-abcdef', SLACK_CHANNEL: '#gem-alerts' } });
    expect(config.slackApp).toMatchObject({ channel: '#gem-alerts', apiUrl: 'https://slack.com/api/', replyBroadcast: ['failed'], mentions: [], liveProgress: false, progressEveryMinutes: 5 });
    expect(problemsOf({ GEM_API_KEY: 'k-1234', SLACK_CHANNEL: 'C0123ABCD' })).toEqual([
      'slackApp.channel (SLACK_CHANNEL): set, but slackApp.botToken (SLACK_BOT_TOKEN) is not; Slack app mode needs both',
    ]);
    expect(problemsOf({ GEM_API_KEY: 'k-1234', SLACK_BOT_TOKEN: 'not-a-token-value' })).toEqual(['slackApp.botToken (SLACK_BOT_TOKEN): must be a Slack bot token (xoxb-…)']);
    expect(problemsOf({ GEM_API_KEY: 'k-1234', SLACK_BOT_TOKEN: 'xoxb-123-456-abcdef', SLACK_CHANNEL: 'Gem Alerts!' }).join('\n')).toMatch(/slackApp\.channel \(SLACK_CHANNEL\): must be a Slack channel id/);
    expect(problemsOf({ GEM_API_KEY: 'k-1234', SLACK_API_URL: 'https://proxy.example/slack' })).toEqual(['slackApp.apiUrl (SLACK_API_URL): must end with a slash, such as https://slack.com/api/']);
    const routes = problemsOf({ GEM_API_KEY: 'k-1234' }, path('routes:\n  - name: lanes\n    slackApp: { channel: "#lanes", mentions: ["<!channel>"] }\n'));
    expect(routes.join('\n')).toMatch(/routes\.0\.slackApp\.mentions\.0: must be <!subteam\^ID> or <@USERID>/);
    const tokenless = problemsOf({ GEM_API_KEY: 'k-1234' }, path('routes:\n  - name: lanes\n    slackApp: { channel: "#lanes" }\n'));
    expect(tokenless).toEqual(['routes[0].slackApp.channel: a channel is given but slackApp.botToken (SLACK_BOT_TOKEN) is not set']);
    expect(configSecrets(config).values).toContain('xoxb-123-456-abcdef');
  });

  it('names every problem at once, with the YAML key and the environment variable', () => {
    const problems = problemsOf({ GEM_API_KEY: '', POLL_CRON: 'every minute', SMTP_URL: 'http://bob:hunter22@mail' });
    expect(problems).toHaveLength(3);
    expect(problems.join('\n')).toMatch(/gem\.apiKey \(GEM_API_KEY\)/);
    expect(problems.join('\n')).toMatch(/poll\.cron \(POLL_CRON\)/);
    expect(problems.join('\n')).toMatch(/email\.smtpUrl \(SMTP_URL\)/);
    expect(problems.join('\n')).not.toContain('hunter22');
  });

  it('reads lists, booleans and integers from the environment', () => {
    const config = loadConfig({
      env: { GEM_API_KEY: 'k-1234', GEM_JOB_TYPES: ' ROAD_MATCHING ,', EMAIL_TO: 'a@x.io,b@x.io', EMAIL_ON_TRANSITION: 'no', HTTP_PORT: '0' },
    });
    expect(config.gem.jobTypes).toEqual(['ROAD_MATCHING']);
    expect(config.email.to).toEqual(['a@x.io', 'b@x.io']);
    expect(config.email.onTransition).toBe(false);
    expect(config.http.port).toBe(0);
  });

  it('reads secrets from NAME_FILE and lists them for the redactor', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gw-config-'));
    writeFileSync(join(dir, 'key'), 'file-secret-key\n');
    const config = loadConfig({ env: { GEM_API_KEY_FILE: join(dir, 'key'), SLACK_WEBHOOK_URL: 'https://hooks.slack.com/services/T0/B0/abcdef' } });
    expect(config.gem.apiKey).toBe('file-secret-key');
    expect(configSecrets(config)).toEqual({
      values: ['file-secret-key'],
      secretUrls: ['https://hooks.slack.com/services/T0/B0/abcdef'],
      passwordUrls: ['redis://127.0.0.1:6379'],
    });
  });

  it('merges a YAML file over the defaults and rejects unknown keys', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gw-config-'));
    const file = join(dir, 'config.yaml');
    writeFileSync(file, 'poll:\n  detailConcurrency: 3\n  detailConcurency: 4\n');
    const problems = problemsOf({ GEM_API_KEY: 'k-1234' }, file);
    expect(problems.join()).toMatch(/detailConcurency/);
    writeFileSync(file, 'poll:\n  detailConcurrency: 3\n');
    expect(loadConfig({ env: { GEM_API_KEY: 'k-1234' }, file }).poll.detailConcurrency).toBe(3);
  });

  it('refuses to expose the status page beyond loopback without a token', () => {
    expect(problemsOf({ GEM_API_KEY: 'k-1234', HTTP_HOST: '0.0.0.0' }).join()).toMatch(/HTTP_AUTH_TOKEN/);
    expect(problemsOf({ GEM_API_KEY: 'k-1234', HTTP_HOST: '0.0.0.0', HTTP_AUTH_TOKEN: 'a-long-enough-token' })).toEqual([]);
  });

  it('counts only localhost and loopback IP literals as loopback', () => {
    for (const host of ['127.0.0.1', '127.3.4.5', 'localhost', 'LOCALHOST', '::1', '[::1]', '0:0:0:0:0:0:0:1', '::ffff:127.0.0.1']) {
      expect(isLoopbackHost(host), host).toBe(true);
    }
    for (const host of ['127.0.0.1.nip.io', '127.evil.example', 'localhost.example', '0.0.0.0', '::', '10.0.0.1', '::ffff:10.0.0.1', '127.1']) {
      expect(isLoopbackHost(host), host).toBe(false);
    }
  });

  it('refuses an HTTP_AUTH_TOKEN shorter than 16 characters without quoting it', () => {
    const problems = problemsOf({ GEM_API_KEY: 'k-1234', HTTP_AUTH_TOKEN: 'fifteen-chars-x' });
    expect(problems).toEqual([expect.stringMatching(/^http\.authToken \(HTTP_AUTH_TOKEN\): must be at least 16 characters/)]);
    expect(problems.join()).not.toContain('fifteen-chars-x');
    expect(problemsOf({ GEM_API_KEY: 'k-1234', HTTP_AUTH_TOKEN: 'sixteen-chars-xy' })).toEqual([]);
  });

  it('takes EMAIL_FROM as an address or a named address, nothing else', () => {
    for (const from of ['gem-watch@example.com', 'gem-watch <gem-watch@example.com>', '"GEM watch" <gw@example.com>']) {
      expect(problemsOf({ GEM_API_KEY: 'k-1234', EMAIL_FROM: from }), from).toEqual([]);
    }
    for (const from of ['nobody', 'gem-watch <nobody>', 'a@b.io\r\nBcc: x@y.io', '<>']) {
      expect(problemsOf({ GEM_API_KEY: 'k-1234', EMAIL_FROM: from }).join(), from).toMatch(/email\.from \(EMAIL_FROM\): must be an e-mail address/);
    }
  });

  it('refuses a Redis database that is not a whole number, in the path or in ?db=', () => {
    for (const url of ['redis://127.0.0.1:6379/abc', 'redis://:pw-x@127.0.0.1:6379/1abc', 'redis://127.0.0.1:6379?db=x', 'redis://127.0.0.1:6379/-1']) {
      const problems = problemsOf({ GEM_API_KEY: 'k-1234', REDIS_URL: url });
      expect(problems.join(), url).toMatch(/redis\.url \(REDIS_URL\): the database .* must be a whole number/);
      expect(problems.join()).not.toContain('pw-x');
    }
    for (const url of ['redis://127.0.0.1:6379', 'redis://127.0.0.1:6379/', 'redis://127.0.0.1:6379/2', 'rediss://:pw@h:6380/0?db=0']) {
      expect(problemsOf({ GEM_API_KEY: 'k-1234', REDIS_URL: url }), url).toEqual([]);
    }
  });

  it('reads the cluster and Sentinel forms of REDIS_URL, and names REDIS_URL when one is wrong, never quoting it', () => {
    for (const url of ['redis+cluster://127.0.0.1:7000,127.0.0.1:7001', 'rediss+cluster://u:pw@[::1]:7000', 'redis+sentinel://:pw@h1:26379,h2:26380/mymaster', 'rediss+sentinel://h1/mymaster']) {
      expect(problemsOf({ GEM_API_KEY: 'k-1234', REDIS_URL: url }), url).toEqual([]);
    }
    const wrong: Array<[string, RegExp]> = [
      ['redis+cluster://:pw-x@', /names no cluster seed node/],
      ['redis+cluster://:pw-x@h1:7000/2', /only database 0/],
      ['redis+cluster://:pw-x@h1:70000', /port must be between 1 and 65535/],
      ['redis+cluster://:pw-x@h1:7000;h2:7001', /host:port/],
      ['redis+sentinel://:pw-x@h1:26379', /must end with \/<master-name>/],
      ['redis+sentinel://:pw-x@h1:26379/mymaster?x=1', /no \?query/],
      ['redis+replica://:pw-x@h1:26379', /must be redis:\/\/host:port/],
    ];
    for (const [url, message] of wrong) {
      const problems = problemsOf({ GEM_API_KEY: 'k-1234', REDIS_URL: url }).join();
      expect(problems, url).toMatch(/^redis\.url \(REDIS_URL\): /);
      expect(problems, url).toMatch(message);
      expect(problems).not.toContain('pw-x');
    }
  });

  it('gives a cluster the braced prefix {gemwatch} by default, and refuses a chosen prefix without a hash tag', () => {
    const cluster = 'redis+cluster://127.0.0.1:7000,127.0.0.1:7001';
    expect(loadConfig({ env: { GEM_API_KEY: 'k-1234', REDIS_URL: cluster } }).redis.prefix).toBe('{gemwatch}');
    expect(loadConfig({ env: { GEM_API_KEY: 'k-1234', REDIS_URL: 'redis+sentinel://h1:26379/mymaster' } }).redis.prefix).toBe('gemwatch');
    expect(loadConfig({ env: { GEM_API_KEY: 'k-1234', REDIS_URL: cluster, GEM_WATCH_PREFIX: 'gw-{prod}' } }).redis.prefix).toBe('gw-{prod}');
    for (const prefix of ['gemwatch', '{}gemwatch', 'gem{watch', 'gem}watch{']) {
      const problems = problemsOf({ GEM_API_KEY: 'k-1234', REDIS_URL: cluster, GEM_WATCH_PREFIX: prefix });
      expect(problems.join(), prefix).toMatch(/^redis\.prefix \(GEM_WATCH_PREFIX\): on a Redis Cluster .* hash tag .*write \{gemwatch\}/);
    }
    const dir = mkdtempSync(join(tmpdir(), 'gw-config-'));
    writeFileSync(join(dir, 'c.yaml'), 'redis:\n  prefix: mine\n');
    expect(problemsOf({ GEM_API_KEY: 'k-1234', REDIS_URL: cluster }, join(dir, 'c.yaml')).join()).toMatch(/GEM_WATCH_PREFIX.*write \{mine\}/);
  });

  it('takes REDIS_SENTINEL_PASSWORD only with a Sentinel REDIS_URL', () => {
    expect(problemsOf({ GEM_API_KEY: 'k-1234', REDIS_SENTINEL_PASSWORD: 'sentinel-pw' }).join()).toMatch(/^redis\.sentinelPassword \(REDIS_SENTINEL_PASSWORD\): is only used with a redis\+sentinel/);
    expect(problemsOf({ GEM_API_KEY: 'k-1234', REDIS_SENTINEL_PASSWORD: 'sentinel-pw', REDIS_URL: 'redis+sentinel://h1:26379/mymaster' })).toEqual([]);
  });

  it('has no ops listener unless HTTP_OPS_PORT is set, and refuses one on the main port', () => {
    expect(loadConfig({ env: { GEM_API_KEY: 'k-1234' } }).http.opsPort).toBeNull();
    const ops = loadConfig({ env: { GEM_API_KEY: 'k-1234', HTTP_OPS_PORT: '9465', HTTP_OPS_HOST: '10.0.0.5' } }).http;
    expect([ops.opsPort, ops.opsHost]).toEqual([9465, '10.0.0.5']);
    expect(problemsOf({ GEM_API_KEY: 'k-1234', HTTP_OPS_PORT: '9464' }).join()).toMatch(/http\.opsPort \(HTTP_OPS_PORT\): 9464 is also http\.port/);
    expect(problemsOf({ GEM_API_KEY: 'k-1234', HTTP_OPS_PORT: 'ops' }).join()).toMatch(/http\.opsPort \(HTTP_OPS_PORT\): must be a whole number/);
    expect(problemsOf({ GEM_API_KEY: 'k-1234', HTTP_OPS_PORT: '70000' }).join()).toMatch(/HTTP_OPS_PORT/);
  });

  it('checks that routes name webhooks that exist', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gw-config-'));
    const file = join(dir, 'config.yaml');
    writeFileSync(file, 'routes:\n  - name: lanes\n    slack: [nowhere]\n');
    expect(problemsOf({ GEM_API_KEY: 'k-1234' }, file).join()).toMatch(/nowhere/);
  });

  it('refuses a digest sent to the default webhook when SLACK_WEBHOOK_URL is not set', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gw-config-'));
    const file = join(dir, 'config.yaml');
    writeFileSync(file, 'digest:\n  slackWebhook: default\n');
    expect(problemsOf({ GEM_API_KEY: 'k-1234', EMAIL_TO: 'ops@example.com', SMTP_URL: 'smtp://mail:25' }, file)).toEqual([
      'digest.slackWebhook: names "default" but slack.webhookUrl (SLACK_WEBHOOK_URL) is not set',
    ]);
    expect(problemsOf({ GEM_API_KEY: 'k-1234', SLACK_WEBHOOK_URL: 'https://hooks.slack.com/services/T0/B0/x' }, file)).toEqual([]);
  });

  it('needs no API key for read-only commands, and still checks everything else for them', () => {
    expect(problemsOf({}).join()).toMatch(/gem\.apiKey \(GEM_API_KEY\)/);
    expect(loadConfig({ env: {}, readOnly: true }).gem.apiKey).toBe('');
    expect(loadConfig({ env: { GEM_API_KEY: 'k-1234' }, readOnly: true }).gem.apiKey).toBe('k-1234');
    const dir = mkdtempSync(join(tmpdir(), 'gw-config-'));
    const file = join(dir, 'config.yaml');
    writeFileSync(file, 'gem:\n  apiKye: typo\n');
    const problems = (() => {
      try {
        loadConfig({ env: { POLL_CRON: 'every minute' }, file, readOnly: true });
      } catch (error) {
        if (error instanceof ConfigError) return [...error.problems];
        throw error;
      }
      return [];
    })();
    expect(problems.join('\n')).toMatch(/POLL_CRON/);
    expect(problems.join('\n')).toMatch(/apiKye/);
    expect(problems.join('\n')).not.toMatch(/GEM_API_KEY/);
  });
});
