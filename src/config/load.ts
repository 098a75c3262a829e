import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { ENV_BINDINGS, envNameFor, type EnvBinding } from './env.js';
import { isLoopbackHost } from './loopback.js';
import { defaultPrefix, parseRedisUrl, prefixHasHashTag, redisModeOf, redisUrlPassword } from './redis-url.js';
import { configSchema, type Config } from './schema.js';

/** The defaults shipped with gem-watch; resolved the same from src/ and from dist/. */
export const DEFAULT_CONFIG_FILE = fileURLToPath(new URL('../../config/default.yaml', import.meta.url));

/** Every problem found in the configuration, each naming the YAML key and its environment variable. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(readonly problems: readonly string[]) {
    super(`invalid configuration:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`);
  }
}

export interface LoadConfigOptions {
  /** A YAML file merged over the defaults; else GEM_WATCH_CONFIG; else none. */
  file?: string;
  env?: NodeJS.ProcessEnv;
  /**
   * For commands that only read gem-watch's own state in Redis (`status`, `log`, `notifications`,
   * `silence list`): the GEM API key may be absent (it is then ''), since they never call GEM.
   * Every other key is checked as usual. Default false.
   */
  readOnly?: boolean;
}

/** configSchema with the API key optional: read-only commands must not need a secret they never use. */
const readOnlySchema = configSchema.extend({ gem: configSchema.shape.gem.extend({ apiKey: z.string().default('') }) });

type Tree = Record<string, unknown>;

function isTree(value: unknown): value is Tree {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Objects merge key by key; anything else (arrays included) replaces. */
function merge(base: Tree, over: Tree): Tree {
  const out: Tree = { ...base };
  for (const [key, value] of Object.entries(over)) {
    const current = out[key];
    out[key] = isTree(current) && isTree(value) ? merge(current, value) : value;
  }
  return out;
}

function setPath(tree: Tree, path: string, value: unknown): void {
  const keys = path.split('.');
  let node = tree;
  for (const key of keys.slice(0, -1)) {
    if (!isTree(node[key])) node[key] = {};
    node = node[key] as Tree;
  }
  node[keys[keys.length - 1]!] = value;
}

function readYaml(file: string, label: string, problems: string[]): Tree {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    problems.push(`${label}: cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
    return {};
  }
  try {
    const parsed: unknown = parseYaml(text);
    if (parsed === null || parsed === undefined) return {};
    if (!isTree(parsed)) {
      problems.push(`${label}: ${file} must hold a YAML mapping at the top`);
      return {};
    }
    return parsed;
  } catch (error) {
    problems.push(`${label}: ${file} is not valid YAML: ${(error as Error).message.split('\n')[0]}`);
    return {};
  }
}

function envValue(binding: EnvBinding, env: NodeJS.ProcessEnv, problems: string[]): string | undefined {
  const fileName = env[`${binding.name}_FILE`];
  if (binding.secret && fileName) {
    try {
      return readFileSync(fileName, 'utf8').replace(/\r?\n$/, '');
    } catch (error) {
      problems.push(`${binding.name}_FILE: cannot read ${fileName} (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
      return undefined;
    }
  }
  return env[binding.name];
}

function convert(binding: EnvBinding, raw: string, problems: string[]): unknown {
  switch (binding.kind) {
    case 'list':
      return raw
        .split(',')
        .map((item) => item.trim())
        .filter((item) => item !== '');
    case 'boolean': {
      const word = raw.trim().toLowerCase();
      if (['true', '1', 'yes', 'on'].includes(word)) return true;
      if (['false', '0', 'no', 'off'].includes(word)) return false;
      problems.push(`${binding.path} (${binding.name}): must be true or false`);
      return undefined;
    }
    case 'integer': {
      const number = Number(raw.trim());
      if (raw.trim() === '' || !Number.isInteger(number)) {
        problems.push(`${binding.path} (${binding.name}): must be a whole number`);
        return undefined;
      }
      return number;
    }
    default:
      return raw.trim();
  }
}

/** Checks that span several keys, which the schema cannot express on its own. */
function crossChecks(config: Config): string[] {
  const problems: string[] = [];
  const names = new Set<string>();
  for (const [index, route] of config.routes.entries()) {
    if (names.has(route.name)) problems.push(`routes[${index}].name: "${route.name}" is used twice`);
    if (route.name === 'default') {
      problems.push(`routes[${index}].name: "default" is reserved for the route built from SLACK_WEBHOOK_URL and EMAIL_TO`);
    }
    names.add(route.name);
    for (const webhook of route.slack) {
      if (webhook !== 'default' && !(webhook in config.slack.webhooks)) {
        problems.push(`routes[${index}].slack: names webhook "${webhook}", which slack.webhooks does not define`);
      }
      if (webhook === 'default' && !config.slack.webhookUrl) {
        problems.push(`routes[${index}].slack: names "default" but slack.webhookUrl (SLACK_WEBHOOK_URL) is not set`);
      }
    }
    problems.push(...namedEndpointProblems(`routes[${index}].teams`, route.teams, config.teams.webhooks, config.teams.webhookUrl, 'teams.webhooks', 'teams.webhookUrl (TEAMS_WEBHOOK_URL)'));
    problems.push(...namedEndpointProblems(`routes[${index}].webhook`, route.webhook, config.webhook.endpoints, config.webhook.url, 'webhook.endpoints', 'webhook.url (WEBHOOK_URL)'));
    if (route.slackApp?.channel && !config.slackApp.botToken) {
      problems.push(`routes[${index}].slackApp.channel: a channel is given but slackApp.botToken (SLACK_BOT_TOKEN) is not set`);
    }
    if (route.email.length > 0 && !config.email.smtpUrl) {
      problems.push(`routes[${index}].email: recipients given but email.smtpUrl (SMTP_URL) is not set`);
    }
  }
  if (!isLoopbackHost(config.http.host) && !config.http.authToken) {
    problems.push(
      `http.host (HTTP_HOST): binding to ${config.http.host} may expose the status page beyond this machine (only localhost and loopback IP literals count as loopback); set http.authToken (HTTP_AUTH_TOKEN) or bind to 127.0.0.1`,
    );
  }
  // Node refuses to start a server whose headers may take longer than the whole request.
  if (config.http.headersTimeoutMs > config.http.requestTimeoutMs) {
    problems.push('http.requestTimeoutMs: must be at least http.headersTimeoutMs');
  }
  const { port, opsPort } = config.http;
  if (opsPort !== null && opsPort !== 0 && opsPort === port) {
    problems.push(`http.opsPort (HTTP_OPS_PORT): ${opsPort} is also http.port (HTTP_PORT); the ops listener needs a port of its own`);
  }
  if (config.slackApp.channel && !config.slackApp.botToken) {
    problems.push('slackApp.channel (SLACK_CHANNEL): set, but slackApp.botToken (SLACK_BOT_TOKEN) is not; Slack app mode needs both');
  }
  if (config.slackApp.botToken && !/^xox[bp]-[A-Za-z0-9-]{8,}$/.test(config.slackApp.botToken)) {
    problems.push('slackApp.botToken (SLACK_BOT_TOKEN): must be a Slack bot token (xoxb-…)');
  }
  if (!config.slackApp.apiUrl.endsWith('/')) {
    problems.push('slackApp.apiUrl (SLACK_API_URL): must end with a slash, such as https://slack.com/api/');
  }
  const digestHook = config.digest.slackWebhook;
  if (digestHook && digestHook !== 'default' && !(digestHook in config.slack.webhooks)) {
    problems.push(`digest.slackWebhook: names webhook "${digestHook}", which slack.webhooks does not define`);
  }
  if (digestHook === 'default' && !config.slack.webhookUrl) {
    problems.push('digest.slackWebhook: names "default" but slack.webhookUrl (SLACK_WEBHOOK_URL) is not set');
  }
  problems.push(...namedEndpointProblems('digest.teamsWebhook', config.digest.teamsWebhook ? [config.digest.teamsWebhook] : [], config.teams.webhooks, config.teams.webhookUrl, 'teams.webhooks', 'teams.webhookUrl (TEAMS_WEBHOOK_URL)'));
  problems.push(...namedEndpointProblems('digest.webhook', config.digest.webhook ? [config.digest.webhook] : [], config.webhook.endpoints, config.webhook.url, 'webhook.endpoints', 'webhook.url (WEBHOOK_URL)'));
  problems.push(...teamsUrlProblems(config), ...signedWebhookProblems(config));
  // A forgotten job that is listed again starts over at version 1, and its transitions get the
  // task ids of its old ones: a delivered marker (or failed task) of the old run still kept, for
  // deliveriesDays from its delivery, would swallow the new run's announcement. The forget waits
  // vanishedDays from the job's last change (state/lua/forget-vanished-3.lua), and a delivery comes
  // at most about a day after its change (the default retries span 1.5 h; quiet hours hold less
  // than a day), so every old marker has expired once vanishedDays >= deliveriesDays + 1.
  const { vanishedDays, deliveriesDays } = config.retention;
  if (vanishedDays < deliveriesDays + 1) {
    problems.push(
      `retention.vanishedDays: ${vanishedDays} must be at least retention.deliveriesDays (${deliveriesDays}) + 1: a forgotten job listed again starts over at version 1, and delivery markers of its old run kept longer would drop the announcement of its new end`,
    );
  }
  const redisMode = parseRedisUrl(config.redis.url).mode;
  if (redisMode === 'cluster' && !prefixHasHashTag(config.redis.prefix)) {
    problems.push(
      `redis.prefix (GEM_WATCH_PREFIX): on a Redis Cluster (REDIS_URL redis+cluster://) the prefix must hold a hash tag so that every key, BullMQ's too, sits in one slot: write {${config.redis.prefix.replace(/[{}]/g, '')}}, or leave it unset for {gemwatch}`,
    );
  }
  if (config.redis.sentinelPassword && redisMode !== 'sentinel') {
    problems.push('redis.sentinelPassword (REDIS_SENTINEL_PASSWORD): is only used with a redis+sentinel:// or rediss+sentinel:// REDIS_URL');
  }
  if (config.gem.auth.provider === 'static' && !config.gem.auth.bearerToken) {
    problems.push('gem.auth.bearerToken (GEM_BEARER_TOKEN): required when gem.auth.provider is static');
  }
  if (config.gem.auth.provider === 'command' && !config.gem.auth.command) {
    problems.push('gem.auth.command (GEM_BEARER_TOKEN_COMMAND): required when gem.auth.provider is command');
  }
  return problems;
}

/** Names a route (or the digest) gives that the channel's endpoints do not define. */
function namedEndpointProblems(where: string, names: readonly string[], defined: Record<string, unknown>, defaultValue: string, definedKey: string, defaultKey: string): string[] {
  const problems: string[] = [];
  for (const name of names) {
    if (name === 'default') {
      if (!defaultValue && !('default' in defined)) problems.push(`${where}: names "default" but ${defaultKey} is not set`);
    } else if (!Object.hasOwn(defined, name)) {
      problems.push(`${where}: names "${name}", which ${definedKey} does not define`);
    }
  }
  return problems;
}

/**
 * True for the Office 365 connector ("Incoming Webhook" connector) URLs Microsoft retired:
 * `https://<tenant>.webhook.office.com/webhookb2/…` and the older `https://outlook.office.com/webhook/…`.
 * Their cards are no longer delivered; Teams now takes webhooks through Workflows.
 */
export function isRetiredTeamsConnectorUrl(url: string): boolean {
  if (!URL.canParse(url)) return false;
  const { hostname, pathname } = new URL(url);
  const host = hostname.toLowerCase();
  return host === 'webhook.office.com' || host.endsWith('.webhook.office.com') || (host === 'outlook.office.com' && pathname.toLowerCase().startsWith('/webhook'));
}

function teamsUrlProblems(config: Config): string[] {
  const urls: Array<[string, string]> = [['teams.webhookUrl (TEAMS_WEBHOOK_URL)', config.teams.webhookUrl], ...Object.entries(config.teams.webhooks).map(([name, url]): [string, string] => [`teams.webhooks.${name}`, url])];
  return urls
    .filter(([, url]) => url && isRetiredTeamsConnectorUrl(url))
    .map(
      ([where]) =>
        `${where}: is an Office 365 connector URL (webhook.office.com), which Microsoft retired; in Teams create a Workflows webhook ("Post to a channel when a webhook request is received") and use its URL`,
    );
}

/**
 * A Standard Webhooks secret: `whsec_` and the base64 of 24 to 64 random bytes (the specification's
 * range). The text never quotes the value.
 */
export function signedWebhookSecretProblem(secret: string): string | undefined {
  const match = /^whsec_([A-Za-z0-9+/]+={0,2})$/.exec(secret);
  if (!match) return 'must be whsec_ followed by base64 (a Standard Webhooks secret)';
  const bytes = Buffer.from(match[1]!, 'base64').length;
  if (bytes < 24 || bytes > 64) return `must hold 24 to 64 bytes after whsec_ (it holds ${bytes})`;
  return undefined;
}

function signedWebhookProblems(config: Config): string[] {
  const problems: string[] = [];
  const { url, secret, endpoints } = config.webhook;
  if (url && !secret) problems.push('webhook.secret (WEBHOOK_SECRET): is required when webhook.url (WEBHOOK_URL) is set');
  if (secret) {
    const problem = signedWebhookSecretProblem(secret);
    if (problem) problems.push(`webhook.secret (WEBHOOK_SECRET): ${problem}`);
  }
  for (const [name, endpoint] of Object.entries(endpoints)) {
    const problem = signedWebhookSecretProblem(endpoint.secret);
    if (problem) problems.push(`webhook.endpoints.${name}.secret: ${problem}`);
  }
  return problems;
}

/** The secrets a configuration holds, grouped by how a redactor must treat them. */
export interface ConfigSecrets {
  /** Secret as they are: the API key, the bearer token, the HTTP token. */
  values: string[];
  /** URLs secret as a whole (Slack webhooks): the URL, its path and any password. */
  secretUrls: string[];
  /** URLs whose password alone is secret (SMTP, Redis). */
  passwordUrls: string[];
}

/**
 * Every secret the configuration holds. config/ imports nothing of ours, so it does not register
 * them itself: the composition hands them to the redactor (src/config-secrets.ts) before anything
 * can log. Errors built here never quote a value, so nothing is lost before that.
 */
export function configSecrets(config: Config): ConfigSecrets {
  const set = (values: Array<string | undefined>) => values.filter((value): value is string => Boolean(value));
  return {
    // A cluster or Sentinel REDIS_URL lists several hosts, which URL parsers refuse: its password
    // is handed over as a value. REDIS_SENTINEL_PASSWORD is a value too.
    values: set([
      config.gem.apiKey,
      config.gem.auth.bearerToken,
      config.http.authToken,
      redisUrlPassword(config.redis.url),
      config.redis.sentinelPassword,
      config.slackApp?.botToken,
      // A signing secret with and without its whsec_ prefix: the key is the base64 after it.
      ...[config.webhook.secret, ...Object.values(config.webhook.endpoints).map((endpoint) => endpoint.secret)].flatMap((secret) => [secret, secret.replace(/^whsec_/, '')]),
    ]),
    secretUrls: set([
      config.slack.webhookUrl,
      ...Object.values(config.slack.webhooks),
      config.teams.webhookUrl,
      ...Object.values(config.teams.webhooks),
      config.webhook.url,
      ...Object.values(config.webhook.endpoints).map((endpoint) => endpoint.url),
    ]),
    passwordUrls: set([config.email.smtpUrl, config.redis.url]),
  };
}

/**
 * Loads the configuration: defaults, then the named YAML file, then the environment. Every problem
 * is collected and thrown at once as a ConfigError, whose text never quotes a value; nothing
 * connects before this succeeds. The caller registers `configSecrets` with the redactor.
 */
export function loadConfig(options: LoadConfigOptions = {}): Config {
  const env = options.env ?? process.env;
  const problems: string[] = [];
  let tree = readYaml(DEFAULT_CONFIG_FILE, 'default configuration', problems);
  const file = options.file ?? env.GEM_WATCH_CONFIG;
  let prefixGiven = false;
  if (file) {
    const own = readYaml(file, options.file ? '--config' : 'GEM_WATCH_CONFIG', problems);
    prefixGiven = isTree(own.redis) && own.redis.prefix !== undefined;
    tree = merge(tree, own);
  }

  for (const binding of ENV_BINDINGS) {
    const raw = envValue(binding, env, problems);
    if (raw === undefined) continue;
    const value = convert(binding, raw, problems);
    if (value !== undefined) setPath(tree, binding.path, value);
    if (binding.path === 'redis.prefix') prefixGiven = true;
  }
  // The shipped default prefix has no hash tag; on a cluster the default is the braced one, while a
  // prefix the operator chose is checked (crossChecks) rather than silently changed.
  const redis = isTree(tree.redis) ? tree.redis : undefined;
  if (!prefixGiven && redis && typeof redis.url === 'string') {
    const mode = redisModeOf(redis.url);
    if (mode) redis.prefix = defaultPrefix(mode);
  }

  const parsed = (options.readOnly ? readOnlySchema : configSchema).safeParse(tree);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const path = issue.path.map(String).join('.');
      const envName = envNameFor(path) ?? envNameFor(issue.path.slice(0, -1).map(String).join('.'));
      const where = envName ? `${path} (${envName})` : path || '(top level)';
      problems.push(`${where}: ${describeIssue(issue)}`);
    }
    throw new ConfigError(problems);
  }
  problems.push(...crossChecks(parsed.data));
  if (problems.length > 0) throw new ConfigError(problems);
  return parsed.data;
}

/** zod's message, without ever quoting the value (it may be a secret). */
function describeIssue(issue: z.core.$ZodIssue): string {
  if (issue.code === 'unrecognized_keys') return `unknown key(s) ${issue.keys.join(', ')}`;
  if (issue.code === 'invalid_type' && issue.input === undefined) return 'is required';
  return issue.message;
}
