import type { TokenCredential } from '@azure/identity';
import { AzureTokenError } from './azure-token-error.js';
import { maskOpaque } from './mask.js';
import type { FetchedToken, TokenSource } from './token-source.js';

export interface AzureTokenProviderOptions {
  /**
   * Scope asked for. Default `https://gem.core.orbis.tomtom.com/user_impersonation`, as TomTom
   * documents it. Note: AzureCliCredential and managed identity turn a scope into a resource by
   * dropping a trailing `/.default` only, so with them `https://gem.core.orbis.tomtom.com/.default`
   * may be the form Entra ID accepts; MSAL-based credentials use the scope as given.
   */
  scope?: string;
  /**
   * `default` = DefaultAzureCredential (environment, workload or managed identity, then developer
   * tools such as `az login`); `cli` = AzureCliCredential only. Default `default`.
   */
  credential?: 'default' | 'cli';
  /** How long a developer tool (`az`) may run, in milliseconds. Default 30 000. */
  timeoutMs?: number;
  /** A ready credential, used instead of building one (another chain, or a test's). */
  tokenCredential?: TokenCredential;
}

export const DEFAULT_AZURE_SCOPE = 'https://gem.core.orbis.tomtom.com/user_impersonation';

function firstLine(text: string): string {
  const line = text.split('\n').find((part) => part.trim() !== '') ?? '';
  return line.length > 300 ? `${line.slice(0, 300)}…` : line;
}

/** Masks token-like text in an error from @azure/identity and its causes, in place. */
function maskError(error: unknown, depth = 0): unknown {
  if (!(error instanceof Error) || depth > 4) return error;
  error.message = maskOpaque(error.message);
  if (error.stack) error.stack = maskOpaque(error.stack);
  maskError(error.cause, depth + 1);
  const inner = (error as { errors?: unknown }).errors;
  if (Array.isArray(inner)) inner.forEach((item) => maskError(item, depth + 1));
  return error;
}

/**
 * Tokens from @azure/identity. Each call asks the credential afresh; the credential may cache on
 * its own, and CachedTokenProvider in front decides how often to ask.
 */
export class AzureTokenProvider implements TokenSource {
  readonly kind = 'azure';
  readonly scope: string;
  private readonly credentialName: string;
  private readonly credential: () => Promise<TokenCredential>;

  constructor(options: AzureTokenProviderOptions = {}) {
    this.scope = options.scope ?? DEFAULT_AZURE_SCOPE;
    const timeout = options.timeoutMs ?? 30_000;
    const given = options.tokenCredential;
    if (given) {
      this.credentialName = given.constructor?.name ?? 'credential';
      this.credential = () => Promise.resolve(given);
      return;
    }
    const cliOnly = options.credential === 'cli';
    this.credentialName = cliOnly ? 'AzureCliCredential' : 'DefaultAzureCredential';
    // @azure/identity is loaded on first use: it adds ~25 MB to every process's RSS, and most
    // deployments use a static token or a command instead.
    let built: Promise<TokenCredential> | undefined;
    this.credential = () =>
      (built ??= import('@azure/identity').then(({ AzureCliCredential, DefaultAzureCredential }) =>
        cliOnly ? new AzureCliCredential({ processTimeoutInMs: timeout }) : new DefaultAzureCredential({ processTimeoutInMs: timeout }),
      ));
  }

  async fetchToken(): Promise<FetchedToken> {
    let answer;
    try {
      answer = await (await this.credential()).getToken(this.scope);
    } catch (error) {
      // Azure's text is the useful part ("run az login", "no managed identity endpoint"), but it may
      // quote the CLI's stderr or a parse error with its input: masked before it goes anywhere.
      maskError(error);
      const why = error instanceof Error ? `${error.name}: ${firstLine(error.message)}` : 'unknown error';
      throw new AzureTokenError(`Azure identity (${this.credentialName}) gave no token for ${this.scope}: ${why}`, { cause: error });
    }
    if (!answer || typeof answer.token !== 'string' || answer.token === '') {
      throw new AzureTokenError(`Azure identity (${this.credentialName}) answered without a token for ${this.scope}`);
    }
    const expiresAt = Number.isFinite(answer.expiresOnTimestamp) && answer.expiresOnTimestamp > 0 ? answer.expiresOnTimestamp : undefined;
    return expiresAt === undefined ? { token: answer.token } : { token: answer.token, expiresAt };
  }
}
