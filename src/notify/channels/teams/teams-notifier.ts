import { Agent } from 'undici';
import { DEFAULT_ROUTE } from '../../../domain/routing.js';
import { fetchJsonPost, undiciJsonPost, type JsonPost } from '../../../http-client/json-post.js';
import type { Logger } from '../../../telemetry/logger.js';
import { registerSecretUrl } from '../../../telemetry/redact.js';
import { UnknownDestinationError } from '../../errors.js';
import type { ChannelContext, ChannelFactory, Delivery, DeliveryReceipt, NotificationContent, Notifier, RenderOptions } from '../../notifier.js';
import { classifyTeamsAnswer, classifyTeamsError } from './classify.js';
import { renderTeams } from './render.js';
import { teamsSettings, type TeamsConfig, type TeamsSettings } from './settings.js';
import type { TeamsMessage } from './teams-message.js';

export interface TeamsNotifierOptions {
  settings: TeamsSettings;
  logger: Logger;
  /** fetch to post with; tests pass one that records. Default: undici's request() on a keep-alive pool of this notifier's. */
  fetch?: typeof globalThis.fetch;
}

/**
 * Microsoft Teams through a Workflows webhook: one POST of the rendered card per delivery, no
 * retries of its own (the queue retries). Teams takes no idempotency key, so the crash window of
 * docs/architecture.md ("The remaining window") is the same as Slack's.
 */
export class TeamsNotifier implements Notifier<TeamsMessage> {
  readonly name = 'teams';
  /**
   * Workflows throttles a flow's trigger (a burst of posts earns 429s); one card a second per
   * webhook keeps a burst of deliveries from spending attempts on them.
   */
  readonly perTargetPerSecond = 1;
  private readonly settings: TeamsSettings;
  private readonly logger: Logger;
  private readonly post: JsonPost;
  private readonly dispatcher: Agent | undefined;

  constructor(options: TeamsNotifierOptions) {
    this.settings = options.settings;
    this.logger = options.logger.child({ channel: 'teams' });
    if (options.fetch) {
      this.post = fetchJsonPost(options.fetch);
    } else {
      this.dispatcher = new Agent({ headersTimeout: 0, bodyTimeout: 0 });
      this.post = undiciJsonPost(this.dispatcher);
    }
    for (const url of this.settings.webhooks.values()) registerSecretUrl(url, true);
  }

  endpoints(): Array<{ route: string; target: string }> {
    return [...this.settings.webhooks.keys()].map((target) => ({ route: DEFAULT_ROUTE, target }));
  }

  render(content: NotificationContent, options: RenderOptions): TeamsMessage {
    return renderTeams(content, options);
  }

  async send(message: TeamsMessage, delivery: Delivery): Promise<DeliveryReceipt> {
    const url = this.settings.webhooks.get(delivery.target);
    if (!url) throw new UnknownDestinationError(`Teams webhook "${delivery.target}" is not configured (teams.webhooks / TEAMS_WEBHOOK_URL)`, this.name);
    const body = JSON.stringify(message);
    let answer;
    try {
      answer = await this.post(url, body, {}, this.settings.timeoutMs, delivery.signal);
    } catch (error) {
      throw classifyTeamsError(error, delivery.target);
    }
    const failure = classifyTeamsAnswer(answer, delivery.target);
    if (failure) {
      if (failure.status === 400) this.logger.debug({ webhook: delivery.target, bytes: Buffer.byteLength(body) }, 'Teams refused the card');
      throw failure;
    }
    return { channel: this.name, target: delivery.target, detail: String(answer.status) };
  }

  async close(): Promise<void> {
    await this.dispatcher?.close();
  }
}

/** Registry entry: Teams is on when any Workflows webhook is configured. */
export const teamsChannel: ChannelFactory<TeamsSettings, TeamsConfig> = {
  name: 'teams',
  settings: teamsSettings,
  create(settings: TeamsSettings, context: ChannelContext): Notifier<TeamsMessage> {
    return new TeamsNotifier({ settings, logger: context.logger, fetch: context.fetch });
  },
};
