/**
 * A named health flag (`auth`, `polling`) shared by every replica. The store lives in state/; the
 * shapes live here because gem/ (credential health) and alerts/ (poll health) read them and may not
 * import state/.
 */

/** A health flag as stored. */
export interface HealthFlagState {
  ok: boolean;
  /** Why the flag is down; '' when ok. */
  reason: string;
  /** Epoch ms of the last change; undefined when the flag never changed (healthy from the start). */
  since: number | undefined;
}

/** The flag after a report, and whether this very report changed it. */
export interface HealthFlagReport extends HealthFlagState {
  changed: boolean;
}

/** A shared flag: state/HealthFlag in the daemon, an in-memory one in tests. */
export interface SharedHealthFlag {
  /**
   * Records an outcome observed by a request that started at `now` (epoch ms); answers the flag
   * after it and whether this call changed it, so exactly one replica announces each change.
   */
  report(ok: boolean, reason: string, now: number): Promise<HealthFlagReport>;
  /** The flag as stored now. */
  read(): Promise<HealthFlagState>;
}
