import type { OperatorAlert } from './operator-alert.js';
import type { Transition } from './transition.js';

/**
 * Who gets what: pure routing of a transition (or an operator alert) to destinations, one per
 * (route, channel, endpoint). The result is what the pipeline turns into notify tasks, one each,
 * so a destination is named, never resolved to a secret: Slack targets are webhook *names*, email
 * targets are the route whose recipients are read from the config at send time.
 *
 * Rules, in order:
 * 1. Silent transitions (first sync) go nowhere.
 * 2. Each configured route, in file order, matches when every condition it sets holds: the job
 *    type is in `jobTypes` (empty = any), the new status is in `statuses` (empty = NOTIFY_ON),
 *    and `inputFile` (a regular expression) finds the input file name (a job without one does not
 *    match a route that sets it). A matching route adds its Slack webhooks and, when
 *    EMAIL_ON_TRANSITION is on and it names recipients, one email destination. `continue: false`
 *    stops the search after a match.
 * 3. When no route matched, the default route (`default`: SLACK_WEBHOOK_URL as webhook `default`,
 *    EMAIL_TO as recipients) takes the transition if its status is in NOTIFY_ON. A route that
 *    matches claims the transition even when it names no channel, so a route with empty `slack` and
 *    `email` is how an operator drops a kind of transition on purpose.
 * 4. A Slack webhook named by two matching routes gets the message once (the first route's); so
 *    does a Teams webhook or a signed webhook (`teams`, `webhook`: endpoint names, `default` being
 *    TEAMS_WEBHOOK_URL or WEBHOOK_URL, which the default route sends to), and so does a Slack app
 *    channel (SLACK_BOT_TOKEN; the default route's is SLACK_CHANNEL).
 * Operator alerts always go to the default route's channels, whatever the routes and
 * EMAIL_ON_TRANSITION say: they concern gem-watch itself.
 */

/** One place a message goes; the routing half of the notify queue's task data. */
export interface Destination {
  /** Route name; `default` for the default route. */
  route: string;
  /** Channel name as registered: `slack` or `email`. */
  channel: string;
  /** Slack: a webhook name. Email: the literal `route` (recipients are the route's). */
  target: string;
}

/** Name of the route built from SLACK_WEBHOOK_URL and EMAIL_TO. */
export const DEFAULT_ROUTE = 'default';
/** Name of the webhook SLACK_WEBHOOK_URL is known by. */
export const DEFAULT_WEBHOOK = 'default';
/** Channel name of Slack app mode: one message per job, updated in place. */
export const SLACK_APP_CHANNEL = 'slack-app';
/** The email target: recipients come from the route's configuration. */
export const EMAIL_ROUTE_TARGET = 'route';

/** A route as routing reads it: what it matches and where it sends. */
export interface RoutingRoute {
  /** Unique name; used in task ids. */
  name: string;
  match: {
    /** Job types this route takes; empty = all. */
    jobTypes: readonly string[];
    /** Statuses this route takes; empty = NOTIFY_ON. */
    statuses: readonly string[];
    /** A regular expression tested against the input file name. */
    inputFile?: string | undefined;
  };
  /** Webhook names (`default` is SLACK_WEBHOOK_URL). */
  slack: readonly string[];
  /** Recipients. */
  email: readonly string[];
  /** Teams webhook names (`default` is TEAMS_WEBHOOK_URL). */
  teams?: readonly string[];
  /** Signed webhook names (`default` is WEBHOOK_URL). */
  webhook?: readonly string[];
  /**
   * Slack app mode: the channel this route's jobs are posted to ('' or absent = none), and whether
   * it shows jobs from their first queued or running event on (`liveProgress`).
   */
  slackApp?: { channel: string; liveProgress?: boolean } | undefined;
  /** Keep matching further routes after this one. */
  continue: boolean;
}

/**
 * What routing reads. Its nesting follows the configuration's keys, so the parsed configuration
 * is one (the composition root passes it; the compiler checks they agree), while domain/ stays
 * free of the configuration's schema.
 */
export interface RoutingSettings {
  routes: readonly RoutingRoute[];
  notify: {
    /** NOTIFY_ON: statuses announced on the default route and by routes that name none. */
    on: readonly string[];
  };
  slack: {
    /** SLACK_WEBHOOK_URL, the default route's webhook; '' = none. */
    webhookUrl: string;
    /** More webhooks by name. */
    webhooks: Readonly<Record<string, string>>;
  };
  /** Slack app mode (absent in configurations built before it). */
  slackApp?: {
    /** SLACK_BOT_TOKEN; '' = off. */
    botToken: string;
    /** SLACK_CHANNEL, the default route's channel; '' = none. */
    channel: string;
    /** The default route shows jobs from their first queued or running event on. */
    liveProgress?: boolean;
  };
  email: {
    /** '' = email off. */
    smtpUrl: string;
    /** EMAIL_TO, the default route's recipients. */
    to: readonly string[];
    /** EMAIL_ON_TRANSITION. */
    onTransition: boolean;
  };
  /** Teams; unset = off. */
  teams?: { /** TEAMS_WEBHOOK_URL; '' = none. */ webhookUrl: string };
  /** The signed webhook; unset = off. */
  webhook?: { /** WEBHOOK_URL; '' = none. */ url: string };
}

/**
 * The channels whose route entries are lists of endpoint names, each sent to once (the first
 * matching route's), with `default` the endpoint of the channel's environment variable.
 */
export const NAMED_ENDPOINT_CHANNELS = ['teams', 'webhook'] as const;

/** The default route's endpoint of a named-endpoint channel, when its environment variable is set. */
export function defaultNamedEndpoints(config: Pick<RoutingSettings, 'teams' | 'webhook'>): Destination[] {
  const out: Destination[] = [];
  if (config.teams?.webhookUrl) out.push({ route: DEFAULT_ROUTE, channel: 'teams', target: DEFAULT_WEBHOOK });
  if (config.webhook?.url) out.push({ route: DEFAULT_ROUTE, channel: 'webhook', target: DEFAULT_WEBHOOK });
  return out;
}

/** A route's endpoints of the named-endpoint channels, in channel order. */
export function routeNamedEndpoints(route: Pick<RoutingRoute, 'name' | 'teams' | 'webhook'>): Destination[] {
  return NAMED_ENDPOINT_CHANNELS.flatMap((channel) => (route[channel] ?? []).map((target) => ({ route: route.name, channel, target })));
}

/** What routing needs of an operator alert: nothing but that it is one (it names no job). */
export type AlertSubject = Pick<OperatorAlert, 'kind' | 'state'>;

function isTransition(subject: Transition | AlertSubject): subject is Transition {
  return 'jobId' in subject && 'to' in subject;
}

/** True when the route's conditions all hold for the transition. */
export function routeMatches(route: RoutingRoute, transition: Transition, notifyOn: readonly string[]): boolean {
  const statuses: readonly string[] = route.match.statuses.length > 0 ? route.match.statuses : notifyOn;
  return statuses.includes(transition.to) && routeTakesJob(route, transition);
}

/** True when the route's conditions on the job itself (type, input file) hold, whatever its status. */
function routeTakesJob(route: RoutingRoute, transition: Transition): boolean {
  const { match } = route;
  if (match.jobTypes.length > 0 && !match.jobTypes.includes(transition.jobType)) return false;
  if (match.inputFile !== undefined) {
    const input = transition.job.inputFile;
    if (input === undefined || !new RegExp(match.inputFile).test(input)) return false;
  }
  return true;
}

function defaultDestinations(config: RoutingSettings, includeEmail: boolean): Destination[] {
  const out: Destination[] = [];
  if (config.slack.webhookUrl) out.push({ route: DEFAULT_ROUTE, channel: 'slack', target: DEFAULT_WEBHOOK });
  if (config.slackApp?.botToken && config.slackApp.channel) out.push({ route: DEFAULT_ROUTE, channel: SLACK_APP_CHANNEL, target: config.slackApp.channel });
  if (includeEmail && config.email.smtpUrl && config.email.to.length > 0) {
    out.push({ route: DEFAULT_ROUTE, channel: 'email', target: EMAIL_ROUTE_TARGET });
  }
  out.push(...defaultNamedEndpoints(config));
  return out;
}

/**
 * Where a transition or an operator alert goes. Pure; the same input always gives the same list in
 * the same order, so task ids derived from it are stable across replicas.
 */
export function resolveDestinations(subject: Transition | AlertSubject, config: RoutingSettings): Destination[] {
  if (!isTransition(subject)) return defaultDestinations(config, true);
  if (subject.silent) return [];

  const out: Destination[] = [];
  const webhooksTaken = new Set<string>();
  const appChannelsTaken = new Set<string>();
  let matched = false;
  // liveProgress: a route's Slack app channel takes a job's queued and running events whatever its
  // statuses say, so the job's message is there from the start. That does not claim the event
  // from the default route, and nothing else of the route's is sent.
  const active = subject.to === 'queued' || subject.to === 'running';
  // Whether a route takes this job at all: the default route's liveProgress shows only jobs no
  // route takes, since their ends go elsewhere and its message would stay at "running".
  let jobTakenByRoute = false;
  for (const route of config.routes) {
    jobTakenByRoute ||= routeTakesJob(route, subject);
    if (!routeMatches(route, subject, config.notify.on)) {
      const live = active && config.slackApp?.botToken && route.slackApp?.liveProgress ? route.slackApp.channel : undefined;
      if (live && routeTakesJob(route, subject)) {
        if (!appChannelsTaken.has(live)) {
          appChannelsTaken.add(live);
          out.push({ route: route.name, channel: SLACK_APP_CHANNEL, target: live });
        }
      }
      continue;
    }
    matched = true;
    for (const webhook of route.slack) {
      if (webhooksTaken.has(webhook)) continue;
      webhooksTaken.add(webhook);
      out.push({ route: route.name, channel: 'slack', target: webhook });
    }
    // A Slack app target is the channel itself: a job has one message per channel, whichever route
    // brought each of its events there.
    const appChannel = config.slackApp?.botToken ? route.slackApp?.channel : undefined;
    if (appChannel && !appChannelsTaken.has(appChannel)) {
      appChannelsTaken.add(appChannel);
      out.push({ route: route.name, channel: SLACK_APP_CHANNEL, target: appChannel });
    }
    if (config.email.onTransition && route.email.length > 0) {
      out.push({ route: route.name, channel: 'email', target: EMAIL_ROUTE_TARGET });
    }
    for (const destination of routeNamedEndpoints(route)) {
      const key = `${destination.channel}:${destination.target}`;
      if (webhooksTaken.has(key)) continue;
      webhooksTaken.add(key);
      out.push(destination);
    }
    if (!route.continue) break;
  }
  if (matched) return out;
  if (!config.notify.on.includes(subject.to)) {
    // The default route's liveProgress, for a job no route shows live.
    const app = config.slackApp;
    if (active && !jobTakenByRoute && app?.botToken && app.channel && app.liveProgress && !appChannelsTaken.has(app.channel)) {
      out.push({ route: DEFAULT_ROUTE, channel: SLACK_APP_CHANNEL, target: app.channel });
    }
    return out;
  }
  return [...out, ...defaultDestinations(config, config.email.onTransition).filter((destination) => destination.channel !== SLACK_APP_CHANNEL || !appChannelsTaken.has(destination.target))];
}

/** The recipients of a route's email: EMAIL_TO for `default`, else the route's list; undefined if no such route. */
export function routeRecipients(route: string, config: { routes: readonly Pick<RoutingRoute, 'name' | 'email'>[]; email: Pick<RoutingSettings['email'], 'to'> }): string[] | undefined {
  if (route === DEFAULT_ROUTE) return [...config.email.to];
  return config.routes.find((candidate) => candidate.name === route)?.email.slice();
}

/** The URL of a named webhook (`default` is SLACK_WEBHOOK_URL); undefined when not configured. */
export function webhookUrl(name: string, config: Pick<RoutingSettings, 'slack'>): string | undefined {
  if (name === DEFAULT_WEBHOOK && config.slack.webhookUrl) return config.slack.webhookUrl;
  const url = config.slack.webhooks[name];
  return url ? url : undefined;
}
