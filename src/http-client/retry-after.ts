/**
 * The longest Retry-After gem-watch honours, in milliseconds. Slack and GEM ask for seconds; a
 * proxy or a broken server that asks for a day would otherwise pause a webhook's messages, or
 * every detail fetch on every replica, for that day, with the polls still succeeding.
 */
export const RETRY_AFTER_CAP_MS = 15 * 60_000;

/**
 * Reads an HTTP Retry-After header, delta-seconds or an HTTP date, in milliseconds capped at
 * `RETRY_AFTER_CAP_MS`; undefined when absent or unreadable. `now` is injected so dates are
 * testable.
 */
export function parseRetryAfter(value: string | null | undefined, now: number = Date.now()): number | undefined {
  if (value === null || value === undefined) return undefined;
  const text = value.trim();
  let ms: number;
  if (/^\d+(\.\d+)?$/.test(text)) ms = Math.ceil(Number(text) * 1000);
  else {
    const at = Date.parse(text);
    if (Number.isNaN(at)) return undefined;
    ms = Math.max(0, at - now);
  }
  return Math.min(ms, RETRY_AFTER_CAP_MS);
}
