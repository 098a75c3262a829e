import { DEFAULT_WEBHOOK } from '../../../domain/routing.js';

/** One receiver of signed events. */
export interface SignedEndpoint {
  url: string;
  /** Standard Webhooks secret, `whsec_` and base64 (checked when the configuration loads). */
  secret: string;
}

/** What the signed webhook channel reads of the configuration, and nothing else. */
export interface WebhookSettings {
  /** Receivers by name; `default` is WEBHOOK_URL with WEBHOOK_SECRET. A Map: names come from task data. */
  endpoints: ReadonlyMap<string, SignedEndpoint>;
  /** Total deadline of one POST, in ms (`webhook.timeoutMs`, default 10,000). */
  timeoutMs: number;
}

/** What the signed webhook's settings are read from; nested as the configuration's keys, so it is one. */
export interface WebhookConfig {
  webhook: {
    /** WEBHOOK_URL, the `default` receiver; '' = none. */
    url: string;
    /** WEBHOOK_SECRET, the `default` receiver's secret. */
    secret: string;
    /** More receivers by name, for routes, each with its own secret. */
    endpoints: Readonly<Record<string, SignedEndpoint>>;
    /** Deadline of one POST, in ms. */
    timeoutMs: number;
  };
}

/** The channel's settings; undefined when no receiver is configured (the signed webhook off). */
export function webhookSettings(config: WebhookConfig): WebhookSettings | undefined {
  const { webhook } = config;
  if (!webhook.url && Object.keys(webhook.endpoints).length === 0) return undefined;
  const endpoints = new Map<string, SignedEndpoint>();
  // `default` first: test-notify and check walk the endpoints in this order.
  if (webhook.url) endpoints.set(DEFAULT_WEBHOOK, { url: webhook.url, secret: webhook.secret });
  for (const [name, endpoint] of Object.entries(webhook.endpoints)) if (!endpoints.has(name)) endpoints.set(name, { url: endpoint.url, secret: endpoint.secret });
  return { endpoints, timeoutMs: webhook.timeoutMs };
}
