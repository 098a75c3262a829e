import { describeShortfall, type QualityShortfall } from '../domain/quality.js';

/** The warning both channels put above a finished job's message: every threshold it missed. */
export function warningText(shortfalls: readonly QualityShortfall[]): string {
  return `Below threshold: ${shortfalls.map(describeShortfall).join('; ')}.`;
}
