import type { Config } from '../config/schema.js';
import type { MuteWindowSpec } from '../domain/mute.js';
import type { QualityThresholds } from '../domain/quality.js';
import { DEFAULT_ROUTE, DEFAULT_WEBHOOK, EMAIL_ROUTE_TARGET, type Destination } from '../domain/routing.js';
import { encodeIdPart } from '../domain/transition.js';

/**
 * The alert settings of a route, named or default, read from the configuration in one place: named
 * routes carry them in `routes[]`, the default route in `alerts.defaultRoute`.
 */
export interface RouteAlertSettings {
  thresholds: QualityThresholds;
  mute: readonly MuteWindowSpec[];
  /** IANA time zone of `mute`. */
  timeZone: string;
  /** Failures and stuck or overdue jobs are delivered even when the route is muted or silenced. */
  failuresBreakThrough: boolean;
}

/** The parts of the configuration the alert settings come from. */
export type AlertConfig = Pick<Config, 'routes' | 'alerts' | 'digest' | 'slack' | 'email'>;

/**
 * Settings of a route. A route the configuration no longer has (the config changed while a task
 * waited) has none: no thresholds, never muted.
 */
export function routeAlertSettings(route: string, config: AlertConfig): RouteAlertSettings {
  if (route === DEFAULT_ROUTE) {
    const own = config.alerts.defaultRoute;
    return {
      thresholds: own?.thresholds ?? {},
      mute: own?.mute ?? [],
      timeZone: own?.timezone ?? config.digest.timezone,
      failuresBreakThrough: own?.failuresBreakThrough ?? false,
    };
  }
  const named = config.routes.find((candidate) => candidate.name === route);
  if (!named) return { thresholds: {}, mute: [], timeZone: 'UTC', failuresBreakThrough: false };
  return { thresholds: named.thresholds, mute: named.mute, timeZone: named.timezone, failuresBreakThrough: named.failuresBreakThrough };
}

/** True when the configuration knows the route (`default` always). */
export function routeExists(route: string, config: Pick<Config, 'routes'>): boolean {
  return route === DEFAULT_ROUTE || config.routes.some((candidate) => candidate.name === route);
}

/** Every destination a route can have: its webhooks and, with recipients, its email. */
export function routeDestinations(route: string, config: AlertConfig): Destination[] {
  if (route === DEFAULT_ROUTE) {
    const out: Destination[] = [];
    if (config.slack.webhookUrl) out.push({ route, channel: 'slack', target: DEFAULT_WEBHOOK });
    if (config.email.smtpUrl && config.email.to.length > 0) out.push({ route, channel: 'email', target: EMAIL_ROUTE_TARGET });
    return out;
  }
  const named = config.routes.find((candidate) => candidate.name === route);
  if (!named) return [];
  const out: Destination[] = named.slack.map((target) => ({ route, channel: 'slack', target }));
  if (named.email.length > 0) out.push({ route, channel: 'email', target: EMAIL_ROUTE_TARGET });
  return out;
}

/** Default of `alerts.burstMaxSec`, in seconds. */
export const DEFAULT_BURST_MAX_SEC = 120;

/** A destination as one key segment, `<route>-<channel>-<target>`, each part encoded (no `-` or `:` inside). */
export function destinationKey(destination: Destination): string {
  return [destination.route, destination.channel, destination.target].map(encodeIdPart).join('-');
}
