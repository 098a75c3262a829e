/**
 * The forms REDIS_URL takes, parsed once so that validation (here, at start) and connection
 * (state/connection.ts) read the same thing:
 *
 * - `redis://` and `rediss://`: one server, exactly as ioredis reads the URL.
 * - `redis+cluster://[user:password@]host:port[,host:port...]` (`rediss+cluster://` for TLS): the
 *   hosts are seeds of a Redis Cluster; any one that answers gives the whole slot map.
 * - `redis+sentinel://[user:password@]host:port[,host:port...]/<master-name>`
 *   (`rediss+sentinel://`): the hosts are Sentinels; user and password are the data nodes'
 *   (REDIS_SENTINEL_PASSWORD is the Sentinels'). TLS, when asked, is used to both.
 *
 * A list of hosts is not a WHATWG URL (`new URL` refuses the commas), so the two new forms are
 * parsed by hand. No message here quotes the value: it may hold the password.
 */

/** A host and port of a seed node or a Sentinel. */
export interface RedisHostPort {
  host: string;
  port: number;
}

/** One server, connected to by its URL as ioredis reads it. */
export interface StandaloneRedisUrl {
  mode: 'standalone';
  url: string;
}

/** The seeds of a Redis Cluster. */
export interface ClusterRedisUrl {
  mode: 'cluster';
  nodes: RedisHostPort[];
  username?: string;
  password?: string;
  tls: boolean;
}

/** The Sentinels watching one primary, and that primary's name. */
export interface SentinelRedisUrl {
  mode: 'sentinel';
  sentinels: RedisHostPort[];
  /** The master group name Sentinels know the primary by. */
  masterName: string;
  /** The data nodes' user and password (the Sentinels' password is REDIS_SENTINEL_PASSWORD). */
  username?: string;
  password?: string;
  tls: boolean;
}

export type ParsedRedisUrl = StandaloneRedisUrl | ClusterRedisUrl | SentinelRedisUrl;

/** How a REDIS_URL topology is named in messages and in `gem-watch check`. */
export type RedisMode = ParsedRedisUrl['mode'];

/** A REDIS_URL that cannot be used; the message never quotes the URL. */
export class RedisUrlError extends Error {
  override readonly name = 'RedisUrlError';
}

const FORMS =
  'must be redis://host:port, rediss://host:port, redis+cluster://host:port,host:port (rediss+cluster:// for TLS) or redis+sentinel://host:port,host:port/<master-name> (rediss+sentinel://)';

const SCHEME = /^(rediss?)(?:\+(cluster|sentinel))?:\/\//i;

/** The mode a URL asks for, from its scheme alone (undefined when the scheme is none of ours). */
export function redisModeOf(url: string): RedisMode | undefined {
  const match = SCHEME.exec(url.trim());
  if (!match) return undefined;
  return (match[2]?.toLowerCase() as 'cluster' | 'sentinel' | undefined) ?? 'standalone';
}

function decode(text: string, what: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    throw new RedisUrlError(`the ${what} is not valid percent-encoding (write % as %25)`);
  }
}

function parseHosts(list: string, defaultPort: number, what: string): RedisHostPort[] {
  if (list === '') throw new RedisUrlError(`names no ${what}: list at least one host:port`);
  return list.split(',').map((item) => {
    const entry = item.trim();
    const bracketed = /^\[([0-9a-fA-F:.]+)\](?::(\d+))?$/.exec(entry);
    const plain = /^([A-Za-z0-9._-]+)(?::(\d+))?$/.exec(entry);
    const match = bracketed ?? plain;
    if (!match) throw new RedisUrlError(`each ${what} must be host:port (an IPv6 address in brackets, [::1]:port), separated by commas`);
    const port = match[2] === undefined ? defaultPort : Number(match[2]);
    if (!Number.isInteger(port) || port < 1 || port > 65_535) throw new RedisUrlError(`a ${what} port must be between 1 and 65535`);
    return { host: match[1]!, port };
  });
}

/**
 * Parses REDIS_URL into the topology it names. Throws RedisUrlError with a message that names what
 * is wrong and never quotes the value.
 */
export function parseRedisUrl(value: string): ParsedRedisUrl {
  const url = value.trim();
  const match = SCHEME.exec(url);
  if (!match) throw new RedisUrlError(FORMS);
  const tls = match[1]!.toLowerCase() === 'rediss';
  const mode = match[2]?.toLowerCase();
  if (mode === undefined) {
    if (!URL.canParse(url)) throw new RedisUrlError(FORMS);
    const parsed = new URL(url);
    const database = [parsed.pathname === '' || parsed.pathname === '/' ? null : parsed.pathname.slice(1), parsed.searchParams.get('db')];
    if (database.some((text) => text !== null && !/^\d{1,5}$/.test(text))) {
      throw new RedisUrlError('the database (the path after host:port, or ?db=) must be a whole number such as /0');
    }
    return { mode: 'standalone', url };
  }
  const rest = url.slice(match[0].length);
  if (/[?#]/.test(rest)) throw new RedisUrlError(`takes no ?query or #fragment in its ${mode} form`);
  const slash = rest.indexOf('/');
  const authority = slash === -1 ? rest : rest.slice(0, slash);
  const path = slash === -1 ? '' : rest.slice(slash + 1);
  const at = authority.lastIndexOf('@');
  const hosts = at === -1 ? authority : authority.slice(at + 1);
  const credentials: { username?: string; password?: string } = {};
  if (at !== -1) {
    const userinfo = authority.slice(0, at);
    const colon = userinfo.indexOf(':');
    const username = decode(colon === -1 ? userinfo : userinfo.slice(0, colon), 'user name');
    const password = colon === -1 ? '' : decode(userinfo.slice(colon + 1), 'password');
    if (username !== '') credentials.username = username;
    if (password !== '') credentials.password = password;
  }
  if (mode === 'cluster') {
    // A cluster has database 0 only (SELECT is refused), so a path could only be a mistake.
    if (path !== '') throw new RedisUrlError('names a database or path, but a Redis Cluster has only database 0: end the URL after the last host:port');
    return { mode: 'cluster', nodes: parseHosts(hosts, 6379, 'cluster seed node'), ...credentials, tls };
  }
  const masterName = decode(path.replace(/\/$/, ''), 'master name');
  if (masterName === '' || /[/\s]/.test(masterName)) {
    throw new RedisUrlError('must end with /<master-name>, the name the Sentinels know the primary by (e.g. redis+sentinel://host:26379/mymaster)');
  }
  return { mode: 'sentinel', sentinels: parseHosts(hosts, 26379, 'Sentinel'), masterName, ...credentials, tls };
}

/** The password a REDIS_URL of any form holds (for the redactor), if any. */
export function redisUrlPassword(value: string): string | undefined {
  try {
    const parsed = parseRedisUrl(value);
    if (parsed.mode !== 'standalone') return parsed.password;
    const password = new URL(parsed.url).password;
    return password === '' ? undefined : decodeURIComponent(password);
  } catch {
    return undefined;
  }
}

/** `host:port[,host:port]` of a REDIS_URL of any form, for messages (never the password). */
export function redisUrlHosts(value: string): string {
  try {
    const parsed = parseRedisUrl(value);
    if (parsed.mode === 'standalone') {
      const url = new URL(parsed.url);
      return `${url.hostname}:${url.port || '6379'}`;
    }
    const list = parsed.mode === 'cluster' ? parsed.nodes : parsed.sentinels;
    const hosts = list.map(({ host, port }) => `${host.includes(':') ? `[${host}]` : host}:${port}`).join(',');
    return parsed.mode === 'sentinel' ? `${hosts}/${parsed.masterName}` : hosts;
  } catch {
    return 'REDIS_URL';
  }
}

/**
 * True when every key that starts with `prefix` hashes to the prefix's slot: Redis Cluster hashes
 * only the text between the first `{` and the first `}` after it, when that is not empty. So the
 * prefix must hold such a pair itself; a `{` left open would be closed by the rest of a key.
 */
export function prefixHasHashTag(prefix: string): boolean {
  const open = prefix.indexOf('{');
  if (open === -1) return false;
  const close = prefix.indexOf('}', open + 1);
  return close > open + 1;
}

/** The prefix used when GEM_WATCH_PREFIX is not set: braced on a cluster, so every key shares one slot. */
export function defaultPrefix(mode: RedisMode): string {
  return mode === 'cluster' ? '{gemwatch}' : 'gemwatch';
}

/** REDIS_URL parsed, with the Sentinels' password beside it: what state/connection.ts connects to. */
export function redisTarget(settings: { url: string; sentinelPassword?: string }): ParsedRedisUrl & { sentinelPassword?: string } {
  const parsed = parseRedisUrl(settings.url);
  return parsed.mode === 'sentinel' && settings.sentinelPassword ? { ...parsed, sentinelPassword: settings.sentinelPassword } : parsed;
}
