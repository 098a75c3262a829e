import type { OperatorAlert } from '../domain/operator-alert.js';
import type { GroupSummary } from '../domain/batch.js';
import type { DigestModel } from '../domain/digest.js';
import type { JobAlert } from '../domain/overdue.js';
import type { QualityShortfall } from '../domain/quality.js';
import type { Transition } from '../domain/transition.js';
import type { Logger } from '../telemetry/logger.js';
import type { RedisClient } from '../state/connection.js';
import type { Keys } from '../state/keys.js';

/**
 * The channel interface. A channel is one object with a `name`, a pure `render` and a `send`: the
 * caller renders what to say with the channel's renderers, then hands the rendered message to
 * `send`, which delivers it to one endpoint and either resolves with a receipt or throws a
 * classified `DeliveryError` (see errors.ts). Channels know nothing of queues, retries or Redis:
 * the delivery's stages own those (delivery.ts).
 */

/** A group message: a burst gathered into one message, or what a route held while muted. */
export interface GroupContent {
  summary: GroupSummary;
  kind: 'burst' | 'held';
  /** Route the message goes to, shown in its title. */
  route: string;
  /** For `held`: what muted the route. */
  reasons: readonly string[];
}

/** What to say, one member per message kind; every channel renders each. */
export type NotificationContent =
  /** `live`: only a progress update of the job's message (Slack app mode's liveProgress); other channels never get one. */
  | { transition: Transition; live?: { etaAt?: number }; quiet?: boolean }
  | { alert: OperatorAlert }
  /** `quiet`: the route is muted; a channel that edits messages in place (Slack app mode) sends it without notifying anyone. */
  | { jobAlert: JobAlert; quiet?: boolean }
  | { warning: { transition: Transition; shortfalls: readonly QualityShortfall[] }; quiet?: boolean }
  | { group: GroupContent }
  | { digest: DigestModel };

/** How to render: the time zone of the times shown (the route's, see `timeZoneFor`). */
export interface RenderOptions {
  timeZone: string;
}

/** One delivery request: to which endpoint of the channel, and how. */
export interface Delivery {
  /** Route the destination belongs to (`default` for the default route). */
  route: string;
  /** Which endpoint of the channel: a webhook name for Slack, `route` for email. */
  target: string;
  /**
   * Email only: recipients to use instead of the route's. For callers with their own list from the
   * configuration (the digest's `digest.to`); never from API data.
   */
  recipients?: string[];
  /**
   * A stable id of this delivery (the notify task id). Email makes it the Message-ID, so a copy
   * sent again through the crash window is recognisably the same message.
   */
  idempotencyKey?: string;
  /** Aborts the delivery (shutdown); the channel fails it as a retryable timeout. */
  signal?: AbortSignal;
  /**
   * The delivery's Redis, for a channel that keeps state between deliveries (Slack app mode keeps
   * where each job's message is, in src/state/). Absent outside the queue (test-notify, check):
   * such a channel then posts without it.
   */
  state?: { redis: RedisClient; keys: Keys };
}

/** What a channel reports of a delivery that happened. No secrets: it is logged and stored. */
export interface DeliveryReceipt {
  channel: string;
  target: string;
  /** Anything useful for the log: an SMTP message id, Slack's answer. */
  detail?: string;
}

export interface Notifier<Message = unknown> {
  /** Channel name, as used in destinations and task ids (`slack`, `email`). */
  readonly name: string;
  /**
   * At most this many messages a second to one target, across all replicas (Slack: about one per
   * webhook). Undefined = no limit. The rate-gate stage enforces it (stages/rate-gate.ts).
   */
  readonly perTargetPerSecond?: number;
  /** The channel's message for `content`. Pure: no I/O, the same input gives the same message. */
  render(content: NotificationContent, options: RenderOptions): Message;
  /**
   * Delivers a message `render` made, once, without retrying: retries belong to the queue. Throws
   * DeliveryError.
   */
  send(message: Message, delivery: Delivery): Promise<DeliveryReceipt>;
  /**
   * Every endpoint the configuration gives this channel, as (route, target) pairs a Delivery can
   * name: each webhook for Slack, each route with recipients for email. `test-notify` walks them.
   */
  endpoints(): Array<{ route: string; target: string }>;
  /** Releases connections (the SMTP pool). */
  close(): Promise<void>;
}

/**
 * What a channel factory gets besides its own settings; a channel never sees the configuration
 * (its settings function reads the keys it needs, see `ChannelFactory.settings`).
 */
export interface ChannelContext {
  logger: Logger;
  /**
   * fetch for HTTP channels; tests may pass one that records. Default: each channel's own client
   * (Slack: undici's request() over a keep-alive pool, without fetch's WHATWG layer).
   */
  fetch?: typeof globalThis.fetch;
}

/**
 * A channel's entry in the registry: `settings` picks the channel's settings out of the keys of
 * the configuration it reads, `Source` (undefined when the channel is not configured: no webhook,
 * no SMTP URL), and `create` builds the notifier from them.
 */
export interface ChannelFactory<Settings = unknown, Source = unknown> {
  readonly name: string;
  settings(config: Source): Settings | undefined;
  create(settings: Settings, context: ChannelContext): Notifier;
}

/**
 * The time zone a route's messages show times in: the route's own `timezone` (the one its mute
 * windows use), and for the default route the digest's, which is the operators' zone.
 */
export function timeZoneFor(route: string, config: { routes: readonly { name: string; timezone: string }[]; digest: { timezone: string } }): string {
  return config.routes.find((candidate) => candidate.name === route)?.timezone ?? config.digest.timezone;
}
