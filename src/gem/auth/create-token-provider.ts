import type { Logger } from '../../telemetry/logger.js';
import { AzureTokenProvider } from './azure-token-provider.js';
import { CachedTokenProvider } from './cached-token-provider.js';
import { CommandTokenProvider } from './command-token-provider.js';
import { jwtExpiresAt } from './jwt.js';
import { StaticTokenProvider } from './static-token-provider.js';
import { NoTokenProvider, type TokenProvider } from './token-provider.js';

/**
 * Where bearer tokens come from: the `gem.auth` keys, which the parsed configuration's
 * `config.gem.auth` is as it stands (see config/schema.ts for defaults).
 */
export interface AuthSettings {
  /** `auto` picks `command` when a command is set, else `static` when a token is set, else `none`. */
  provider: 'auto' | 'none' | 'static' | 'command' | 'azure';
  /** A fixed bearer token (GEM_BEARER_TOKEN). */
  bearerToken: string;
  /** A shell command that prints a token (GEM_BEARER_TOKEN_COMMAND). */
  command: string;
  /** How long the command (or Azure) may take, ms. */
  commandTimeoutMs: number;
  /** A token is refreshed this long before it expires, ms. */
  refreshMarginMs: number;
  /** Tokens without a known expiry are refreshed after this long, ms. */
  defaultTtlMs: number;
  /** Scope requested from Azure identity. */
  azureScope: string;
  /** `default` = DefaultAzureCredential, `cli` = AzureCliCredential. */
  azureCredential: 'default' | 'cli';
}

export interface CreateTokenProviderOptions {
  /** Epoch milliseconds now. Default Date.now. */
  clock?: () => number;
  /** Environment of the token command. Default: this process's environment. */
  env?: NodeJS.ProcessEnv;
}

/** The provider `auto` stands for: command when a command is set, else static when a token is set, else none. */
export function resolveProviderKind(auth: AuthSettings): 'none' | 'static' | 'command' | 'azure' {
  if (auth.provider !== 'auto') return auth.provider;
  if (auth.command.trim() !== '') return 'command';
  if (auth.bearerToken.trim() !== '') return 'static';
  return 'none';
}

/**
 * Builds the bearer token provider the configuration asks for. Command and Azure tokens are cached
 * until `refreshMarginMs` before they expire and fetched single-flight. Logs which provider is used,
 * never a token.
 */
export function createTokenProvider(auth: AuthSettings, logger: Logger, options: CreateTokenProviderOptions = {}): TokenProvider {
  const clock = options.clock ?? Date.now;
  const cache = { refreshMarginMs: auth.refreshMarginMs, defaultTtlMs: auth.defaultTtlMs, clock, logger };
  const kind = resolveProviderKind(auth);
  switch (kind) {
    case 'none':
      logger.info({ provider: 'none', configured: auth.provider }, 'no bearer token: requests carry only the API key');
      return new NoTokenProvider();
    case 'static': {
      if (auth.bearerToken.trim() === '') throw new TypeError('gem.auth.bearerToken (GEM_BEARER_TOKEN) is required when gem.auth.provider is static');
      const expiresAt = jwtExpiresAt(auth.bearerToken);
      const fields = { provider: 'static', configured: auth.provider, expiresAt: expiresAt === undefined ? undefined : new Date(expiresAt).toISOString() };
      if (expiresAt !== undefined && expiresAt <= clock()) {
        logger.warn(fields, 'GEM_BEARER_TOKEN has already expired; set GEM_BEARER_TOKEN_COMMAND so tokens are fetched as needed');
      } else {
        logger.info(fields, 'bearer token: a fixed token, which stops working when it expires');
      }
      return new StaticTokenProvider(auth.bearerToken);
    }
    case 'command': {
      if (auth.command.trim() === '') throw new TypeError('gem.auth.command (GEM_BEARER_TOKEN_COMMAND) is required when gem.auth.provider is command');
      logger.info({ provider: 'command', configured: auth.provider, timeoutMs: auth.commandTimeoutMs }, 'bearer tokens from GEM_BEARER_TOKEN_COMMAND');
      const source = new CommandTokenProvider({
        command: auth.command,
        timeoutMs: auth.commandTimeoutMs,
        ...(options.env ? { env: options.env } : {}),
      });
      return new CachedTokenProvider(source, cache);
    }
    case 'azure': {
      logger.info({ provider: 'azure', credential: auth.azureCredential, scope: auth.azureScope }, 'bearer tokens from Azure identity');
      const source = new AzureTokenProvider({ scope: auth.azureScope, credential: auth.azureCredential, timeoutMs: auth.commandTimeoutMs });
      return new CachedTokenProvider(source, cache);
    }
  }
}
