import { SilenceInputError } from '../state/silence-store.js';

/**
 * "2h", "90m", "1h30m", "1d", "45s" → ms. Throws SilenceInputError on anything else, including 0.
 */
export function parseDuration(text: string): number {
  const trimmed = text.trim().toLowerCase();
  const pattern = /(\d+(?:\.\d+)?)\s*(d|h|m|s)/g;
  const units: Record<string, number> = { d: 86_400_000, h: 3_600_000, m: 60_000, s: 1_000 };
  let total = 0;
  let consumed = '';
  for (const match of trimmed.matchAll(pattern)) {
    total += Number(match[1]) * units[match[2]!]!;
    consumed += match[0];
  }
  if (trimmed === '' || consumed.replace(/\s+/g, '') !== trimmed.replace(/\s+/g, '') || !(total > 0)) {
    throw new SilenceInputError(`"${text.slice(0, 40)}" is not a duration; write e.g. 2h, 90m, 1h30m or 1d`);
  }
  return Math.round(total);
}
