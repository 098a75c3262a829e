import type { HealthFlagReport, SharedHealthFlag } from '../../domain/health-state.js';
import type { Logger } from '../../telemetry/logger.js';
import { errorText } from '../../telemetry/redact.js';
import { maskOpaque } from './mask.js';

/** A change of the shared credential state, seen by exactly one replica. */
export interface CredentialHealthChange {
  healthy: boolean;
  /** Why GEM or the token source refused, scrubbed; '' when healthy again. */
  reason: string;
  /** Epoch ms of the change (when the request that showed it started). */
  since: number;
}

/**
 * The shared flag the credential state is kept in. The composition root hands in state/'s
 * HealthFlag named `auth`; the API client's side knows nothing of Redis, only this interface.
 */
export type CredentialFlag = SharedHealthFlag;

export interface CredentialHealthOptions {
  /** The shared flag, normally `new HealthFlag(redis, keys, 'auth')`. */
  flag: CredentialFlag;
  logger: Logger;
  /**
   * Called once per change of state across all replicas: only the replica whose report flipped the
   * shared flag calls it. Wire it to the operator alert. Its errors are logged, never thrown.
   */
  onChange?: (change: CredentialHealthChange) => void | Promise<void>;
  /** Epoch ms now. Default Date.now. */
  clock?: () => number;
  /**
   * Which failures mean the credentials were refused. Default: errors whose `reason` is `auth`:
   * GemAuthError (a 401 that survived one token refresh, a 403, or no token could be had) and the
   * token providers' own errors.
   */
  isAuthFailure?: (error: unknown) => boolean;
}

const MAX_REASON_LENGTH = 500;
const SUCCESS_REPORT_INTERVAL_MS = 1_000;

function defaultIsAuthFailure(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { reason?: unknown }).reason === 'auth';
}

/** An error's text as an operator may see it: scrubbed, token-like runs masked, one bounded line. */
function reasonOf(error: unknown): string {
  const text = maskOpaque(errorText(error)).replace(/\s+/g, ' ').trim();
  return text.length > MAX_REASON_LENGTH ? `${text.slice(0, MAX_REASON_LENGTH)}…` : text || 'authentication failed';
}

/**
 * Whether GEM accepts gem-watch's credentials, shared by all replicas through one Redis flag.
 * Unhealthy after an auth failure (a 401 that survives one refresh, a 403, a token that cannot be
 * fetched); healthy again on the next accepted request. Each change is logged and passed to
 * `onChange` once, by the one replica that made it, instead of once per request.
 */
export class CredentialHealth {
  private ok = true;
  private currentReason = '';
  private redisFailing = false;
  private lastHealthyReport = Number.NEGATIVE_INFINITY;
  private readonly clock: () => number;
  private readonly isAuthFailure: (error: unknown) => boolean;

  constructor(private readonly options: CredentialHealthOptions) {
    this.clock = options.clock ?? Date.now;
    this.isAuthFailure = options.isAuthFailure ?? defaultIsAuthFailure;
  }

  /** The last state this replica knows (from its own reports, or `sync`): for readiness and metrics. */
  get healthy(): boolean {
    return this.ok;
  }

  /** Why the credentials are unhealthy; '' when healthy. */
  get reason(): string {
    return this.currentReason;
  }

  /**
   * Runs one GEM request and reports its outcome: success is healthy, an auth failure unhealthy,
   * anything else (network, 5xx) says nothing about credentials. The request's result or error
   * passes through unchanged.
   */
  async track<T>(request: () => Promise<T>): Promise<T> {
    const startedAt = this.clock();
    let result: T;
    try {
      result = await request();
    } catch (error) {
      if (this.isAuthFailure(error)) await this.recordFailure(error, startedAt);
      throw error;
    }
    await this.recordSuccess(startedAt);
    return result;
  }

  /**
   * GEM accepted a request that started at `startedAt` (epoch ms, default now). While this replica
   * already sees the credentials healthy, successes reach the shared flag at most once a second:
   * every API call writing it cost a Redis round trip per call (the benchmark measured 2% of the
   * daemon's CPU), and once a second is still enough for a replica to clear a flag another one set.
   */
  async recordSuccess(startedAt: number = this.clock()): Promise<void> {
    if (this.ok && !this.redisFailing && startedAt - this.lastHealthyReport < SUCCESS_REPORT_INTERVAL_MS) return;
    await this.report(true, '', startedAt);
    if (this.ok) this.lastHealthyReport = startedAt;
  }

  /** The credentials were refused by a request that started at `startedAt` (epoch ms, default now). */
  async recordFailure(error: unknown, startedAt: number = this.clock()): Promise<void> {
    await this.report(false, reasonOf(error), startedAt);
  }

  /** Reads the shared flag, so a replica that made no request yet answers readiness like the others. */
  async sync(): Promise<boolean> {
    try {
      const state = await this.options.flag.read();
      this.ok = state.ok;
      this.currentReason = state.reason;
    } catch (error) {
      this.redisUnavailable(error);
    }
    return this.ok;
  }

  private async report(ok: boolean, reason: string, startedAt: number): Promise<void> {
    let report: HealthFlagReport;
    try {
      report = await this.options.flag.report(ok, reason, startedAt);
    } catch (error) {
      // Without Redis no replica can claim the change, so no alert; this replica's own view follows
      // its own requests until Redis answers again.
      this.redisUnavailable(error);
      this.ok = ok;
      this.currentReason = reason;
      return;
    }
    if (this.redisFailing) {
      this.redisFailing = false;
      this.options.logger.info('the shared credential health flag can be read again');
    }
    this.ok = report.ok;
    this.currentReason = report.reason;
    if (!report.changed) {
      if (!ok) this.options.logger.debug({ reason }, 'GEM credentials still refused');
      return;
    }
    const change: CredentialHealthChange = { healthy: report.ok, reason: report.reason, since: report.since ?? startedAt };
    if (change.healthy) {
      this.options.logger.info({ since: new Date(change.since).toISOString() }, 'GEM accepts the credentials again');
    } else {
      this.options.logger.error(
        { reason: change.reason, since: new Date(change.since).toISOString() },
        'GEM refuses the credentials; polling continues with backoff and one operator alert is sent',
      );
    }
    try {
      await this.options.onChange?.(change);
    } catch (error) {
      this.options.logger.error({ err: error, healthy: change.healthy }, 'could not hand the credential state change to the alert');
    }
  }

  private redisUnavailable(error: unknown): void {
    if (this.redisFailing) return;
    this.redisFailing = true;
    this.options.logger.warn({ err: error }, 'cannot reach the shared credential health flag in Redis; no alert can be sent until it answers');
  }
}
