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

/**
 * Adaptive Card markdown (TextBlock text and FactSet titles and values, which Teams and the
 * adaptivecards renderer pass through a CommonMark parser): every character that can start markup
 * is backslash-escaped, as CommonMark allows for any ASCII punctuation, and no more, so the text
 * stays readable where a client shows escapes literally (older Teams mobile apps did):
 * - anywhere: `\` `*` `_` `` ` `` `~` `[` `]` `<` `>` `&` `#` `|`, which make emphasis, code,
 *   strikethrough, links and images, autolinks and HTML (`<at>` mentions included), entities,
 *   headings and tables;
 * - at the start of a line: `-` `+` and a number's `.` or `)` (lists, rules), and leading blanks
 *   are dropped (four make a code block);
 * - `:` before `//` and `.` before a letter (of any script), which split URLs and host names (`https\://evil\.com`)
 *   so that a linkifier finds no link.
 * Control characters go too; newlines become spaces unless `keepNewlines` (a line break then needs
 * a blank line in markdown, so each is doubled).
 */
export function escapeTeams(text: string, keepNewlines = false): string {
  const clean = text.replace(CONTROL, '').replace(/\r\n?/g, '\n');
  const lines = keepNewlines ? clean.split(/\n+/) : [clean.replace(/[\n\t]+/g, ' ')];
  return lines
    .map((line) =>
      line
        .replace(/^[ \t]+/, '')
        .replace(/[\\*_`~[\]<>&#|]/g, (char) => `\\${char}`)
        .replace(/:(?=\/\/)/g, '\\:')
        .replace(/\.(?=\p{L})/gu, '\\.')
        .replace(/^([-+])/, '\\$1')
        .replace(/^(\d+)([.)])/, '$1\\$2'),
    )
    .join('\n\n');
}

/**
 * `escapeTeams` within a budget of `max` source characters (code points), ending with an ellipsis
 * when cut: the cut comes before escaping, so an escape is never split from its character.
 */
export function escapeTeamsWithin(text: string, max: number, keepNewlines = false): string {
  return escapeTeams(truncate(text, max), keepNewlines);
}
