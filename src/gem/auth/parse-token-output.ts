import type { FetchedToken } from './token-source.js';

/** What a token command printed, understood; or why it could not be. `problem` never quotes the output. */
export type ParsedTokenOutput = ({ ok: true } & FetchedToken) | { ok: false; problem: 'empty' | 'badOutput'; detail: string };

/** RFC 6750's b64token: what a bearer token may be made of. */
const TOKEN_PATTERN = /^[A-Za-z0-9\-._~+/]+=*$/;

/**
 * Epoch seconds (az's `expires_on`) or milliseconds, given as a number or a string of digits.
 * Anything below 10^11 is read as seconds: 10^11 seconds is the year 5138, 10^11 ms is 1973.
 */
function epochMs(value: unknown): number | undefined {
  const number = typeof value === 'number' ? value : typeof value === 'string' && /^\d+(\.\d+)?$/.test(value.trim()) ? Number(value) : NaN;
  if (!Number.isFinite(number) || number <= 0) return undefined;
  return number < 1e11 ? Math.round(number * 1000) : Math.round(number);
}

/**
 * az's `expiresOn`: "2025-01-31 14:05:09.000000" in the machine's local time zone, without an
 * offset (that is how the CLI prints it). A value with an offset or `Z` is read as such.
 */
export function parseAzDate(text: string): number | undefined {
  const trimmed = text.trim();
  const local = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?$/.exec(trimmed);
  if (local) {
    const [, y, mo, d, h, mi, s, frac] = local;
    const ms = frac ? Math.floor(Number(`0.${frac}`) * 1000) : 0;
    const date = new Date(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s), ms);
    return Number.isNaN(date.getTime()) ? undefined : date.getTime();
  }
  if (/^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/i.test(trimmed)) {
    const parsed = Date.parse(trimmed.replace(' ', 'T'));
    return Number.isNaN(parsed) ? undefined : parsed;
  }
  return undefined;
}

function expiryOf(value: unknown): number | undefined {
  if (typeof value === 'string' && !/^\d+(\.\d+)?$/.test(value.trim())) return parseAzDate(value);
  return epochMs(value);
}

function accept(token: string, expiresAt: number | undefined): ParsedTokenOutput {
  if (token === '') return { ok: false, problem: 'empty', detail: 'printed no token' };
  if (!TOKEN_PATTERN.test(token)) {
    return { ok: false, problem: 'badOutput', detail: 'printed a value with characters a bearer token cannot have (spaces, quotes, brackets)' };
  }
  return expiresAt === undefined ? { ok: true, token } : { ok: true, token, expiresAt };
}

function fromJson(value: unknown): ParsedTokenOutput {
  if (typeof value === 'string') return accept(value.trim(), undefined);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { ok: false, problem: 'badOutput', detail: 'printed JSON that is neither a token string nor an object with accessToken' };
  }
  const record = value as Record<string, unknown>;
  const token = record.accessToken ?? record.access_token;
  if (typeof token !== 'string') {
    return { ok: false, problem: 'badOutput', detail: 'printed a JSON object without a string accessToken' };
  }
  // expires_on (epoch seconds, az 2.54 and later) is exact; expiresOn is local time without an offset.
  const expiresAt = expiryOf(record.expires_on) ?? expiryOf(record.expiresOn);
  return accept(token.trim(), expiresAt);
}

/**
 * Understands what a token command printed:
 * - a plain token (`az account get-access-token --query accessToken -o tsv`);
 * - az's JSON (`-o json`, the default), with `accessToken` and `expires_on` (epoch seconds) or
 *   `expiresOn` (a local date string); or a JSON string (`--query accessToken -o json`);
 * - az's tsv of the whole answer: tab-separated fields, the token first, expiry fields after.
 * The result never quotes the output, since the output is the token.
 */
export function parseTokenOutput(output: string): ParsedTokenOutput {
  const text = output.trim();
  if (text === '') return { ok: false, problem: 'empty', detail: 'printed nothing' };
  if (text.startsWith('{') || text.startsWith('"')) {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      // The SyntaxError quotes the input, so it is not kept.
      return { ok: false, problem: 'badOutput', detail: 'printed something that starts like JSON but does not parse' };
    }
    return fromJson(value);
  }
  const lines = text.split(/\r?\n/).filter((line) => line.trim() !== '');
  if (lines.length > 1) {
    return { ok: false, problem: 'badOutput', detail: `printed ${lines.length} lines where one token was expected` };
  }
  const fields = lines[0]!.split('\t').map((field) => field.trim());
  let expiresAt: number | undefined;
  for (const field of fields.slice(1)) {
    // Prefer the epoch field (exact) over the local date string, whichever order they come in.
    const epoch = /^\d{9,13}$/.test(field) ? epochMs(field) : undefined;
    if (epoch !== undefined) {
      expiresAt = epoch;
      break;
    }
    expiresAt ??= parseAzDate(field);
  }
  return accept(fields[0]!, expiresAt);
}
