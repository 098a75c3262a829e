/**
 * Secret scrubbing. pino redacts by key only, but secrets also travel inside error messages, stacks
 * and URLs (a webhook URL in a fetch error, a password in an SMTP URL). Every secret the config holds
 * is registered here once at load time, and every log line and every formatted error passes through
 * `scrub`. It is process-wide on purpose: an error may be formatted anywhere, and a secret must not
 * escape through a place that forgot to ask for the redactor.
 */
const REPLACEMENT = '[redacted]';
const MIN_SECRET_LENGTH = 4;

const secrets = new Set<string>();
let pattern: RegExp | undefined;

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Registers a secret, and the forms it takes inside URLs and headers. Short values are ignored. */
export function registerSecret(value: string | undefined): void {
  if (!value || value.length < MIN_SECRET_LENGTH) return;
  const forms = [value, encodeURIComponent(value)];
  try {
    forms.push(decodeURIComponent(value));
  } catch {
    // Not URI-encoded: nothing more to add.
  }
  let added = false;
  for (const form of forms) {
    if (form.length >= MIN_SECRET_LENGTH && !secrets.has(form)) {
      secrets.add(form);
      added = true;
    }
  }
  if (added) {
    // Longest first, so a secret that contains another is replaced whole.
    const sorted = [...secrets].sort((a, b) => b.length - a.length).map(escapeRegExp);
    pattern = new RegExp(sorted.join('|'), 'g');
  }
}

/** Registers a URL's password and, for URLs that are secrets as a whole (webhooks), the URL too. */
export function registerSecretUrl(url: string | undefined, wholeUrlIsSecret: boolean): void {
  if (!url) return;
  if (wholeUrlIsSecret) registerSecret(url);
  if (!URL.canParse(url)) return;
  const parsed = new URL(url);
  if (parsed.password) registerSecret(decodeURIComponent(parsed.password));
  if (wholeUrlIsSecret && parsed.pathname.length > 1) registerSecret(parsed.pathname);
}

/**
 * Replaces every registered secret in a text, any `Bearer <token>` whatever the token, and any
 * JWT-shaped run: tokens fetched at run time (the az command, Azure identity) change every hour and
 * are not registered one by one.
 */
export function scrub(text: string): string {
  let out = text
    .replace(/(Bearer\s+)[A-Za-z0-9._~+/=-]{8,}/gi, `$1${REPLACEMENT}`)
    .replace(/eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*/g, REPLACEMENT);
  if (pattern) out = out.replace(pattern, REPLACEMENT);
  return out;
}

/** Deep copy of a value with every string scrubbed; errors become plain objects. */
export function scrubValue(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return scrub(value);
  if (value === null || typeof value !== 'object' || depth > 8) return value;
  if (value instanceof Error) return serializeError(value, depth);
  if (Array.isArray(value)) return value.map((item) => scrubValue(item, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) out[key] = scrubValue(item, depth + 1);
  return out;
}

/** An error as a plain, scrubbed object, with its cause chain. */
export function serializeError(error: Error, depth = 0): Record<string, unknown> {
  const out: Record<string, unknown> = {
    type: error.name,
    message: scrub(error.message),
  };
  if (error.stack) out.stack = scrub(error.stack);
  for (const key of ['reason', 'retryable', 'status', 'code'] as const) {
    const field = (error as unknown as Record<string, unknown>)[key];
    if (field !== undefined) out[key] = scrubValue(field, depth + 1);
  }
  if (error.cause !== undefined && depth < 4) {
    out.cause = error.cause instanceof Error ? serializeError(error.cause, depth + 1) : scrubValue(error.cause, depth + 1);
  }
  return out;
}

/** The message of anything thrown, scrubbed: the form to store or print. */
export function errorText(error: unknown): string {
  if (error instanceof Error) return scrub(error.message);
  return scrub(String(error));
}

/** For tests: forget every registered secret. */
export function clearSecrets(): void {
  secrets.clear();
  pattern = undefined;
}
