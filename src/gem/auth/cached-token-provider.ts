import type { Logger } from '../../telemetry/logger.js';
import { jwtExpiresAt } from './jwt.js';
import type { TokenProvider } from './token-provider.js';
import type { FetchedToken, TokenSource } from './token-source.js';

export interface CachedTokenProviderOptions {
  /** A token is replaced this many milliseconds before it expires. Default 300 000 (5 minutes). */
  refreshMarginMs?: number;
  /** Lifetime assumed for a token whose expiry is unknown (neither a JWT nor printed), in milliseconds. Default 3 000 000. */
  defaultTtlMs?: number;
  /**
   * After a failed fetch, calls within this many milliseconds get the same error instead of
   * running the source again, so a broken `az` is not started for every request. Default 10 000.
   */
  failureCooldownMs?: number;
  /** Epoch milliseconds now. Default Date.now. */
  clock?: () => number;
  logger?: Logger;
}

/** Where the expiry of the cached token came from. */
export type ExpirySource = 'jwt' | 'printed' | 'default';

/** What the cache holds, without the token: for status pages and logs. */
export interface CachedTokenState {
  kind: string;
  /** Epoch ms the cached token expires; undefined when nothing is cached. */
  expiresAt?: number;
  expirySource?: ExpirySource;
  /** Epoch ms after which the next getToken fetches a new token. */
  refreshAt?: number;
  /** Fetches started since creation. */
  fetches: number;
}

interface Entry {
  token: string;
  expiresAt: number;
  refreshAt: number;
  expirySource: ExpirySource;
}

/**
 * Reuses a token from a TokenSource until shortly before it expires, and shares one fetch among all
 * callers that need a token while it runs (single-flight): twenty concurrent requests start the
 * command once. The expiry is the JWT's `exp` when the token is a JWT (the token's own word), else
 * the expiry the source reported, else `defaultTtlMs` from the fetch.
 */
export class CachedTokenProvider implements TokenProvider {
  private readonly refreshMarginMs: number;
  private readonly defaultTtlMs: number;
  private readonly failureCooldownMs: number;
  private readonly clock: () => number;
  private readonly logger: Logger | undefined;
  private entry: Entry | undefined;
  private inflight: Promise<string> | undefined;
  private lastFailure: { error: unknown; at: number } | undefined;
  private failing = false;
  private fetches = 0;

  constructor(
    private readonly source: TokenSource,
    options: CachedTokenProviderOptions = {},
  ) {
    this.refreshMarginMs = options.refreshMarginMs ?? 300_000;
    this.defaultTtlMs = options.defaultTtlMs ?? 3_000_000;
    this.failureCooldownMs = options.failureCooldownMs ?? 10_000;
    this.clock = options.clock ?? Date.now;
    this.logger = options.logger;
  }

  get kind(): string {
    return this.source.kind;
  }

  async getToken(): Promise<string> {
    const now = this.clock();
    const entry = this.entry;
    if (entry && now < entry.refreshAt) return entry.token;
    if (this.inflight) return this.inflight;
    if (this.lastFailure && now - this.lastFailure.at < this.failureCooldownMs) {
      if (entry && now < entry.expiresAt) return entry.token;
      throw this.lastFailure.error;
    }
    const flight = this.refresh().finally(() => {
      if (this.inflight === flight) this.inflight = undefined;
    });
    this.inflight = flight;
    return flight;
  }

  /**
   * Forgets `token` after GEM refused it. A token other than the cached one is ignored: when twenty
   * requests fail with the same old token, the first invalidation starts one refresh and the other
   * nineteen find the new token (or the refresh in flight) instead of starting their own.
   */
  invalidate(token?: string): void {
    if (token === undefined || this.entry?.token === token) this.entry = undefined;
  }

  state(): CachedTokenState {
    const entry = this.entry;
    return entry
      ? { kind: this.kind, expiresAt: entry.expiresAt, expirySource: entry.expirySource, refreshAt: entry.refreshAt, fetches: this.fetches }
      : { kind: this.kind, fetches: this.fetches };
  }

  private async refresh(): Promise<string> {
    this.fetches += 1;
    let fetched: FetchedToken;
    try {
      fetched = await this.source.fetchToken();
    } catch (error) {
      return this.fetchFailed(error);
    }
    const now = this.clock();
    this.lastFailure = undefined;
    if (this.failing) {
      this.failing = false;
      this.logger?.info({ provider: this.kind }, 'bearer tokens can be fetched again');
    }
    const fromJwt = jwtExpiresAt(fetched.token);
    const [expiresAt, expirySource]: [number, ExpirySource] =
      fromJwt !== undefined
        ? [fromJwt, 'jwt']
        : fetched.expiresAt !== undefined
          ? [fetched.expiresAt, 'printed']
          : [now + this.defaultTtlMs, 'default'];
    const lifetime = expiresAt - now;
    // A token shorter-lived than twice the margin is refreshed halfway through its life instead, so
    // it is used at all; one already expired is handed to the callers waiting now but not kept.
    const refreshAt = lifetime > 0 ? expiresAt - Math.min(this.refreshMarginMs, lifetime / 2) : now;
    this.entry = { token: fetched.token, expiresAt, refreshAt, expirySource };
    const when = { provider: this.kind, expiresAt: new Date(expiresAt).toISOString(), expirySource };
    if (lifetime <= 0) {
      this.logger?.warn(when, 'the bearer token just fetched has already expired (is the clock right?); it is used once and fetched again next time');
    } else {
      this.logger?.debug({ ...when, refreshAt: new Date(refreshAt).toISOString() }, 'bearer token fetched');
    }
    return fetched.token;
  }

  private fetchFailed(error: unknown): string {
    const now = this.clock();
    this.lastFailure = { error, at: now };
    const entry = this.entry;
    const stillValid = entry !== undefined && now < entry.expiresAt;
    if (!this.failing) {
      // Once per run of failures, not once per request.
      this.failing = true;
      this.logger?.warn(
        { provider: this.kind, err: error, usingPreviousToken: stillValid },
        stillValid ? 'could not fetch a new bearer token; the current one is used until it expires' : 'could not fetch a bearer token',
      );
    }
    if (stillValid) return entry.token;
    throw error;
  }
}
