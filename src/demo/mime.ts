/**
 * Just enough MIME reading for the demo to save a mail's HTML next to its .eml: headers (folded,
 * RFC 2047 encoded words), nested multiparts, quoted-printable and base64 bodies, UTF-8 and Latin-1.
 * Runtime code may not use mailparser (a dev dependency); the tests compare this with mailparser.
 */

export interface MimePart {
  /** Header names lower-cased; the value unfolded, first occurrence. */
  headers: Map<string, string>;
  /** The raw body after the blank line. */
  body: string;
}

/** Splits a message or a part into its headers and body. */
export function splitPart(raw: string): MimePart {
  const match = /\r?\n\r?\n/.exec(raw);
  const head = match ? raw.slice(0, match.index) : raw;
  const body = match ? raw.slice(match.index + match[0].length) : '';
  const headers = new Map<string, string>();
  for (const line of head.replace(/\r?\n[ \t]+/g, ' ').split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    if (!headers.has(name)) headers.set(name, line.slice(colon + 1).trim());
  }
  return { headers, body };
}

/** A header parameter such as `boundary` or `charset` of a Content-Type value. */
export function headerParameter(value: string | undefined, name: string): string | undefined {
  if (!value) return undefined;
  const pattern = new RegExp(`;\\s*${name}\\s*=\\s*(?:"([^"]*)"|([^;\\s]+))`, 'i');
  const match = pattern.exec(value);
  return match ? (match[1] ?? match[2]) : undefined;
}

function mediaType(part: MimePart): string {
  return (part.headers.get('content-type') ?? 'text/plain').split(';')[0]!.trim().toLowerCase();
}

function decodeQuotedPrintable(text: string): Buffer {
  const unfolded = text.replace(/=\r?\n/g, '');
  const bytes: number[] = [];
  for (let i = 0; i < unfolded.length; i++) {
    const char = unfolded[i]!;
    const hex = unfolded.slice(i + 1, i + 3);
    if (char === '=' && /^[0-9A-Fa-f]{2}$/.test(hex)) {
      bytes.push(parseInt(hex, 16));
      i += 2;
    } else {
      bytes.push(...Buffer.from(char, 'utf8'));
    }
  }
  return Buffer.from(bytes);
}

function decodeBytes(bytes: Buffer, charset: string | undefined): string {
  const name = (charset ?? 'utf-8').toLowerCase();
  try {
    return new TextDecoder(name === 'us-ascii' ? 'utf-8' : name).decode(bytes);
  } catch {
    return bytes.toString('utf8');
  }
}

/** The decoded text of a single (non-multipart) part. */
export function decodeBody(part: MimePart): string {
  const encoding = (part.headers.get('content-transfer-encoding') ?? '7bit').toLowerCase();
  const charset = headerParameter(part.headers.get('content-type'), 'charset');
  if (encoding === 'base64') return decodeBytes(Buffer.from(part.body.replace(/[^A-Za-z0-9+/=]/g, ''), 'base64'), charset);
  if (encoding === 'quoted-printable') return decodeBytes(decodeQuotedPrintable(part.body), charset);
  // 7bit / 8bit: the sink already read the message as UTF-8 text.
  return part.body;
}

/** The parts of a multipart body, in order. */
export function childParts(part: MimePart): MimePart[] {
  const boundary = headerParameter(part.headers.get('content-type'), 'boundary');
  if (!boundary) return [];
  const delimiter = `--${boundary}`;
  const parts: MimePart[] = [];
  const sections = part.body.split(new RegExp(`\\r?\\n?${delimiter.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(--)?[ \\t]*\\r?\\n?`));
  // split() with a capture group interleaves the captures; keep only the text between delimiters,
  // dropping the preamble (before the first) and the epilogue (after the closing one).
  const texts: string[] = [];
  for (let i = 0; i < sections.length; i += 2) texts.push(sections[i] ?? '');
  for (const text of texts.slice(1, -1)) parts.push(splitPart(text));
  return parts;
}

/** The first part of `type` (e.g. text/html) anywhere in the message, decoded; undefined if none. */
export function findText(raw: string, type: string): string | undefined {
  const visit = (part: MimePart): string | undefined => {
    const media = mediaType(part);
    if (media.startsWith('multipart/')) {
      for (const child of childParts(part)) {
        const found = visit(child);
        if (found !== undefined) return found;
      }
      return undefined;
    }
    // Line ends as a reader of the file expects them (and as mailparser gives them).
    return media === type ? decodeBody(part).replace(/\r\n/g, '\n') : undefined;
  };
  return visit(splitPart(raw));
}

/** A header value with RFC 2047 encoded words (=?UTF-8?Q?...?= and =?UTF-8?B?...?=) decoded. */
export function decodeHeader(value: string | undefined): string {
  if (!value) return '';
  return value
    .replace(/\?=\s+=\?/g, '?==?')
    .replace(/=\?([^?]+)\?([QqBb])\?([^?]*)\?=/g, (_whole, charset: string, kind: string, text: string) => {
      const bytes =
        kind.toUpperCase() === 'B' ? Buffer.from(text, 'base64') : decodeQuotedPrintable(text.replace(/_/g, ' '));
      return decodeBytes(bytes, charset);
    });
}
