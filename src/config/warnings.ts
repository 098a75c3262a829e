import type { Config } from './schema.js';

/**
 * Settings that are valid but almost certainly not what was meant, each as one sentence naming the
 * variable or key to change. `gem-watch check` prints them and the daemon logs them at start;
 * neither refuses to run, since each can be deliberate for a while (a deployment being set up).
 */
export function configWarnings(config: Config): string[] {
  const warnings: string[] = [];
  if (config.email.smtpUrl) {
    const recipients = config.email.to.length + config.digest.to.length + config.routes.reduce((sum, route) => sum + route.email.length, 0);
    if (recipients === 0) {
      warnings.push(
        'email.smtpUrl (SMTP_URL) is set but no recipient is configured anywhere (email.to / EMAIL_TO, routes[].email, digest.to): no email will be sent',
      );
    }
  }
  return warnings;
}
