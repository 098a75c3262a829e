/**
 * The one JSON convention of every `--json` a command prints: ISO 8601 times in UTC
 * (`2026-01-20T08:00:00.000Z`), numbers as JSON numbers (a percentage is 0–100, a duration is in
 * the unit its key names), `null` for what is unknown or absent (the key is always there), and
 * text as the API or the configuration gave it, whole. Scripts then read every command alike.
 */

/** An epoch-millisecond time as ISO 8601 UTC, or null when unknown (undefined, NaN, out of range). */
export function isoTime(epochMs: number | undefined | null): string | null {
  if (epochMs === undefined || epochMs === null || !Number.isFinite(epochMs)) return null;
  const date = new Date(epochMs);
  return Number.isNaN(date.getTime()) ? null : date.toISOString();
}

/** A value that may be absent, as JSON wants it: null instead of a missing key. */
export function orNull<T>(value: T | undefined | null): T | null {
  return value === undefined ? null : value;
}

/**
 * Writes a value as indented JSON and a newline. JSON.stringify leaves C1 control characters and
 * the line separators raw, and a job id from the API may carry them (U+009B starts a terminal
 * escape on some terminals): they are written as \u escapes, which is still the same JSON.
 */
export function writeJson(out: NodeJS.WritableStream, value: unknown): void {
  const text = JSON.stringify(value, null, 2).replace(/[\u007f-\u009f\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  out.write(`${text}\n`);
}
