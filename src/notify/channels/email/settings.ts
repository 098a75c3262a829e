import { DEFAULT_ROUTE, routeRecipients } from '../../../domain/routing.js';

/** What the email channel reads of the configuration, and nothing else. */
export interface EmailSettings {
  /** smtp[s]://user:pass@host:port (SMTP_URL); a secret. */
  smtpUrl: string;
  /** Sender address (`email.from`). */
  from: string;
  /**
   * Recipients by route: `default` is EMAIL_TO, the others each route's `email`. Route names come
   * from task data, so this is a Map (a name like `constructor` finds nothing).
   */
  recipients: ReadonlyMap<string, readonly string[]>;
  /** SMTP connection (and greeting, DNS) timeout, in ms (`email.connectionTimeoutMs`). */
  connectionTimeoutMs: number;
  /** SMTP socket inactivity timeout, in ms (`email.socketTimeoutMs`). */
  socketTimeoutMs: number;
  /** Pooled SMTP connections: `notify.concurrency`, kept between 1 and 5. */
  maxConnections: number;
}

/** What the email channel's settings are read from; nested as the configuration's keys, so it is one. */
export interface EmailConfig {
  email: {
    /** SMTP_URL; '' = email off. */
    smtpUrl: string;
    /** Sender address. */
    from: string;
    /** EMAIL_TO, the default route's recipients. */
    to: readonly string[];
    /** SMTP connection timeout, in ms. */
    connectionTimeoutMs: number;
    /** SMTP socket inactivity timeout, in ms. */
    socketTimeoutMs: number;
  };
  /** Each route's recipients. */
  routes: readonly { name: string; email: readonly string[] }[];
  /** Deliveries run at once per worker process: the SMTP pool's size follows it. */
  notify: { concurrency: number };
}

/** The email channel's settings from the configuration; undefined when SMTP_URL is not set (email off). */
export function emailSettings(config: EmailConfig): EmailSettings | undefined {
  const { email } = config;
  if (!email.smtpUrl) return undefined;
  const recipients = new Map<string, readonly string[]>();
  for (const route of [DEFAULT_ROUTE, ...config.routes.map((candidate) => candidate.name)]) {
    if (!recipients.has(route)) recipients.set(route, routeRecipients(route, config) ?? []);
  }
  return {
    smtpUrl: email.smtpUrl,
    from: email.from,
    recipients,
    connectionTimeoutMs: email.connectionTimeoutMs,
    socketTimeoutMs: email.socketTimeoutMs,
    maxConnections: Math.max(1, Math.min(5, config.notify.concurrency)),
  };
}
