import nodemailer from 'nodemailer';
import type { EmailSettings } from './settings.js';

/** The pooled transport `createPool` makes. */
export type PooledTransport = ReturnType<typeof createPool>;

/**
 * One pooled nodemailer transport for the whole process, from SMTP_URL: smtps:// speaks TLS from
 * the start, smtp:// upgrades with STARTTLS whenever the server offers it (nodemailer's default).
 * Timeouts come from the config, far below nodemailer's minutes, so a dead server fails a delivery
 * in seconds and the queue retries it.
 */
export function createPool(email: EmailSettings) {
  return nodemailer.createTransport({
    pool: true,
    url: email.smtpUrl,
    maxConnections: email.maxConnections,
    connectionTimeout: email.connectionTimeoutMs,
    greetingTimeout: email.connectionTimeoutMs,
    dnsTimeout: email.connectionTimeoutMs,
    socketTimeout: email.socketTimeoutMs,
    // Nothing in a message may make the transport read a file or fetch a URL.
    disableFileAccess: true,
    disableUrlAccess: true,
    logger: false,
  });
}
