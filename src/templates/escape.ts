/**
 * Escaping for every place API text lands. Text from GEM is data: a file name must never ping a
 * channel, make a link, inject HTML or add a mail header.
 */

/** Control characters other than tab and newline, and the Unicode line/paragraph separators. */
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029]/g;

/**
 * Slack mrkdwn: Slack's own rule is to escape &, < and >; that alone stops <!channel>, <@U…> and
 * <url|label> links. Control characters go too.
 */
export function escapeSlack(text: string): string {
  return text.replace(CONTROL, '').replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** HTML text and attribute values. */
export function escapeHtml(text: string): string {
  return text
    .replace(CONTROL, '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

/** A mail header value: one line, no control characters at all. */
export function sanitizeHeader(text: string, maxLength = 200): string {
  // eslint-disable-next-line no-control-regex
  const line = text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]+/g, ' ').replace(/\s+/g, ' ').trim();
  return truncate(line, maxLength);
}

/** Plain text for the text/plain part and the console: control characters removed, newlines kept. */
export function sanitizeText(text: string): string {
  return text.replace(CONTROL, '');
}

/** Cuts text to at most `max` characters (code points), ending with an ellipsis when cut. */
export function truncate(text: string, max: number): string {
  const chars = [...text];
  if (chars.length <= max) return text;
  return `${chars.slice(0, Math.max(0, max - 1)).join('')}…`;
}

/**
 * Slack mrkdwn escaping that fits a budget: the *escaped* result is at most `max` UTF-16 code units
 * (the strictest way to count Slack's "characters"), ending with an ellipsis when cut. Cutting
 * happens between source characters, so an entity such as `&amp;` or a surrogate pair is never
 * split in half.
 */
export function escapeSlackWithin(text: string, max: number): string {
  const escaped = escapeSlack(text);
  if (escaped.length <= max) return escaped;
  let out = '';
  for (const char of text.replace(CONTROL, '')) {
    const piece = escapeSlack(char);
    if (out.length + piece.length > max - 1) break;
    out += piece;
  }
  return `${out}…`;
}
