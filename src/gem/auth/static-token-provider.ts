import type { TokenProvider } from './token-provider.js';

/**
 * One fixed token (GEM_BEARER_TOKEN). Azure tokens expire within about an hour, so this suits a
 * short test run; a daemon wants the command or azure provider. `invalidate` cannot help: after a
 * 401 the client retries with the same token, fails again, and the credentials are reported unhealthy.
 */
export class StaticTokenProvider implements TokenProvider {
  readonly kind = 'static';

  constructor(private readonly token: string) {
    if (token.trim() === '') throw new TypeError('StaticTokenProvider needs a token');
  }

  async getToken(): Promise<string> {
    return this.token;
  }

  invalidate(): void {}
}
