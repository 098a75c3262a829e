import cron, { type ScheduledTask } from 'node-cron';
import { offsetAt, wallClock } from '../domain/zoned-time.js';

/**
 * The instants a node-cron expression fires at, in a time zone, for any `now`: the digest names its
 * periods by them, so a replica that fires late, a restarted one and the test clock all agree on
 * which slot is due. node-cron itself only looks forward from the real clock, so the walk back is
 * done here; matching a candidate instant is left to node-cron (`match`), so every syntax it
 * accepts (ranges, steps, names, `L`) means the same here.
 */
export class CronSlots {
  private readonly matcher: ScheduledTask;
  private readonly seconds: number[];
  private readonly minutes: number[];
  private readonly hours: number[];

  /**
   * @param expression node-cron expression, 5 fields or 6 with seconds first.
   * @param timeZone IANA time zone the expression is read in.
   * @param maxDaysBack How far back `latestAtOrBefore` looks, in days. Default 8 years (covers a 29 February).
   */
  constructor(
    readonly expression: string,
    readonly timeZone: string,
    private readonly maxDaysBack = 366 * 8,
  ) {
    if (!cron.validate(expression)) throw new Error(`not a node-cron expression: ${JSON.stringify(expression)}`);
    // A task that is never started: only its matcher is used.
    this.matcher = cron.createTask(expression, () => undefined, { timezone: timeZone });
    const fields = cron.parse(expression);
    const descending = (values: number[]) => [...new Set(values)].sort((a, b) => b - a);
    this.seconds = descending(fields.second);
    this.minutes = descending(fields.minute);
    this.hours = descending(fields.hour);
  }

  /** True when the expression fires at this instant (whole seconds). */
  matches(at: number): boolean {
    return this.matcher.match(new Date(Math.floor(at / 1000) * 1000));
  }

  /** The latest instant at or before `now` the expression fires at, epoch ms; undefined if none within maxDaysBack. */
  latestAtOrBefore(now: number): number | undefined {
    const today = wallClock(now, this.timeZone);
    const nowSeconds = today.hour * 3600 + today.minute * 60 + today.second;
    for (let back = 0; back <= this.maxDaysBack; back++) {
      const day = new Date(Date.UTC(today.year, today.month - 1, today.day - back));
      const y = day.getUTCFullYear();
      const mo = day.getUTCMonth() + 1;
      const d = day.getUTCDate();
      if (!this.dayMayMatch(y, mo, d)) continue;
      for (const hour of this.hours) {
        for (const minute of this.minutes) {
          for (const second of this.seconds) {
            // Later today than now: skipped without converting, which keeps dense schedules cheap.
            if (back === 0 && hour * 3600 + minute * 60 + second > nowSeconds) continue;
            const at = this.localToEpoch(y, mo, d, hour, minute, second);
            if (at !== undefined && at <= now && this.matcher.match(new Date(at))) return at;
          }
        }
      }
    }
    return undefined;
  }

  /** The first instant after `at` the expression fires at, epoch ms; undefined if none within maxDaysBack days. */
  nextAfter(at: number): number | undefined {
    const today = wallClock(at, this.timeZone);
    const ascending = (values: number[]) => [...values].reverse();
    const atSeconds = today.hour * 3600 + today.minute * 60 + today.second;
    for (let ahead = 0; ahead <= this.maxDaysBack; ahead++) {
      const day = new Date(Date.UTC(today.year, today.month - 1, today.day + ahead));
      const y = day.getUTCFullYear();
      const mo = day.getUTCMonth() + 1;
      const d = day.getUTCDate();
      if (!this.dayMayMatch(y, mo, d)) continue;
      for (const hour of ascending(this.hours)) {
        for (const minute of ascending(this.minutes)) {
          for (const second of ascending(this.seconds)) {
            // Earlier today than `at`: skipped without converting, as in latestAtOrBefore.
            if (ahead === 0 && hour * 3600 + minute * 60 + second < atSeconds) continue;
            const candidate = this.localToEpoch(y, mo, d, hour, minute, second);
            if (candidate !== undefined && candidate > at && this.matcher.match(new Date(candidate))) return candidate;
          }
        }
      }
    }
    return undefined;
  }

  /** Releases the matcher task from node-cron's registry. */
  close(): void {
    void this.matcher.destroy();
  }

  /**
   * A day's date fields are tested once, at its first candidate time: if that exists and does not
   * match, no time of the day can (hours, minutes and seconds are taken from the lists). A time
   * skipped by a DST change tells nothing, so such a day is walked in full.
   */
  private dayMayMatch(y: number, mo: number, d: number): boolean {
    const hour = this.hours[this.hours.length - 1]!;
    const minute = this.minutes[this.minutes.length - 1]!;
    const second = this.seconds[this.seconds.length - 1]!;
    const at = this.localToEpoch(y, mo, d, hour, minute, second);
    return at === undefined || this.matcher.match(new Date(at));
  }

  /** A local wall-clock time as epoch ms; undefined when the time does not exist (a DST gap). */
  private localToEpoch(y: number, mo: number, d: number, h: number, mi: number, s: number): number | undefined {
    const wall = Date.UTC(y, mo - 1, d, h, mi, s);
    let at = wall - offsetAt(wall, this.timeZone);
    // The offset at the guess may differ from the offset at the answer near a DST change.
    const second = wall - offsetAt(at, this.timeZone);
    if (second !== at) at = second;
    const back = wallClock(at, this.timeZone);
    const same = back.year === y && back.month === mo && back.day === d && back.hour === h && back.minute === mi && back.second === s;
    return same ? at : undefined;
  }

}
