import cron from 'node-cron';
import { z } from 'zod';
import { parseRedisUrl, RedisUrlError } from './redis-url.js';

/**
 * The whole configuration of gem-watch. config/default.yaml carries every key with its default and a
 * comment; `env.ts` lists the environment variables that override keys. Keys are camelCase in YAML.
 */

const cronExpression = z.string().refine((value) => cron.validate(value), {
  message: 'must be a node-cron expression of 5 or 6 fields (seconds first when 6)',
});

const timezone = z.string().refine(
  (value) => {
    try {
      new Intl.DateTimeFormat('en-US', { timeZone: value });
      return true;
    } catch {
      return false;
    }
  },
  { message: 'must be an IANA time zone such as UTC or Europe/Amsterdam' },
);

/** An http(s) URL. The value is never echoed in an error, since it may carry a secret. */
const httpUrl = z.string().refine((value) => /^https?:\/\/[^\s/]+/i.test(value) && URL.canParse(value), {
  message: 'must be an http:// or https:// URL',
});

const optionalHttpUrl = z.union([z.literal(''), httpUrl]);

const smtpUrl = z.union([
  z.literal(''),
  z.string().refine(
    (value) => {
      if (!URL.canParse(value)) return false;
      const url = new URL(value);
      return (url.protocol === 'smtp:' || url.protocol === 'smtps:') && url.hostname !== '';
    },
    { message: 'must look like smtp://user:pass@host:port or smtps://user:pass@host:port' },
  ),
]);

/**
 * REDIS_URL in any of its forms (see redis-url.ts): redis:// or rediss:// with a whole-number
 * database, if any (`/2` or `?db=2`): ioredis hands any other text to SELECT as NaN, which Redis
 * refuses on every connection, and each refusal surfaced as an unhandled rejection; or a cluster's
 * seeds, or Sentinels and a master name. The value is never echoed: it may carry the password.
 */
const redisUrl = z.string().superRefine((value, context) => {
  try {
    parseRedisUrl(value);
  } catch (error) {
    context.addIssue({ code: 'custom', message: error instanceof RedisUrlError ? error.message : 'cannot be read' });
  }
});

const emailAddressPattern = /^[^\s@<>,;"]+@[^\s@<>,;"]+$/;

const emailAddress = z.string().regex(emailAddressPattern, 'must be an e-mail address');

/**
 * A sender: `name@host`, or `Display Name <name@host>`. No control characters anywhere: the
 * value goes into the From header as it is.
 */
const sender = z.string().refine(
  (value) => {
    // eslint-disable-next-line no-control-regex
    if (/[\u0000-\u001f\u007f]/.test(value)) return false;
    const named = /^[^<>]*<([^<>]+)>$/.exec(value.trim());
    return emailAddressPattern.test(named ? named[1]! : value.trim());
  },
  { message: 'must be an e-mail address, e.g. gem-watch@example.com or "gem-watch <gem-watch@example.com>"' },
);

/** Shortest HTTP_AUTH_TOKEN accepted: a guessable token is no protection on a reachable port. */
export const MIN_HTTP_TOKEN_LENGTH = 16;

const canonicalStatus = z.enum(['queued', 'running', 'finished', 'failed', 'cancelled', 'unknown']);

const durationMs = z.number().int().nonnegative();

/** A daily or weekly window in which a route's messages are held, in the route's time zone. */
const muteWindow = z
  .object({
    /** Days the window starts on, 0 = Sunday … 6 = Saturday. Empty = every day. */
    days: z.array(z.number().int().min(0).max(6)).default([]),
    /** "HH:MM", local time. */
    start: z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be HH:MM'),
    /** "HH:MM", local time; earlier than start means the window crosses midnight, equal means a whole day. */
    end: z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be HH:MM'),
  })
  .strict();

/** Thresholds below which a finished job is announced as a warning. Percentages 0–100. */
const qualityThresholds = z
  .object({
    roadsMatchedPct: z.number().min(0).max(100).optional(),
    roadsFullyMatchedPct: z.number().min(0).max(100).optional(),
  })
  .strict();

/** A Slack channel as chat.postMessage takes it: an id (C…, G…) or a name (`#name` or `name`). */
const slackChannel = z.string().regex(/^(#?[a-z0-9][a-z0-9._-]{0,79}|[CGD][A-Z0-9]{6,})$/, 'must be a Slack channel id such as C0123ABCD or a channel name such as #gem-alerts');

/**
 * A mention a route adds to a failure's thread reply: a user group (`<!subteam^S0123ABCD>`) or a
 * user (`<@U0123ABCD>`). Only from YAML; text from the API is always escaped and never mentions.
 */
const slackMention = z.string().regex(/^(<!subteam\^[A-Z0-9]{2,}>|<@[UW][A-Z0-9]{2,}>)$/, 'must be <!subteam^ID> or <@USERID>');

/** What a route does in Slack app mode (a bot token posting one message per job, kept current). */
const routeSlackApp = z
  .object({
    /** Channel id or name this route's jobs are posted to; empty = none. */
    channel: z.union([z.literal(''), slackChannel]).default(''),
    /** Ends whose thread reply is also broadcast to the channel (`reply_broadcast`). Default [failed]. */
    replyBroadcast: z.array(z.enum(['finished', 'failed', 'cancelled'])).default(['failed']),
    /** User groups or users mentioned in a failure's thread reply. */
    mentions: z.array(slackMention).default([]),
    /** Post a job when first seen queued or running and keep its progress bar and ETA current. */
    liveProgress: z.boolean().default(false),
    /** With liveProgress: at most one progress update per job this often, in minutes. Default 5. */
    progressEveryMinutes: z.number().min(1).default(5),
  })
  .strict();

const route = z
  .object({
    /** Unique name; used in task ids, logs and `gem-watch silence add --route NAME`. */
    name: z.string().regex(/^[A-Za-z0-9_.-]+$/, 'must be letters, digits, _ . or -'),
    match: z
      .object({
        /** Job types this route takes; empty = all. */
        jobTypes: z.array(z.string()).default([]),
        /** Canonical statuses this route takes; empty = NOTIFY_ON. */
        statuses: z.array(canonicalStatus).default([]),
        /** A regular expression tested against the input file name. */
        inputFile: z
          .string()
          .refine((value) => {
            try {
              new RegExp(value);
              return true;
            } catch {
              return false;
            }
          }, 'must be a valid regular expression')
          .optional(),
      })
      .strict()
      .default({ jobTypes: [], statuses: [] }),
    /** Names of webhooks from `slack.webhooks` (`default` is SLACK_WEBHOOK_URL). */
    slack: z.array(z.string()).default([]),
    /** Recipients. */
    email: z.array(emailAddress).default([]),
    /** Names of Teams webhooks from `teams.webhooks` (`default` is TEAMS_WEBHOOK_URL). */
    teams: z.array(z.string()).default([]),
    /** Names of signed webhooks from `webhook.endpoints` (`default` is WEBHOOK_URL + WEBHOOK_SECRET). */
    webhook: z.array(z.string()).default([]),
    /** Slack app mode (SLACK_BOT_TOKEN): the channel and how replies and mentions go. */
    slackApp: routeSlackApp.optional(),
    thresholds: qualityThresholds.default({}),
    /** Time zone of `mute` windows. */
    timezone: timezone.default('UTC'),
    mute: z.array(muteWindow).default([]),
    /** Failures are delivered even inside a mute window or silence. */
    failuresBreakThrough: z.boolean().default(false),
    /** Keep matching further routes after this one. */
    continue: z.boolean().default(true),
  })
  .strict();

export const configSchema = z
  .object({
    gem: z
      .object({
        /** Base URL of the Orbis platform API. */
        baseUrl: httpUrl.default('https://api.tomtom.com/maps/orbis/platform'),
        /** TomTom API key, sent as `tomtom-api-key`. Required. */
        apiKey: z.string().min(1, 'is required (your TomTom API key)'),
        /** Job types to watch; one list call each per poll. */
        jobTypes: z.array(z.string().regex(/^[A-Z_]+$/, 'must be upper-case words such as ROAD_MATCHING')).min(1),
        /** Path of the list endpoint, below baseUrl. */
        listPath: z.string().startsWith('/').default('/gem/jobs'),
        /** Path template of the detail endpoint; `{jobRunId}` is replaced by the URL-encoded id. */
        detailPath: z.string().startsWith('/').includes('{jobRunId}', { message: 'must contain {jobRunId}' }),
        /** Value of the X-Version header on the detail call. */
        apiVersion: z.string().default('1'),
        /** Timeout of every API request, in milliseconds. */
        timeoutMs: durationMs.min(100).default(15_000),
        auth: z
          .object({
            /**
             * Where bearer tokens come from: `auto` picks `command` when a command is set, else
             * `static` when a token is set, else `none`.
             */
            provider: z.enum(['auto', 'none', 'static', 'command', 'azure']).default('auto'),
            /** A fixed bearer token. */
            bearerToken: z.string().default(''),
            /** A shell command that prints a token (plain or `az` JSON). */
            command: z.string().default(''),
            /** How long the command may run, in milliseconds. */
            commandTimeoutMs: durationMs.min(100).default(30_000),
            /** A token is refreshed this many milliseconds before it expires. */
            refreshMarginMs: durationMs.default(300_000),
            /** Tokens without a known expiry are refreshed after this many milliseconds. */
            defaultTtlMs: durationMs.min(1_000).default(3_000_000),
            /** Scope requested from Azure identity. */
            azureScope: z.string().default('https://gem.core.orbis.tomtom.com/user_impersonation'),
            /** `default` = DefaultAzureCredential (also managed identity), `cli` = AzureCliCredential. */
            azureCredential: z.enum(['default', 'cli']).default('default'),
          })
          .strict()
          .prefault({}),
      })
      .strict(),
    poll: z
      .object({
        /** node-cron expression of the poll; 6 fields allow seconds. */
        cron: cronExpression,
        /** Detail fetches run at once per worker process. */
        detailConcurrency: z.number().int().min(1).max(256).default(8),
        /**
         * At most `max` (default 20) detail calls per `durationMs` milliseconds (default 1,000)
         * across all replicas (BullMQ limiter). A poll that asks for more than this allows before
         * the next poll is named as a detail backlog (log, /readyz, status page).
         */
        rateLimit: z
          .object({ max: z.number().int().min(1).default(20), durationMs: durationMs.min(1).default(1_000) })
          .strict()
          .prefault({}),
        /**
         * An active job whose list status has not changed is read (detail call) again only this
         * many seconds after its last read, or sooner when its expected end or a stuck/overdue
         * threshold comes; a list status change, a new job and an active job the list no longer
         * shows are read at once. Where the list lags the details, an end is found at the next due
         * read at the latest. 0 = every poll reads every active job. Default 300.
         */
        progressEverySeconds: z.number().int().min(0).max(86_400).default(300),
        /** (time, progress) samples kept per running job for the ETA. */
        progressSamples: z.number().int().min(2).max(50).default(6),
        /** How long finished poll tasks are kept so a late replica cannot add the same slot again, in seconds. */
        keepPollTasksSec: z.number().int().min(60).default(86_400),
        /** Outbox entries older than this are re-dispatched by the sweeper, in milliseconds. */
        outboxGraceMs: durationMs.default(30_000),
      })
      .strict(),
    redis: z
      .object({
        /**
         * Redis connection URL: redis:// (rediss:// for TLS) for one server,
         * redis+cluster://host:port,host:port for a Redis Cluster, or
         * redis+sentinel://host:port,host:port/<master-name> for a Sentinel-managed primary.
         */
        url: redisUrl,
        /**
         * Prefix of every key. On a cluster it must hold a hash tag (`{name}`) so every key, BullMQ's
         * too, sits in one slot; left unset there it is `{gemwatch}` (see loadConfig).
         */
        prefix: z.string().regex(/^[A-Za-z0-9_{}.-]+$/, 'must be letters, digits, _ . - or braces'),
        /** Password of the Sentinels (redis+sentinel:// only); the URL's password is the data nodes'. Default none. */
        sentinelPassword: z.string().default(''),
      })
      .strict(),
    retention: z
      .object({
        /** Days the transition stream keeps entries (the digest reads it). */
        transitionsDays: z.number().min(1).default(30),
        /**
         * Days a vanished job (404, gone from the list) is remembered, counted from the later of
         * its leaving the list and its last status change. Must be at least `deliveriesDays` + 1
         * (see crossChecks in load.ts). Default 31.
         */
        vanishedDays: z.number().min(1).default(31),
        /** Days delivery markers and the notification log are kept. Default 30. */
        deliveriesDays: z.number().min(1).default(30),
        /** Entries kept in the notification log. */
        notificationLogMax: z.number().int().min(100).default(10_000),
      })
      .strict()
      .prefault({}),
    notify: z
      .object({
        /** Canonical statuses whose arrival is announced. */
        on: z.array(canonicalStatus).min(1),
        /** Delivery attempts per (transition, destination) before it is given up. */
        attempts: z.number().int().min(1).default(30),
        /** First retry delay, in milliseconds; doubles each attempt, with jitter. */
        backoffMs: durationMs.min(10).default(1_000),
        /** Longest retry delay, in milliseconds. */
        maxBackoffMs: durationMs.min(10).default(300_000),
        /** Messages per second per Slack webhook. */
        slackPerSecond: z.number().min(0.1).default(1),
        /** Deliveries run at once per worker process. */
        concurrency: z.number().int().min(1).default(4),
      })
      .strict(),
    slack: z
      .object({
        /** The default route's webhook. Empty = Slack off. */
        webhookUrl: optionalHttpUrl,
        /** More webhooks by name, for routes. */
        webhooks: z.record(z.string().regex(/^[A-Za-z0-9_.-]+$/), httpUrl).default({}),
        /** Timeout of a Slack post, in milliseconds. */
        timeoutMs: durationMs.min(100).default(10_000),
      })
      .strict(),
    slackApp: z
      .object({
        /** Bot token (xoxb-…) of a Slack app with chat:write. Empty = Slack app mode off. */
        botToken: z.string().default(''),
        /** The default route's channel: an id (C0123ABCD) or a name (#gem-alerts). */
        channel: z.union([z.literal(''), slackChannel]).default(''),
        /** Base URL of Slack's Web API, for proxies and tests; ends with a slash. */
        apiUrl: httpUrl.default('https://slack.com/api/'),
        /** Timeout of one Web API call, in milliseconds. */
        timeoutMs: durationMs.min(100).default(10_000),
        /** The default route's ends whose thread reply is broadcast to the channel. Default [failed]. */
        replyBroadcast: z.array(z.enum(['finished', 'failed', 'cancelled'])).default(['failed']),
        /** User groups or users the default route mentions in a failure's thread reply. */
        mentions: z.array(slackMention).default([]),
        /** The default route posts jobs when first seen queued or running and keeps their progress current. */
        liveProgress: z.boolean().default(false),
        /** With liveProgress: at most one progress update per job this often, in minutes. Default 5. */
        progressEveryMinutes: z.number().min(1).default(5),
        /**
         * Progress updates (chat.update) per minute for the whole workspace, across replicas; kept
         * under Slack's tier 3 (about 50 a minute). Ends and alerts never wait for it. Default 30.
         */
        progressUpdatesPerMinute: z.number().int().min(1).max(50).default(30),
      })
      .strict()
      .prefault({}),
    email: z
      .object({
        /** smtp[s]://user:pass@host:port. Empty = email off. */
        smtpUrl: smtpUrl,
        /** Sender address: `name@host` or `Display Name <name@host>`. */
        from: sender,
        /** The default route's recipients. */
        to: z.array(emailAddress),
        /** Send one email per announced transition (the digest is separate). */
        onTransition: z.boolean(),
        /** SMTP connection timeout, in milliseconds (nodemailer's default is 2 minutes). */
        connectionTimeoutMs: durationMs.min(100).default(10_000),
        /** SMTP socket inactivity timeout, in milliseconds (nodemailer's default is 10 minutes). */
        socketTimeoutMs: durationMs.min(100).default(30_000),
      })
      .strict(),
    teams: z
      .object({
        /**
         * The default route's Teams Workflows webhook ("Post to a channel when a webhook request is
         * received"); a secret (its query holds the signature). Empty = Teams off for the default route.
         */
        webhookUrl: optionalHttpUrl.default(''),
        /** More Workflows webhooks by name, for routes. */
        webhooks: z.record(z.string().regex(/^[A-Za-z0-9_.-]+$/), httpUrl).default({}),
        /** Timeout of a Teams post, in milliseconds. Default 10,000. */
        timeoutMs: durationMs.min(100).default(10_000),
      })
      .strict()
      .prefault({}),
    webhook: z
      .object({
        /** The default route's signed webhook receiver. Empty = the signed webhook off for the default route. */
        url: optionalHttpUrl.default(''),
        /** Its Standard Webhooks secret, `whsec_` and base64; required with `url`. */
        secret: z.string().default(''),
        /** More receivers by name, for routes, each with its own URL and secret. */
        endpoints: z
          .record(z.string().regex(/^[A-Za-z0-9_.-]+$/), z.object({ url: httpUrl, secret: z.string() }).strict())
          .default({}),
        /** Timeout of one webhook POST, in milliseconds. Default 10,000. */
        timeoutMs: durationMs.min(100).default(10_000),
      })
      .strict()
      .prefault({}),
    routes: z.array(route).default([]),
    digest: z
      .object({
        /** When the summary is mailed (node-cron), in `timezone`. */
        cron: cronExpression,
        /** IANA time zone of the digest schedule and its dates. */
        timezone,
        /** Send a "nothing happened" digest for an empty period. */
        sendEmpty: z.boolean().default(false),
        /** Recipients; empty = email.to. */
        to: z.array(emailAddress).default([]),
        /** Also post the summary to this Slack webhook name; empty = no. */
        slackWebhook: z.string().default(''),
        /**
         * Also post the summary card to this Teams webhook name; empty or unset = no. (Optional so
         * configurations built by hand without it stay valid.)
         */
        teamsWebhook: z.string().optional(),
        /** Also send a `digest` event to this signed webhook name; empty or unset = no. */
        webhook: z.string().optional(),
      })
      .strict(),
    alerts: z
      .object({
        /** A job queued longer than this is announced as stuck, in minutes. */
        queuedMaxMinutes: z.number().min(1).default(120),
        /** A running job is overdue when it exceeds its expected duration times this factor. */
        overdueFactor: z.number().min(1).default(1.5),
        /** GEM's matching speed, road segments per hour, for jobs without progress. */
        roadsPerHour: z.number().min(1).default(100_000),
        /** A running job whose progress has not moved for this long is overdue, in minutes. */
        stalledMinutes: z.number().min(1).default(60),
        /** Transitions for one route within this window are grouped, in seconds; 0 = never. */
        burstWindowSec: z.number().min(0).default(30),
        /** Polling failing this long raises one alert to the default route, in minutes. */
        pollFailureMinutes: z.number().min(1).default(15),
        /**
         * A grouped message waits at most this long after its first member arrived, even while the
         * burst goes on (what follows starts the next group), in seconds. Default 120.
         */
        burstMaxSec: z.number().min(1).optional(),
        /**
         * What named routes set for themselves, for the default route (SLACK_WEBHOOK_URL, EMAIL_TO):
         * quality thresholds, quiet hours and whether failures break through them. Unset = none.
         * (Optional, like `burstMaxSec`, so configurations built by hand without them stay valid.)
         */
        defaultRoute: z
          .object({
            thresholds: qualityThresholds.default({}),
            /** Time zone of `mute`; default `digest.timezone`. */
            timezone: timezone.optional(),
            mute: z.array(muteWindow).default([]),
            /** Failures (and stuck or overdue jobs) are delivered even inside a mute window or silence. */
            failuresBreakThrough: z.boolean().default(false),
          })
          .strict()
          .optional(),
      })
      .strict()
      .prefault({}),
    http: z
      .object({
        /** Address of the health, metrics and status server. */
        host: z.string().min(1),
        /** Port; 0 = any free port. */
        port: z.number().int().min(0).max(65_535),
        /**
         * Bearer token required on every page but /healthz; required when bound beyond loopback.
         * Empty = none (then only loopback Host headers are served). At least 16 characters.
         */
        authToken: z
          .string()
          .refine((value) => value === '' || value.length >= MIN_HTTP_TOKEN_LENGTH, {
            message: `must be at least ${MIN_HTTP_TOKEN_LENGTH} characters (a long random string, e.g. from openssl rand -hex 24)`,
          })
          .default(''),
        /**
         * How long a client may take to send a request's line and headers, in milliseconds; a
         * slower one is answered 408 and closed (a client trickling headers held its connection,
         * and a descriptor, for minutes). Default 10,000.
         */
        headersTimeoutMs: durationMs.min(100).default(10_000),
        /** How long a client may take to send a whole request, body included, in milliseconds; at least headersTimeoutMs. Default 10,000. */
        requestTimeoutMs: durationMs.min(100).default(10_000),
        /**
         * Connections the server holds at once, so that hostile clients cannot use up the
         * process's file descriptors (Redis, SMTP and GEM need them too). Beyond it the oldest
         * connection with no request in progress is closed. Default 64.
         */
        maxConnections: z.number().int().min(2).default(64),
        /** Largest request line and headers, in bytes; larger ones are answered 431. Default 16,384. */
        maxHeaderBytes: z.number().int().min(1_024).max(1_048_576).default(16_384),
        /**
         * Largest request body, in bytes; a larger Content-Length is answered 413, a body without
         * a length 411. Nothing gem-watch serves reads a body. Default 16,384.
         */
        maxBodyBytes: z.number().int().nonnegative().default(16_384),
        /**
         * Port of the ops listener, which serves only /healthz, /readyz and /metrics and never asks
         * for the token (kubelet probes cannot read a Secret; a plain Prometheus scrape sends no
         * header). `null` (the default) = no ops listener; 0 = any free port.
         */
        opsPort: z.number().int().min(0).max(65_535).nullable().default(null),
        /** Address of the ops listener. Default 0.0.0.0: probes and scrapes come from outside the pod. */
        opsHost: z.string().min(1).default('0.0.0.0'),
      })
      .strict(),
    log: z
      .object({
        level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']),
        /** `auto` = pretty on a TTY, JSON otherwise. */
        pretty: z.enum(['auto', 'true', 'false']).default('auto'),
      })
      .strict(),
  })
  .strict();

export type Config = z.infer<typeof configSchema>;
export type RouteConfig = z.infer<typeof route>;
export type MuteWindow = z.infer<typeof muteWindow>;
