import type { MuteWindowSpec } from './mute.js';
import type { QualityThresholds } from './quality.js';
import { DEFAULT_ROUTE, DEFAULT_WEBHOOK, defaultNamedEndpoints, EMAIL_ROUTE_TARGET, routeNamedEndpoints, type Destination } from './routing.js';
import { encodeIdPart } from './transition.js';

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

/** A named route as the alert stages read it. */
export interface AlertRoute {
  name: string;
  /** Webhook names. */
  slack: readonly string[];
  /** Recipients. */
  email: readonly string[];
  /** Teams webhook names. */
  teams?: readonly string[];
  /** Signed webhook names. */
  webhook?: readonly string[];
  thresholds: QualityThresholds;
  /** IANA time zone of `mute`. */
  timezone: string;
  mute: readonly MuteWindowSpec[];
  failuresBreakThrough: boolean;
}

/**
 * What the alert stages read of the routes. The nesting follows the configuration's keys, so the
 * parsed configuration is one as it stands and the compiler checks that they agree where it is
 * passed; alerts/ sees only these keys.
 */
export interface AlertConfig {
  routes: readonly AlertRoute[];
  alerts: {
    /** Transitions for one route within this window are grouped, in seconds; 0 = never. */
    burstWindowSec: number;
    /** Longest wait of a grouped message, in seconds; default `DEFAULT_BURST_MAX_SEC`. */
    burstMaxSec?: number | undefined;
    /** The default route's own alert settings; unset = none. */
    defaultRoute?:
      | {
          thresholds: QualityThresholds;
          /** Default `digest.timezone`. */
          timezone?: string | undefined;
          mute: readonly MuteWindowSpec[];
          failuresBreakThrough: boolean;
        }
      | undefined;
  };
  /** The operators' zone, the default route's when it sets none. */
  digest: { timezone: string };
  /** SLACK_WEBHOOK_URL; '' = the default route has no webhook. */
  slack: { webhookUrl: string };
  /** The default route's email: '' = email off; EMAIL_TO. */
  email: { smtpUrl: string; to: readonly string[] };
  /** TEAMS_WEBHOOK_URL; unset or '' = the default route has no Teams webhook. */
  teams?: { webhookUrl: string };
  /** WEBHOOK_URL; unset or '' = the default route has no signed webhook. */
  webhook?: { url: string };
}

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
export function routeExists(route: string, config: Pick<AlertConfig, 'routes'>): boolean {
  return route === DEFAULT_ROUTE || config.routes.some((candidate) => candidate.name === route);
}

/** Every destination a route can have: its webhooks and, with recipients, its email. */
export function routeDestinations(route: string, config: Pick<AlertConfig, 'routes' | 'slack' | 'email' | 'teams' | 'webhook'>): Destination[] {
  if (route === DEFAULT_ROUTE) {
    const out: Destination[] = [];
    if (config.slack.webhookUrl) out.push({ route, channel: 'slack', target: DEFAULT_WEBHOOK });
    if (config.email.smtpUrl && config.email.to.length > 0) out.push({ route, channel: 'email', target: EMAIL_ROUTE_TARGET });
    out.push(...defaultNamedEndpoints(config));
    return out;
  }
  const named = config.routes.find((candidate) => candidate.name === route);
  if (!named) return [];
  const out: Destination[] = named.slack.map((target) => ({ route, channel: 'slack', target }));
  if (named.email.length > 0) out.push({ route, channel: 'email', target: EMAIL_ROUTE_TARGET });
  out.push(...routeNamedEndpoints(named));
  return out;
}

/** Default of `alerts.burstMaxSec`, in seconds. */
export const DEFAULT_BURST_MAX_SEC = 120;

/** A destination as one key segment, `<route>-<channel>-<target>`, each part encoded (no `-` or `:` inside). */
export function destinationKey(destination: Destination): string {
  return [destination.route, destination.channel, destination.target].map(encodeIdPart).join('-');
}
