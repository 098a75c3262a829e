import type { DaemonLine } from './daemon-process.js';

/** A secret the daemon holds, by name, and the forms it may take in text. */
export interface NamedSecret {
  name: string;
  value: string;
}

export interface SecretScan {
  /** Lines scanned (stdout and stderr, every replica, every life). */
  lines: number;
  /** One entry per line that holds a secret: which secret, where; never the secret itself. */
  leaks: string[];
}

/** The forms a secret takes in a log: as is, URL-encoded, and JSON-escaped. */
function formsOf(value: string): string[] {
  const forms = new Set([value, encodeURIComponent(value), JSON.stringify(value).slice(1, -1)]);
  return [...forms].filter((form) => form.length >= 6);
}

/** The names of the secrets `text` holds, in any of their forms (the text itself is not quoted). */
export function secretsIn(text: string, secrets: readonly NamedSecret[]): string[] {
  return secrets.filter((secret) => formsOf(secret.value).some((form) => text.includes(form))).map((secret) => secret.name);
}

/**
 * Scans every line the daemon printed for every secret it was given: the API key, the bearer
 * token, the webhook URL (and its secret path part), the SMTP password, the Teams Workflows URL
 * and its sig, the webhook signing secret and the Slack bot token. A leak is reported by
 * secret name and line position, so the report itself leaks nothing.
 */
export function scanForSecrets(lines: readonly DaemonLine[], secrets: readonly NamedSecret[]): SecretScan {
  const leaks: string[] = [];
  const patterns = secrets.map((secret) => ({ name: secret.name, forms: formsOf(secret.value) }));
  lines.forEach((line, index) => {
    for (const { name, forms } of patterns) {
      if (forms.some((form) => line.raw.includes(form))) {
        // The line is not quoted: it holds the secret.
        leaks.push(`${name} in line ${index} (${line.replica}#${line.life} ${line.stream})`);
      }
    }
  });
  return { lines: lines.length, leaks };
}
