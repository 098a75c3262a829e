const REPLACEMENT = '[redacted]';

/** Base64 of 30+ random bytes nearly always mixes upper case, lower case and digits; words and paths do not. */
function looksRandom(run: string): boolean {
  return /[A-Z]/.test(run) && /[a-z]/.test(run) && /\d/.test(run);
}

/**
 * Replaces anything in a text that looks like a token: a JWT, or a long run of base64/base64url
 * characters mixing cases and digits. Used on error texts from third-party code (Azure identity
 * quotes the CLI's stderr, JSON parse errors quote their input), where the token is not known and
 * so cannot be registered with the redactor.
 */
export function maskOpaque(text: string): string {
  return text
    .replace(/eyJ[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]{2,}(?:\.[A-Za-z0-9_-]*)?/g, REPLACEMENT)
    .replace(/[A-Za-z0-9_\-+/=.~]{32,}/g, (run) => (looksRandom(run) ? REPLACEMENT : run));
}
