import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { clearSecrets, scrub } from '../observability/redact.js';
import { ConfigError, loadConfig } from './load.js';

function problemsOf(env: NodeJS.ProcessEnv, file?: string): string[] {
  try {
    loadConfig({ env, file });
  } catch (error) {
    if (error instanceof ConfigError) return [...error.problems];
    throw error;
  }
  return [];
}

afterEach(() => clearSecrets());

describe('loadConfig', () => {
  it('applies the documented defaults with only the API key set', () => {
    const config = loadConfig({ env: { GEM_API_KEY: 'k-1234' } });
    expect(config.gem.baseUrl).toBe('https://api.tomtom.com/maps/orbis/platform');
    expect(config.gem.jobTypes).toEqual(['ROAD_MATCHING', 'LANE_LEVEL_MATCHING']);
    expect(config.poll.cron).toBe('* * * * *');
    expect(config.redis).toEqual({ url: 'redis://127.0.0.1:6379', prefix: 'gemwatch' });
    expect(config.notify.on).toEqual(['finished', 'failed']);
    expect(config.email.onTransition).toBe(true);
    expect(config.digest).toMatchObject({ cron: '0 8 * * *', timezone: 'UTC' });
    expect(config.http).toMatchObject({ host: '127.0.0.1', port: 9464 });
    expect(config.log.level).toBe('info');
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

  it('reads secrets from NAME_FILE and registers them for redaction', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gw-config-'));
    writeFileSync(join(dir, 'key'), 'file-secret-key\n');
    const config = loadConfig({ env: { GEM_API_KEY_FILE: join(dir, 'key'), SLACK_WEBHOOK_URL: 'https://hooks.slack.com/services/T0/B0/abcdef' } });
    expect(config.gem.apiKey).toBe('file-secret-key');
    expect(scrub('key file-secret-key and https://hooks.slack.com/services/T0/B0/abcdef')).toBe('key [redacted] and [redacted]');
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
    expect(problemsOf({ GEM_API_KEY: 'k-1234', HTTP_HOST: '0.0.0.0', HTTP_AUTH_TOKEN: 'long-token' })).toEqual([]);
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
});
