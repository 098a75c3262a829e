import type { RedisClient } from './connection.js';
import type { HealthFlagReport, HealthFlagState, SharedHealthFlag } from '../domain/health-state.js';
import type { Keys } from './keys.js';
import { withScripts, type ScriptCommands } from './scripts.js';

function toState(ok: string, reason: string, since: string): HealthFlagState {
  return { ok: ok !== '0', reason, since: since === '' ? undefined : Number(since) };
}

/**
 * A named health flag (`auth`, `polling`) in Redis, shared by every replica. `report` flips it in one
 * Lua step (lua/report-health-flag-1.lua) and answers whether this call made the change, so that of
 * all replicas observing the same change exactly one logs it and sends the one alert.
 */
export class HealthFlag implements SharedHealthFlag {
  private readonly key: string;
  private readonly scripts: ScriptCommands;

  constructor(
    private readonly redis: RedisClient,
    keys: Keys,
    readonly name: string,
  ) {
    this.key = keys.healthFlag(name);
    this.scripts = withScripts(redis);
  }

  /**
   * Records an outcome. `now` (epoch ms) should be when the request reported on started: a report
   * older than the flag's last change is ignored. `reason` is shown to operators; pass scrubbed text.
   */
  async report(ok: boolean, reason: string, now: number): Promise<HealthFlagReport> {
    const [changed, state, storedReason, since] = (await this.scripts.gemwatchReportHealthFlag(this.key, ok ? '1' : '0', ok ? '' : reason, Math.floor(now))) as [
      number,
      string,
      string,
      string,
    ];
    return { changed: Number(changed) === 1, ...toState(String(state), String(storedReason), String(since)) };
  }

  /** The flag as stored now. */
  async read(): Promise<HealthFlagState> {
    const [ok, reason, since] = await this.redis.hmget(this.key, 'ok', 'reason', 'since');
    return toState(ok ?? '1', reason ?? '', since ?? '');
  }
}
