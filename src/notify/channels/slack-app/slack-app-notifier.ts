import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Agent } from 'undici';
import { fetchJsonPost, undiciJsonPost } from '../../../http-client/json-post.js';
import { SLACK_APP_CHANNEL } from '../../../domain/routing.js';
import { SlackAppStore, type SlackAppRef } from '../../../state/slack-app-store.js';
import type { Logger } from '../../../telemetry/logger.js';
import { registerSecret } from '../../../telemetry/redact.js';
import { DeliveryError, UnknownDestinationError } from '../../errors.js';
import type { ChannelContext, ChannelFactory, Delivery, DeliveryReceipt, NotificationContent, Notifier, RenderOptions } from '../../notifier.js';
import type { SlackMessage } from '../slack/slack-message.js';
import type { SlackAppMessage, SlackAppReply } from './app-message.js';
import { classifyWebApiAnswer, classifyWebApiError } from './classify.js';
import { renderSlackApp } from './render.js';
import { slackAppSettings, type SlackAppRouteSettings, type SlackAppConfig, type SlackAppSettings } from './settings.js';
import { WEB_API_ANSWER_BYTES, webApiCall, type WebApiAnswer, type WebApiCall } from './web-api-client.js';

export interface SlackAppNotifierOptions {
  settings: SlackAppSettings;
  logger: Logger;
  /** fetch to call the Web API with; tests pass one that records. Default: undici's request() on a keep-alive pool of this notifier's. */
  fetch?: typeof globalThis.fetch;
}

/** What auth.test answered: who the bot is (for `check`). */
export interface SlackAppIdentity {
  team: string;
  user: string;
  url: string;
}

/**
 * Slack app mode: a bot token, one top-level message per job and channel, kept current.
 *
 *   first event of a job ......... chat.postMessage, then its channel id + ts stored (state/slack-app-store.ts)
 *   every later event ............ chat.update of that message (message_not_found: a fresh post, stored)
 *   an end, a stuck/overdue alert  a reply in the message's thread (reply_broadcast per route), once
 *   not about one job ............ a top-level message of its own (operator alerts, groups, the digest)
 *
 * A per-job lock in Redis orders the deliveries of one job across workers and replicas: the first
 * event's delivery posts and stores the ts before a later one reads it. A later event's delivery
 * that finds the lock taken waits up to one call's timeout, then fails retryably (the queue retries
 * it). A card older than the one shown (a retry that comes late) does not replace it. The one
 * window for a second top-level message is a crash between Slack's answer to the post and the ts
 * being stored (docs/architecture.md, "Slack app mode").
 */
export class SlackAppNotifier implements Notifier<SlackAppMessage> {
  readonly name = SLACK_APP_CHANNEL;
  /** chat.postMessage allows about one message a second per channel. */
  readonly perTargetPerSecond = 1;
  private readonly settings: SlackAppSettings;
  private readonly logger: Logger;
  private readonly call: WebApiCall;
  private readonly dispatcher: Agent | undefined;
  private readonly stores = new WeakMap<object, SlackAppStore>();

  constructor(options: SlackAppNotifierOptions) {
    this.settings = options.settings;
    this.logger = options.logger.child({ channel: SLACK_APP_CHANNEL });
    if (options.fetch) {
      this.call = webApiCall(this.settings.apiUrl, fetchJsonPost(options.fetch, WEB_API_ANSWER_BYTES));
    } else {
      this.dispatcher = new Agent({ headersTimeout: 0, bodyTimeout: 0 });
      this.call = webApiCall(this.settings.apiUrl, undiciJsonPost(this.dispatcher, WEB_API_ANSWER_BYTES));
    }
    registerSecret(this.settings.botToken);
  }

  endpoints(): Array<{ route: string; target: string }> {
    return [...this.settings.routes].map(([route, settings]) => ({ route, target: settings.channel }));
  }

  render(content: NotificationContent, options: RenderOptions): SlackAppMessage {
    return renderSlackApp(content, options);
  }

  /** auth.test: whether the token works and whose it is. Throws DeliveryError. */
  async authTest(signal?: AbortSignal): Promise<SlackAppIdentity> {
    const body = await this.api('auth.test', {}, 'the bot token', signal);
    const text = (value: unknown) => (typeof value === 'string' ? value.slice(0, 200) : '?');
    return { team: text(body.team), user: text(body.user), url: text(body.url) };
  }

  async send(message: SlackAppMessage, delivery: Delivery): Promise<DeliveryReceipt> {
    const route = this.routeFor(delivery);
    const target = delivery.target;
    const where = `channel "${target}"`;
    const receipt = (detail: string): DeliveryReceipt => ({ channel: this.name, target, detail });

    if (!message.job) {
      const posted = await this.post(target, message.main, where, delivery.signal);
      return receipt(`posted ${posted.ts}`);
    }
    const store = this.storeFor(delivery);
    if (!store) {
      // test-notify and check: no Redis, so nothing to update; the card and its reply are posted.
      const posted = await this.post(target, message.main, where, delivery.signal);
      if (message.reply) await this.reply(posted, message.reply, message.quiet ? QUIET : route, where, delivery.signal);
      return receipt(`posted ${posted.ts}`);
    }

    const { jobId } = message.job;
    if (message.job.progress) {
      // The lowest priority: within the workspace's budget of chat.update calls (Slack's tier is
      // about 50 a minute), so ends and alerts, which never ask, always find room.
      const allowed = await store.takeProgressSlot(target, jobId, route.progressEveryMs, this.settings.progressUpdatesPerMinute, Date.now());
      if (!allowed) return receipt('progress update skipped (budget)');
    }
    const holder = `${process.pid}-${randomUUID()}`;
    const ref = await this.lockJob(store, target, jobId, holder, where);
    try {
      const said: string[] = [];
      let current = ref;
      const shown = { version: message.job.version, at: message.job.at, gen: message.job.gen };
      if (message.job.progress && (!current || message.job.gen > current.gen)) {
        // A progress update never posts: the job's first event does.
        return receipt('progress update skipped (no message yet)');
      }
      if (!current || message.job.gen > current.gen) {
        const posted = await this.post(target, message.main, where, delivery.signal);
        // The one window for a second top-level message: a crash between Slack's answer and this write.
        await store.replace(target, jobId, { ...posted, ...shown });
        current = { ...posted, ...shown, replies: new Set() };
        said.push(`posted ${posted.ts}`);
      } else if (message.job.updatesMain && isNotOlder(shown, current)) {
        const updated = await this.update(current, message.main, where, delivery.signal);
        if (updated) {
          await store.save(target, jobId, { channel: current.channel, ts: current.ts, ...shown });
          said.push(`updated ${current.ts}`);
        } else {
          // Deleted in Slack: a fresh message takes its place, and its thread starts over.
          const posted = await this.post(target, message.main, where, delivery.signal);
          await store.replace(target, jobId, { ...posted, ...shown });
          this.logger.warn({ jobId, channel: target }, 'the job\'s Slack message was gone (message_not_found): posted a fresh one');
          current = { ...posted, ...shown, replies: new Set() };
          said.push(`reposted ${posted.ts}`);
        }
      } else {
        said.push(`kept ${current.ts} (shows v${current.version})`);
      }
      if (message.reply && !current.replies.has(message.reply.id)) {
        const replied = await this.reply(current, message.reply, message.quiet ? QUIET : route, where, delivery.signal);
        await store.saveReply(target, jobId, message.reply.id);
        said.push(`replied ${replied}`);
      }
      return receipt(said.join('; '));
    } finally {
      await store.release(target, jobId, holder).catch((error: unknown) => this.logger.warn({ err: error }, 'could not release the job\'s Slack lock; it expires by itself'));
    }
  }

  /** Closes the keep-alive connections, once the calls under way are done. */
  async close(): Promise<void> {
    await this.dispatcher?.close();
  }

  private routeFor(delivery: Delivery): SlackAppRouteSettings {
    const route = this.settings.routes.get(delivery.route);
    if (!route || route.channel !== delivery.target) {
      throw new UnknownDestinationError(`Slack channel "${delivery.target}" of route "${delivery.route}" is not configured (SLACK_CHANNEL / routes[].slackApp.channel)`, this.name);
    }
    return route;
  }

  private storeFor(delivery: Delivery): SlackAppStore | undefined {
    const state = delivery.state;
    if (!state) return undefined;
    let store = this.stores.get(state.redis);
    if (!store) {
      store = new SlackAppStore(state.redis, state.keys, this.settings.retentionMs);
      this.stores.set(state.redis, store);
    }
    return store;
  }

  /**
   * Takes the job's lock, waiting while another delivery of the same job posts or updates (at most
   * one call's timeout: the holder is making one or two calls), and reads the job's ref under it.
   */
  private async lockJob(store: SlackAppStore, target: string, jobId: string, holder: string, where: string): Promise<SlackAppRef | undefined> {
    const ttlMs = 3 * this.settings.timeoutMs + 5_000;
    const giveUpAt = Date.now() + this.settings.timeoutMs;
    for (;;) {
      const claim = await store.claim(target, jobId, holder, ttlMs);
      if (claim.locked) return claim.ref;
      if (Date.now() >= giveUpAt) {
        throw new DeliveryError(`another delivery of job ${JSON.stringify(jobId.slice(0, 80))} is posting its Slack message in ${where}; retried after it`, {
          reason: 'serverError',
          retryable: true,
          channel: this.name,
        });
      }
      await sleep(Math.min(250, Math.max(20, claim.ttlMs)));
    }
  }

  /** One Web API call, its answer classified: the body of an `ok` answer, else a DeliveryError thrown. */
  private async api(method: string, args: Record<string, unknown>, where: string, signal: AbortSignal | undefined): Promise<Record<string, unknown>> {
    let answer: WebApiAnswer;
    try {
      answer = await this.call(method, args, this.settings.botToken, this.settings.timeoutMs, signal);
    } catch (error) {
      throw classifyWebApiError(method, error, where);
    }
    const failure = classifyWebApiAnswer(method, answer, where);
    if (failure) {
      if (!failure.retryable) this.logger.error({ method, code: failure.code, status: failure.status }, failure.message);
      throw failure;
    }
    return answer.body!;
  }

  private async post(channel: string, message: SlackMessage, where: string, signal: AbortSignal | undefined): Promise<{ channel: string; ts: string }> {
    const body = await this.api('chat.postMessage', { channel, ...message }, where, signal);
    return { channel: typeof body.channel === 'string' ? body.channel : channel, ts: stringOf(body.ts, 'chat.postMessage', where) };
  }

  /** chat.update; false when the message is gone (message_not_found), so the caller posts anew. */
  private async update(ref: Pick<SlackAppRef, 'channel' | 'ts'>, message: SlackMessage, where: string, signal: AbortSignal | undefined): Promise<boolean> {
    try {
      await this.api('chat.update', { channel: ref.channel, ts: ref.ts, text: message.text, blocks: message.blocks }, where, signal);
      return true;
    } catch (error) {
      if (error instanceof DeliveryError && error.code === 'message_not_found') return false;
      throw error;
    }
  }

  private async reply(parent: Pick<SlackAppRef, 'channel' | 'ts'>, reply: SlackAppReply, route: Pick<SlackAppRouteSettings, 'replyBroadcast' | 'mentions'>, where: string, signal: AbortSignal | undefined): Promise<string> {
    const mentions = reply.end === 'failed' ? route.mentions.slice(0, 20).join(' ') : '';
    const blocks = mentions ? [{ type: 'section' as const, text: { type: 'mrkdwn' as const, text: mentions } }, ...reply.blocks] : reply.blocks;
    const body = await this.api(
      'chat.postMessage',
      {
        channel: parent.channel,
        thread_ts: parent.ts,
        reply_broadcast: reply.end !== undefined && route.replyBroadcast.has(reply.end),
        text: mentions ? `${mentions} ${reply.text}` : reply.text,
        blocks,
        unfurl_links: false,
        unfurl_media: false,
      },
      where,
      signal,
    );
    return stringOf(body.ts, 'chat.postMessage', where);
  }
}

/** How a reply goes while its route is muted: no broadcast, no mentions. */
const QUIET: Pick<SlackAppRouteSettings, 'replyBroadcast' | 'mentions'> = { replyBroadcast: new Set(), mentions: [] };

/** Whether `shown` is at least as new as what the message shows. */
function isNotOlder(shown: { version: number; at: number }, current: { version: number; at: number }): boolean {
  return shown.version > current.version || (shown.version === current.version && shown.at >= current.at);
}

function stringOf(value: unknown, method: string, where: string): string {
  if (typeof value === 'string' && /^[0-9.]{1,40}$/.test(value)) return value;
  throw new DeliveryError(`Slack ${method} for ${where} answered ok without a message ts`, { reason: 'badResponse', retryable: true, channel: SLACK_APP_CHANNEL });
}

/** Registry entry: Slack app mode is on when SLACK_BOT_TOKEN is set. */
export const slackAppChannel: ChannelFactory<SlackAppSettings, SlackAppConfig> = {
  name: SLACK_APP_CHANNEL,
  settings: slackAppSettings,
  create(settings: SlackAppSettings, context: ChannelContext): Notifier<SlackAppMessage> {
    return new SlackAppNotifier({ settings, logger: context.logger, fetch: context.fetch });
  },
};
