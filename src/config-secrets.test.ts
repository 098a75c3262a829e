import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ENV_BINDINGS } from './config/env.js';
import { ConfigError } from './config/load.js';
import { loadConfigWithSecrets } from './config-secrets.js';
import { clearSecrets, scrub } from './telemetry/redact.js';

afterEach(() => clearSecrets());

/** A value per secret variable, each with a marker of its own, shaped so the configuration loads. */
const SECRET_VALUES: Record<string, string> = {
  GEM_API_KEY: 'api-key-marker-1a',
  GEM_BEARER_TOKEN: 'bearer-marker-2b',
  // The Sentinel form: a list of hosts, which URL parsers refuse, must still have its password found.
  REDIS_URL: 'redis+sentinel://:redis-marker-3c@127.0.0.1:26379,127.0.0.1:26380/mymaster',
  REDIS_SENTINEL_PASSWORD: 'sentinel-marker-14n',
  SLACK_WEBHOOK_URL: 'https://hooks.slack.com/services/T0/B0/slack-marker-4d',
  SMTP_URL: 'smtp://user:smtp-marker-5e@mail.example.com:25',
  HTTP_AUTH_TOKEN: 'http-token-marker-6f-long',
  TEAMS_WEBHOOK_URL: 'https://prod-01.westeurope.logic.azure.com/workflows/abc/triggers/manual/paths/invoke?api-version=2016-06-01&sig=teams-marker-8h',
  WEBHOOK_URL: 'https://hooks.example.com/gem/webhook-url-marker-9i',
  // whsec_ and the base64 of "webhook-secret-marker-10j-32bytes!!".
  WEBHOOK_SECRET: 'whsec_d2ViaG9vay1zZWNyZXQtbWFya2VyLTEwai0zMmJ5dGVzISE=',
  SLACK_BOT_TOKEN: 'xoxb-1234-bot-token-marker-15o',
};
const MARKERS = [
  'api-key-marker-1a',
  'bearer-marker-2b',
  'redis-marker-3c',
  'slack-marker-4d',
  'smtp-marker-5e',
  'http-token-marker-6f-long',
  'teams-marker-8h',
  'webhook-url-marker-9i',
  'd2ViaG9vay1zZWNyZXQtbWFya2VyLTEwai0zMmJ5dGVzISE',
  'sentinel-marker-14n',
  'bot-token-marker-15o',
];

describe('loadConfigWithSecrets', () => {
  it('has a value for every secret variable, so a new one cannot be left out of this test', () => {
    expect(ENV_BINDINGS.filter((binding) => binding.secret).map((binding) => binding.name).sort()).toEqual(Object.keys(SECRET_VALUES).sort());
  });

  it('registers every secret the configuration holds, named webhooks of the YAML file included', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'gw-secrets-')), 'config.yaml');
    const named = [
      'https://hooks.slack.com/services/T1/B1/named-marker-7g',
      'https://prod-02.westeurope.logic.azure.com/workflows/def/triggers/manual/paths/invoke?sig=named-teams-marker-11k',
      'https://billing.example.com/hook/named-endpoint-marker-13m',
      // whsec_ and the base64 of "endpoint-secret-marker-12l-32bytes!".
      'whsec_ZW5kcG9pbnQtc2VjcmV0LW1hcmtlci0xMmwtMzJieXRlcyE=',
    ];
    writeFileSync(
      file,
      `slack:\n  webhooks:\n    lanes: ${named[0]}\nteams:\n  webhooks:\n    lanes: "${named[1]}"\nwebhook:\n  endpoints:\n    billing: { url: "${named[2]}", secret: "${named[3]}" }\n`,
    );
    loadConfigWithSecrets({ env: { ...SECRET_VALUES, EMAIL_TO: 'ops@example.com' }, file });
    // The signing keys alone too, without their whsec_ prefix.
    const text = [...Object.values(SECRET_VALUES), ...named, 'd2ViaG9vay1zZWNyZXQtbWFya2VyLTEwai0zMmJ5dGVzISE=', 'ZW5kcG9pbnQtc2VjcmV0LW1hcmtlci0xMmwtMzJieXRlcyE='].join(' ');
    for (const marker of [...MARKERS, 'named-marker-7g', 'named-teams-marker-11k', 'named-endpoint-marker-13m', 'ZW5kcG9pbnQtc2VjcmV0LW1hcmtlci0xMmwtMzJieXRlcyE']) expect(scrub(text)).not.toContain(marker);
  });

  it('never quotes a secret in a configuration error, which is printed before any is registered', () => {
    const wrong = Object.fromEntries(Object.entries(SECRET_VALUES).map(([name, value]) => [name, `${value} not-a-${name}`]));
    let problems = '';
    try {
      loadConfigWithSecrets({ env: { ...wrong, HTTP_HOST: '0.0.0.0', POLL_CRON: 'every minute' } });
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      problems = error.message;
    }
    expect(problems).toMatch(/POLL_CRON/);
    for (const marker of MARKERS) expect(problems).not.toContain(marker);
  });
});
