/**
 * Where bearer tokens come from. The GEM client asks for a token before every request and calls
 * `invalidate` after a 401, then asks again once.
 */
export interface TokenProvider {
  /** static, command, azure or none. */
  readonly kind: string;
  /**
   * A token valid for a while yet, or undefined when no bearer token is configured. Concurrent calls
   * while a refresh runs share that refresh.
   */
  getToken(): Promise<string | undefined>;
  /** Forgets `token` (the one a 401 answered), so the next getToken fetches a new one. */
  invalidate(token?: string): void;
}

/** No bearer token at all (a GEM that only wants the API key, such as the simulator in some tests). */
export class NoTokenProvider implements TokenProvider {
  readonly kind = 'none';
  async getToken(): Promise<string | undefined> {
    return undefined;
  }
  invalidate(): void {}
}
