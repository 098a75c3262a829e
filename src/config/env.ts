/**
 * The environment variables gem-watch reads: part of its public interface, so names never change.
 * Each overrides one YAML key. Secrets may also be given as NAME_FILE, a path whose contents are read.
 */
export type EnvKind = 'string' | 'list' | 'boolean' | 'integer';

export interface EnvBinding {
  name: string;
  /** Dotted YAML path. */
  path: string;
  kind: EnvKind;
  /** Secret: accepted as NAME_FILE too, and redacted from every log line and error. */
  secret?: boolean;
  description: string;
}

export const ENV_BINDINGS: readonly EnvBinding[] = [
  { name: 'GEM_API_BASE_URL', path: 'gem.baseUrl', kind: 'string', description: 'Base URL of the GEM API' },
  { name: 'GEM_API_KEY', path: 'gem.apiKey', kind: 'string', secret: true, description: 'TomTom API key (required)' },
  { name: 'GEM_BEARER_TOKEN', path: 'gem.auth.bearerToken', kind: 'string', secret: true, description: 'A fixed bearer token' },
  { name: 'GEM_BEARER_TOKEN_COMMAND', path: 'gem.auth.command', kind: 'string', description: 'Command that prints a bearer token (az CLI)' },
  { name: 'GEM_AUTH_PROVIDER', path: 'gem.auth.provider', kind: 'string', description: 'auto, none, static, command or azure' },
  { name: 'GEM_AUTH_AZURE_SCOPE', path: 'gem.auth.azureScope', kind: 'string', description: 'Scope asked of Azure identity (…/.default for workload or managed identity)' },
  { name: 'GEM_DETAIL_PATH', path: 'gem.detailPath', kind: 'string', description: 'Detail path template with {jobRunId}' },
  { name: 'GEM_JOB_TYPES', path: 'gem.jobTypes', kind: 'list', description: 'Job types to watch (comma list)' },
  { name: 'POLL_CRON', path: 'poll.cron', kind: 'string', description: 'Poll schedule (node-cron, 5 or 6 fields)' },
  { name: 'POLL_PROGRESS_EVERY_SECONDS', path: 'poll.progressEverySeconds', kind: 'integer', description: 'An active job whose list status is unchanged is read again after this many seconds (or at its expected end, or a stuck/overdue threshold); 0 = every poll' },
  {
    name: 'REDIS_URL',
    path: 'redis.url',
    kind: 'string',
    secret: true,
    description: 'Redis URL: redis:// or rediss:// (one server), redis+cluster://host:port,host:port (Redis Cluster), redis+sentinel://host:port,host:port/<master-name> (Sentinel); rediss+ for TLS',
  },
  { name: 'GEM_WATCH_PREFIX', path: 'redis.prefix', kind: 'string', description: 'Prefix of every Redis key; {gemwatch} by default on a cluster, where it must hold a {hash tag}' },
  { name: 'REDIS_SENTINEL_PASSWORD', path: 'redis.sentinelPassword', kind: 'string', secret: true, description: 'Password of the Sentinels (redis+sentinel:// only); the URL password is the data nodes\'' },
  { name: 'NOTIFY_ON', path: 'notify.on', kind: 'list', description: 'Statuses that are announced (comma list)' },
  { name: 'SLACK_WEBHOOK_URL', path: 'slack.webhookUrl', kind: 'string', secret: true, description: 'Default Slack webhook; unset = Slack off' },
  { name: 'TEAMS_WEBHOOK_URL', path: 'teams.webhookUrl', kind: 'string', secret: true, description: 'Default Teams Workflows webhook; unset = Teams off' },
  { name: 'WEBHOOK_URL', path: 'webhook.url', kind: 'string', secret: true, description: 'Default signed webhook receiver (Standard Webhooks); unset = off' },
  { name: 'WEBHOOK_SECRET', path: 'webhook.secret', kind: 'string', secret: true, description: 'Signing secret of WEBHOOK_URL (whsec_…)' },
  { name: 'SLACK_BOT_TOKEN', path: 'slackApp.botToken', kind: 'string', secret: true, description: 'Bot token (xoxb-…) for Slack app mode: one message per job, updated in place; unset = off' },
  { name: 'SLACK_CHANNEL', path: 'slackApp.channel', kind: 'string', description: 'Slack app mode: the default route\'s channel id (C0123ABCD) or name (#gem-alerts)' },
  { name: 'SLACK_API_URL', path: 'slackApp.apiUrl', kind: 'string', description: 'Slack Web API base URL (default https://slack.com/api/), for proxies and tests' },
  { name: 'SMTP_URL', path: 'email.smtpUrl', kind: 'string', secret: true, description: 'smtp[s]://user:pass@host:port; unset = email off' },
  { name: 'EMAIL_FROM', path: 'email.from', kind: 'string', description: 'Sender address' },
  { name: 'EMAIL_TO', path: 'email.to', kind: 'list', description: 'Default recipients (comma list)' },
  { name: 'EMAIL_ON_TRANSITION', path: 'email.onTransition', kind: 'boolean', description: 'One email per announced transition' },
  { name: 'DIGEST_CRON', path: 'digest.cron', kind: 'string', description: 'Digest schedule (node-cron)' },
  { name: 'DIGEST_TIMEZONE', path: 'digest.timezone', kind: 'string', description: 'Time zone of the digest' },
  { name: 'HTTP_HOST', path: 'http.host', kind: 'string', description: 'Address of the health/metrics/status server' },
  { name: 'HTTP_PORT', path: 'http.port', kind: 'integer', description: 'Port of the health/metrics/status server' },
  { name: 'HTTP_AUTH_TOKEN', path: 'http.authToken', kind: 'string', secret: true, description: 'Bearer token (at least 16 characters) required when HTTP_HOST is not loopback; without one only loopback Host headers are served' },
  { name: 'HTTP_OPS_PORT', path: 'http.opsPort', kind: 'integer', description: 'Port of the ops listener (/healthz, /readyz, /metrics without the token); unset = none' },
  { name: 'HTTP_OPS_HOST', path: 'http.opsHost', kind: 'string', description: 'Address of the ops listener' },
  { name: 'LOG_LEVEL', path: 'log.level', kind: 'string', description: 'fatal, error, warn, info, debug, trace or silent' },
  { name: 'LOG_PRETTY', path: 'log.pretty', kind: 'string', description: 'auto, true or false' },
];

/** Finds the environment variable that overrides a YAML path, if any. */
export function envNameFor(path: string): string | undefined {
  return ENV_BINDINGS.find((binding) => binding.path === path)?.name;
}
