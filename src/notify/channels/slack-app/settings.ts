import { DEFAULT_ROUTE } from '../../../domain/routing.js';

/** How one route posts in Slack app mode. */
export interface SlackAppRouteSettings {
  /** Channel id or name, as configured. */
  channel: string;
  /** Ends whose thread reply is also broadcast to the channel (`reply_broadcast`). */
  replyBroadcast: ReadonlySet<'finished' | 'failed' | 'cancelled'>;
  /** `<!subteam^ID>` / `<@U…>` added to a failure's thread reply; from YAML only. */
  mentions: readonly string[];
  /** Post on the first queued or running event and keep the progress bar current. */
  liveProgress: boolean;
  /** With liveProgress: one progress update per job at most this often, ms. */
  progressEveryMs: number;
}

/** What the Slack app channel reads of the configuration, and nothing else. */
export interface SlackAppSettings {
  /** Bot token (xoxb-…): a secret, registered with the redactor by the notifier. */
  botToken: string;
  /** Base URL of the Web API, ending with a slash (`slackApp.apiUrl`, SLACK_API_URL). */
  apiUrl: string;
  /** Total deadline of one Web API call, ms (`slackApp.timeoutMs`, default 10,000). */
  timeoutMs: number;
  /** Every route that posts in app mode, by route name (`default` = SLACK_CHANNEL). A Map: names come from task data. */
  routes: ReadonlyMap<string, SlackAppRouteSettings>;
  /** How long a job's message ref is kept after its last write, ms (`retention.deliveriesDays`). */
  retentionMs: number;
  /** Progress updates a minute across the workspace (`slackApp.progressUpdatesPerMinute`, default 30). */
  progressUpdatesPerMinute: number;
}

/** How a route posts in Slack app mode, as configured (`slackApp`, `routes[].slackApp`). */
export interface SlackAppRouteConfig {
  /** Channel id or name; '' = none. */
  channel: string;
  /** Ends whose thread reply is also broadcast to the channel. */
  replyBroadcast: readonly ('finished' | 'failed' | 'cancelled')[];
  /** User groups or users mentioned in a failure's thread reply. */
  mentions: readonly string[];
  /** Post on the first queued or running event and keep the progress current. */
  liveProgress: boolean;
  /** With liveProgress: one progress update per job at most this often, in minutes. */
  progressEveryMinutes: number;
}

/** What the Slack app channel's settings are read from; nested as the configuration's keys, so it is one. */
export interface SlackAppConfig {
  /** The default route's posting, the bot token and the Web API's; absent = off. */
  slackApp?: SlackAppRouteConfig & {
    /** SLACK_BOT_TOKEN; '' = off. */
    botToken: string;
    /** Base URL of the Web API, ending with a slash. */
    apiUrl: string;
    /** Deadline of one Web API call, in ms. */
    timeoutMs: number;
    /** Progress updates a minute across the workspace. */
    progressUpdatesPerMinute: number;
  };
  routes: readonly { name: string; slackApp?: SlackAppRouteConfig | undefined }[];
  /** Days a job's message ref is kept after its last write. */
  retention: { deliveriesDays: number };
}

/** The Slack app channel's settings from the configuration; undefined when SLACK_BOT_TOKEN is not set. */
export function slackAppSettings(config: SlackAppConfig): SlackAppSettings | undefined {
  const app = config.slackApp;
  if (!app?.botToken) return undefined;
  const routes = new Map<string, SlackAppRouteSettings>();
  if (app.channel) {
    routes.set(DEFAULT_ROUTE, {
      channel: app.channel,
      replyBroadcast: new Set(app.replyBroadcast),
      mentions: app.mentions,
      liveProgress: app.liveProgress,
      progressEveryMs: app.progressEveryMinutes * 60_000,
    });
  }
  for (const route of config.routes) {
    const own = route.slackApp;
    if (!own?.channel) continue;
    routes.set(route.name, {
      channel: own.channel,
      replyBroadcast: new Set(own.replyBroadcast),
      mentions: own.mentions,
      liveProgress: own.liveProgress,
      progressEveryMs: own.progressEveryMinutes * 60_000,
    });
  }
  return {
    botToken: app.botToken,
    apiUrl: app.apiUrl,
    timeoutMs: app.timeoutMs,
    routes,
    retentionMs: Math.round(config.retention.deliveriesDays * 86_400_000),
    progressUpdatesPerMinute: app.progressUpdatesPerMinute,
  };
}
