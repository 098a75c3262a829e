import { offsetAt, wallClock, type WallClock } from './zoned-time.js';

/**
 * Quiet hours and silences: whether a route's messages are held at an instant, and until when.
 * Pure; `now` is passed in and time zones come from Intl, so it is exact across DST changes.
 *
 * A mute window is daily or weekly local time in the route's time zone: `days` are the days it
 * *starts* on (0 = Sunday; empty = every day), `start`/`end` are HH:MM. An end earlier than the
 * start crosses midnight (19:00–08:00 started on Friday ends Saturday 08:00); an end equal to the
 * start is a whole day (00:00–00:00 on [0, 6] mutes weekends). A silence is an ad-hoc interval on a
 * route (`gem-watch silence add --route R --for 2h`).
 */

/** Structurally the config's MuteWindow. */
export interface MuteWindowSpec {
  days: readonly number[];
  start: string;
  end: string;
}

/** An ad-hoc silence of one route, from the CLI. */
export interface Silence {
  id: string;
  route: string;
  /** Epoch ms. */
  startsAt: number;
  /** Epoch ms; the silence no longer holds from this instant. */
  endsAt: number;
  comment?: string;
  /** Epoch ms it was added. */
  createdAt: number;
}

export interface MuteState {
  muted: boolean;
  /**
   * When muted: the first instant at which neither a window nor a silence holds any more (windows
   * and silences that overlap or touch are chained). Undefined when not muted.
   */
  until?: number;
  /** What holds now, for logs and the summary: e.g. `quiet hours 19:00–08:00 Europe/Amsterdam`, `silence s-1a2b`. */
  reasons: string[];
}

export interface MuteInput {
  windows: readonly MuteWindowSpec[];
  /** IANA time zone of the windows. */
  timeZone: string;
  /** Silences of this route (others are ignored by the caller or here by `route`). */
  silences: readonly Silence[];
  now: number;
}

const DAY_MS = 86_400_000;
/** Chains of windows and silences are followed at most this far; beyond that, muted "for good". */
const MAX_CHAIN = 64;

/** The wall clock with its time of day as minutes since midnight, as windows are written. */
function localTime(at: number, timeZone: string): WallClock & { minutes: number } {
  const wall = wallClock(at, timeZone);
  return { ...wall, minutes: wall.hour * 60 + wall.minute };
}

/**
 * The instant a local wall time names in a zone. A wall time skipped by a DST change (02:30 on the
 * spring-forward night) gives the instant one offset later; a repeated one gives the first.
 */
export function zonedInstant(year: number, month: number, day: number, minutes: number, timeZone: string): number {
  const guess = Date.UTC(year, month - 1, day, Math.floor(minutes / 60), minutes % 60);
  // The offsets a day either side are clear of any DST change at this wall time; each gives one
  // candidate instant, valid when the zone really has that offset there.
  const candidates = [offsetAt(guess - DAY_MS, timeZone), offsetAt(guess + DAY_MS, timeZone)].map((offset) => ({ at: guess - offset, offset }));
  const valid = candidates.filter((candidate) => offsetAt(candidate.at, timeZone) === candidate.offset).map((candidate) => candidate.at);
  if (valid.length > 0) return Math.min(...valid);
  return Math.max(...candidates.map((candidate) => candidate.at));
}

function hhmm(text: string): number {
  const [h, m] = text.split(':');
  return Number(h) * 60 + Number(m);
}

/** The local calendar date `days` after (y, m, d). */
function addDays(year: number, month: number, day: number, days: number): [number, number, number] {
  const date = new Date(Date.UTC(year, month - 1, day) + days * DAY_MS);
  return [date.getUTCFullYear(), date.getUTCMonth() + 1, date.getUTCDate()];
}

/** When the occurrence of `window` that holds at `at` ends, or undefined when it does not hold. */
export function windowEndAt(window: MuteWindowSpec, timeZone: string, at: number): number | undefined {
  const wall = localTime(at, timeZone);
  const start = hhmm(window.start);
  const end = hhmm(window.end);
  const startsOn = (weekday: number) => window.days.length === 0 || window.days.includes(weekday);
  if (start < end) {
    if (startsOn(wall.weekday) && wall.minutes >= start && wall.minutes < end) return zonedInstant(wall.year, wall.month, wall.day, end, timeZone);
    return undefined;
  }
  // Crosses midnight (or a whole day when start = end): started today, or started yesterday.
  if (startsOn(wall.weekday) && wall.minutes >= start) {
    const [y, m, d] = addDays(wall.year, wall.month, wall.day, 1);
    return zonedInstant(y, m, d, end, timeZone);
  }
  if (startsOn((wall.weekday + 6) % 7) && wall.minutes < end) return zonedInstant(wall.year, wall.month, wall.day, end, timeZone);
  return undefined;
}

/** "quiet hours 19:00–08:00 Mon–Fri Europe/Amsterdam". */
export function describeWindow(window: MuteWindowSpec, timeZone: string): string {
  const names = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
  const days = window.days.length === 0 || window.days.length === 7 ? '' : ` ${[...window.days].sort().map((day) => names[day]).join(',')}`;
  return `quiet hours ${window.start}–${window.end}${days} ${timeZone}`;
}

/**
 * Whether a route is muted at `now`, and until when. Windows and silences that overlap or touch are
 * chained, so the end is the first instant at which nothing holds: a summary sent then is not
 * followed at once by another muted period's.
 */
export function muteState(input: MuteInput): MuteState {
  const { windows, timeZone, now } = input;
  const silences = input.silences.filter((silence) => Number.isFinite(silence.startsAt) && Number.isFinite(silence.endsAt) && silence.endsAt > silence.startsAt);
  const reasons: string[] = [];
  const endAt = (at: number, collect: boolean): number | undefined => {
    let latest: number | undefined;
    for (const window of windows) {
      const end = windowEndAt(window, timeZone, at);
      if (end === undefined || end <= at) continue;
      if (collect) reasons.push(describeWindow(window, timeZone));
      latest = latest === undefined ? end : Math.max(latest, end);
    }
    for (const silence of silences) {
      if (silence.startsAt > at || silence.endsAt <= at) continue;
      if (collect) reasons.push(`silence ${silence.id}`);
      latest = latest === undefined ? silence.endsAt : Math.max(latest, silence.endsAt);
    }
    return latest;
  };
  let until = endAt(now, true);
  if (until === undefined) return { muted: false, reasons: [] };
  for (let step = 0; step < MAX_CHAIN; step += 1) {
    const next = endAt(until, false);
    if (next === undefined) break;
    until = next;
  }
  return { muted: true, until, reasons };
}
