/**
 * What a GEM job id may be. Ids are opaque strings to gem-watch, but each one becomes a URL path
 * segment (the detail call), a Redis hash field and part of Redis keys and BullMQ task ids, so an id
 * that cannot be all of those is refused where it enters: in the list answer.
 */

/**
 * Longest job id accepted, in UTF-16 code units (JavaScript string length). GEM's ids are short
 * (`job-abc123-def456`, integers, UUIDs); an id longer than this is refused rather than cut, since
 * two long ids cut alike would share every key and task id. At this bound an encoded id is at most
 * about 2.3 KB in a key or task id (9 characters per code unit, `%e2%80%a6`).
 */
export const MAX_JOB_ID_LENGTH = 256;

// A lone surrogate (JSON can carry one as `\ud800`) has no UTF-8 form: encodeURIComponent throws on
// it, and Buffer encodes every one of them as U+FFFD, so two such ids would share their keys.
const LONE_SURROGATE = /\p{Surrogate}/u;

/**
 * Why an id cannot be used, or undefined when it can.
 *
 * Ids made only of dots are refused rather than encoded: `.` and `..` are dot segments, which URL
 * parsers remove before the request leaves (undici's WHATWG parser turns `/gem/jobs/..` into
 * `/gem/`), and so do servers and proxies that decode first, and WHATWG treats `%2E` and `%2e` as a
 * dot too, so no encoding gets such an id to GEM intact. Longer runs of dots are left out with them:
 * they are not segments any parser removes, but some servers trim trailing dots, and no real id is
 * made of dots.
 */
export function jobIdProblem(id: string): string | undefined {
  if (id.length === 0) return 'it is empty';
  if (id.length > MAX_JOB_ID_LENGTH) return `it is ${id.length} characters long, more than the ${MAX_JOB_ID_LENGTH} accepted`;
  if (/^\.+$/.test(id)) return 'it is only dots, which URLs treat as a path step (. or ..), not a name';
  if (LONE_SURROGATE.test(id)) return 'it holds a lone UTF-16 surrogate, which has no UTF-8 form';
  return undefined;
}

/** The start of an id for a log line or an error text: a hostile id must not fill either. */
export function jobIdExcerpt(id: string): string {
  return JSON.stringify(id.length > 80 ? `${id.slice(0, 80)}…` : id);
}

/**
 * One job id as a URL path segment: every character outside RFC 3986's unreserved set
 * (`A-Z a-z 0-9 - . _ ~`) percent-encoded as UTF-8, including the sub-delimiters `! * ' ( )` that
 * encodeURIComponent leaves, so no server reads any part of an id as syntax.
 *
 * @throws RangeError when `jobIdProblem` finds the id unusable.
 */
export function jobIdPathSegment(id: string): string {
  const problem = jobIdProblem(id);
  if (problem !== undefined) throw new RangeError(`job id ${jobIdExcerpt(id)} cannot be used: ${problem}`);
  return encodeURIComponent(id).replace(/[!*'()]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}
