/** A token as a source hands it over, with the expiry the source reported when it knows one. */
export interface FetchedToken {
  token: string;
  /** Epoch milliseconds at which the source says the token expires; undefined when it does not say. */
  expiresAt?: number;
}

/**
 * Something that fetches a new token on every call (a command, Azure identity). It neither caches
 * nor shares calls: CachedTokenProvider adds reuse until shortly before expiry and single-flight.
 */
export interface TokenSource {
  /** command or azure; reported as the provider's kind. */
  readonly kind: string;
  fetchToken(): Promise<FetchedToken>;
}
