import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { stringify } from 'yaml';
import { loadConfigWithSecrets } from '../../src/config-secrets.js';
import type { Config } from '../../src/config/schema.js';
import { createLogger, type Logger } from '../../src/telemetry/logger.js';

export interface NotifyConfigOptions {
  /** SLACK_WEBHOOK_URL; empty = Slack's default webhook off. */
  slackWebhookUrl?: string;
  /** SMTP_URL; empty = email off. */
  smtpUrl?: string;
  emailTo?: string[];
  /** Merged into the YAML over the defaults (routes, slack.webhooks, notify, ...). */
  yaml?: Record<string, unknown>;
  /** More environment variables. */
  env?: Record<string, string>;
}

/**
 * A configuration loaded the real way (defaults, a YAML file, the environment), so secrets are
 * registered with the redactor exactly as in production.
 */
export function notifyConfig(options: NotifyConfigOptions = {}): Config {
  const dir = mkdtempSync(join(tmpdir(), 'gem-watch-notify-config-'));
  try {
    const file = join(dir, 'config.yaml');
    writeFileSync(file, stringify(options.yaml ?? {}));
    return loadConfigWithSecrets({
      file,
      env: {
        GEM_API_KEY: 'test-api-key-not-used',
        SLACK_WEBHOOK_URL: options.slackWebhookUrl ?? '',
        SMTP_URL: options.smtpUrl ?? '',
        EMAIL_TO: (options.emailTo ?? ['ops@example.com']).join(','),
        EMAIL_FROM: 'gem-watch@example.com',
        ...options.env,
      },
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A real pino logger (with the project's redaction) whose JSON lines are kept for assertions. */
export function capturedLogger(level = 'debug'): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      lines.push(...chunk.toString('utf8').split('\n').filter((line) => line !== ''));
      callback();
    },
  });
  return { logger: createLogger({ level, pretty: 'false', destination }), lines };
}
