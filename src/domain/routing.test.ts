import { describe, expect, it } from 'vitest';
import { sampleTransition } from '../notify/sample-data.js';
import { routeDestinations } from './route-settings.js';
import { resolveDestinations, routeRecipients, webhookUrl, type RoutingRoute, type RoutingSettings } from './routing.js';
import type { Transition } from './transition.js';

const NOW = Date.UTC(2026, 0, 20);

function route(name: string, patch: Partial<Omit<RoutingRoute, 'match'>> & { match?: Partial<RoutingRoute['match']> } = {}): RoutingRoute {
  return {
    name,
    slack: [],
    email: [],
    continue: true,
    ...patch,
    match: { jobTypes: [], statuses: [], ...patch.match },
  };
}

function config(patch: Partial<{ routes: RoutingRoute[]; on: RoutingSettings['notify']['on']; onTransition: boolean; slack: boolean; smtp: boolean }> = {}): RoutingSettings {
  return {
    routes: patch.routes ?? [],
    notify: { on: patch.on ?? ['finished', 'failed'] },
    slack: { webhookUrl: patch.slack === false ? '' : 'https://hooks.slack.com/services/T/B/default', webhooks: { data: 'https://hooks.slack.com/services/T/B/data', lanes: 'https://hooks.slack.com/services/T/B/lanes' } },
    email: { smtpUrl: patch.smtp === false ? '' : 'smtp://mail:25', to: ['ops@example.com'], onTransition: patch.onTransition ?? true },
  };
}

function transition(status: 'finished' | 'failed' | 'cancelled', patch: Partial<Transition> = {}, job: Partial<Transition['job']> = {}): Transition {
  const base = sampleTransition(status, NOW);
  return { ...base, ...patch, job: { ...base.job, ...job } };
}

describe('resolveDestinations', () => {
  it('sends an announced transition to the default route when no route is configured', () => {
    expect(resolveDestinations(transition('finished'), config())).toEqual([
      { route: 'default', channel: 'slack', target: 'default' },
      { route: 'default', channel: 'email', target: 'route' },
    ]);
  });

  it('sends to Slack app mode\'s channel (SLACK_CHANNEL) by default and to a route\'s own, one destination per channel, only with a bot token', () => {
    const app = { botToken: 'xoxb-1-2-token', channel: '#gem-alerts' };
    const routes = [
      route('lanes', { match: { jobTypes: ['ROAD_MATCHING'] }, slackApp: { channel: 'C0LANES01' } }),
      route('lanes-copy', { match: { jobTypes: ['ROAD_MATCHING'] }, slackApp: { channel: 'C0LANES01' } }),
    ];
    expect(resolveDestinations(transition('finished'), { ...config({ slack: false, smtp: false }), slackApp: app })).toEqual([
      { route: 'default', channel: 'slack-app', target: '#gem-alerts' },
    ]);
    expect(resolveDestinations(transition('finished'), { ...config({ routes, slack: false, smtp: false }), slackApp: app })).toEqual([
      { route: 'lanes', channel: 'slack-app', target: 'C0LANES01' },
    ]);
    expect(resolveDestinations(transition('finished'), { ...config({ routes, slack: false, smtp: false }), slackApp: { botToken: '', channel: '' } })).toEqual([]);
  });

  it('with liveProgress, sends queued and running events to the Slack app channel only, without claiming them from the default route', () => {
    const app = { botToken: 'xoxb-1-2-token', channel: '#gem-alerts', liveProgress: true };
    const running = transition('finished', { to: 'running' });
    expect(resolveDestinations(running, { ...config(), slackApp: app })).toEqual([{ route: 'default', channel: 'slack-app', target: '#gem-alerts' }]);
    expect(resolveDestinations(running, { ...config(), slackApp: { ...app, liveProgress: false } })).toEqual([]);
    const routes = [route('lanes', { match: { jobTypes: ['ROAD_MATCHING'] }, slack: ['lanes'], slackApp: { channel: 'C0LANES01', liveProgress: true } })];
    // The route shows the job live; the default route does not (the job's end goes to the route).
    expect(resolveDestinations(running, { ...config({ routes }), slackApp: app })).toEqual([{ route: 'lanes', channel: 'slack-app', target: 'C0LANES01' }]);
    expect(resolveDestinations(transition('finished'), { ...config({ routes }), slackApp: app })).toEqual([
      { route: 'lanes', channel: 'slack', target: 'lanes' },
      { route: 'lanes', channel: 'slack-app', target: 'C0LANES01' },
    ]);
  });

  it('sends nothing for a status outside NOTIFY_ON, and nothing for a silent transition', () => {
    expect(resolveDestinations(transition('cancelled'), config())).toEqual([]);
    expect(resolveDestinations(transition('finished', { silent: true }), config())).toEqual([]);
  });

  it('leaves email out when EMAIL_ON_TRANSITION is off, and a channel out when it is not configured', () => {
    expect(resolveDestinations(transition('failed'), config({ onTransition: false }))).toEqual([{ route: 'default', channel: 'slack', target: 'default' }]);
    expect(resolveDestinations(transition('failed'), config({ slack: false }))).toEqual([{ route: 'default', channel: 'email', target: 'route' }]);
  });

  it('matches routes on job type, status and input file, and the default route takes what none claims', () => {
    const routes = [
      route('lanes', { match: { jobTypes: ['LANE_LEVEL_MATCHING'] }, slack: ['lanes'] }),
      route('eu-failures', { match: { statuses: ['failed'], inputFile: '^eu_' }, slack: ['data'], email: ['eu@example.com'] }),
    ];
    const euFailed = transition('failed', {}, { inputFile: 'eu_roads.parquet' });
    expect(resolveDestinations(euFailed, config({ routes }))).toEqual([
      { route: 'eu-failures', channel: 'slack', target: 'data' },
      { route: 'eu-failures', channel: 'email', target: 'route' },
    ]);
    // Not eu_: no route claims it, so the default route does.
    expect(resolveDestinations(transition('failed', {}, { inputFile: 'us_roads.parquet' }), config({ routes }))).toEqual([
      { route: 'default', channel: 'slack', target: 'default' },
      { route: 'default', channel: 'email', target: 'route' },
    ]);
    // A job without an input file never matches a route that tests it.
    expect(resolveDestinations(transition('failed', {}, { inputFile: undefined }), config({ routes }))[0]?.route).toBe('default');
  });

  it('uses NOTIFY_ON for a route without statuses, and a route may ask for a status NOTIFY_ON leaves out', () => {
    const routes = [route('all', { slack: ['data'] }), route('cancellations', { match: { statuses: ['cancelled'] }, slack: ['lanes'] })];
    expect(resolveDestinations(transition('finished'), config({ routes }))).toEqual([{ route: 'all', channel: 'slack', target: 'data' }]);
    expect(resolveDestinations(transition('cancelled'), config({ routes }))).toEqual([{ route: 'cancellations', channel: 'slack', target: 'lanes' }]);
  });

  it('keeps matching after a route unless it says continue: false', () => {
    const routes = [
      route('first', { slack: ['data'], continue: false }),
      route('second', { slack: ['lanes'] }),
    ];
    expect(resolveDestinations(transition('finished'), config({ routes })).map((d) => d.route)).toEqual(['first']);
    routes[0]!.continue = true;
    expect(resolveDestinations(transition('finished'), config({ routes })).map((d) => d.route)).toEqual(['first', 'second']);
  });

  it('posts once to a webhook two routes name, and a route with no channels drops the transition on purpose', () => {
    const routes = [route('a', { slack: ['data', 'default'] }), route('b', { slack: ['data'], email: ['b@example.com'] })];
    expect(resolveDestinations(transition('finished'), config({ routes }))).toEqual([
      { route: 'a', channel: 'slack', target: 'data' },
      { route: 'a', channel: 'slack', target: 'default' },
      { route: 'b', channel: 'email', target: 'route' },
    ]);
    expect(resolveDestinations(transition('finished'), config({ routes: [route('drop', { match: { jobTypes: ['ROAD_MATCHING'] } })] }))).toEqual([]);
  });

  it('sends operator alerts to the default route, email included even with EMAIL_ON_TRANSITION off', () => {
    const alert = { kind: 'polling', state: 'down' as const };
    expect(resolveDestinations(alert, config({ onTransition: false, routes: [route('x', { slack: ['data'] })] }))).toEqual([
      { route: 'default', channel: 'slack', target: 'default' },
      { route: 'default', channel: 'email', target: 'route' },
    ]);
  });

  it('is deterministic', () => {
    const routes = [route('a', { slack: ['data'] }), route('b', { email: ['b@example.com'] })];
    const first = resolveDestinations(transition('failed'), config({ routes }));
    expect(resolveDestinations(transition('failed'), config({ routes }))).toEqual(first);
  });
});

describe('routeRecipients and webhookUrl', () => {
  it('reads recipients and webhooks by name from the configuration', () => {
    const cfg = config({ routes: [route('b', { email: ['b@example.com'] })] });
    expect(routeRecipients('default', cfg)).toEqual(['ops@example.com']);
    expect(routeRecipients('b', cfg)).toEqual(['b@example.com']);
    expect(routeRecipients('gone', cfg)).toBeUndefined();
    expect(webhookUrl('default', cfg)).toBe('https://hooks.slack.com/services/T/B/default');
    expect(webhookUrl('data', cfg)).toBe('https://hooks.slack.com/services/T/B/data');
    expect(webhookUrl('gone', cfg)).toBeUndefined();
  });
});

describe('Teams and signed webhook destinations', () => {
  const withChannels = (routes: RoutingRoute[] = []): RoutingSettings => ({
    ...config({ routes, smtp: false }),
    teams: { webhookUrl: 'https://prod-1.westeurope.logic.azure.com/workflows/a/triggers/manual/paths/invoke?sig=x' },
    webhook: { url: 'https://hooks.example.com/gem' },
  });

  it('sends the default route to TEAMS_WEBHOOK_URL and WEBHOOK_URL, operator alerts included', () => {
    const expected = [
      { route: 'default', channel: 'slack', target: 'default' },
      { route: 'default', channel: 'teams', target: 'default' },
      { route: 'default', channel: 'webhook', target: 'default' },
    ];
    expect(resolveDestinations(transition('failed'), withChannels())).toEqual(expected);
    expect(resolveDestinations({ kind: 'polling', state: 'down' }, withChannels())).toEqual(expected);
  });

  it('sends a route to the endpoints it names, each endpoint once across matching routes', () => {
    const routes = [route('a', { teams: ['lanes', 'default'], webhook: ['billing'] }), route('b', { teams: ['lanes'], webhook: ['billing', 'audit'] })];
    expect(resolveDestinations(transition('finished'), withChannels(routes))).toEqual([
      { route: 'a', channel: 'teams', target: 'lanes' },
      { route: 'a', channel: 'teams', target: 'default' },
      { route: 'a', channel: 'webhook', target: 'billing' },
      { route: 'b', channel: 'webhook', target: 'audit' },
    ]);
  });

  it('gives a silenced or muted route every endpoint it can have, for its held summary', () => {
    const alertConfig = { routes: [{ name: 'a', slack: [], email: [], teams: ['lanes'], webhook: ['billing'], thresholds: {}, timezone: 'UTC', mute: [], failuresBreakThrough: false }], slack: { webhookUrl: '' }, email: { smtpUrl: '', to: [] }, teams: { webhookUrl: 'https://x.example/t' }, webhook: { url: 'https://x.example/w' } };
    expect(routeDestinations('a', alertConfig)).toEqual([
      { route: 'a', channel: 'teams', target: 'lanes' },
      { route: 'a', channel: 'webhook', target: 'billing' },
    ]);
    expect(routeDestinations('default', alertConfig)).toEqual([
      { route: 'default', channel: 'teams', target: 'default' },
      { route: 'default', channel: 'webhook', target: 'default' },
    ]);
  });
});
