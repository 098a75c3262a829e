import type { QualityShortfall } from '../../../domain/quality.js';
import type { Transition } from '../../../domain/transition.js';
import { escapeTeamsWithin } from '../../../templates/escape.js';
import { headline } from '../../../templates/format.js';
import { warningText } from '../../../templates/warning-format.js';
import { cardOf, renderTeamsTransition, teamsMessage, titleBlock, type TeamsMessage, type TeamsRenderOptions, type TeamsTextBlock } from './teams-message.js';

/**
 * A finished job below its route's quality thresholds: the card of any finished job, titled as a
 * warning and naming each threshold missed, so its facts read exactly as in the normal card.
 */
export function renderTeamsWarning(transition: Transition, shortfalls: readonly QualityShortfall[], options: TeamsRenderOptions = {}): TeamsMessage {
  const message = renderTeamsTransition(transition, options);
  if (shortfalls.length === 0) return message;
  const title = `${headline(transition.job, transition.to)} (below threshold)`;
  const [, ...rest] = cardOf(message).body;
  const reason: TeamsTextBlock = { type: 'TextBlock', text: escapeTeamsWithin(warningText(shortfalls), 500), wrap: true, weight: 'Bolder', color: 'Warning' };
  return teamsMessage(`Warning: ${title}`, [titleBlock(`⚠️ ${title}`, 'Warning'), reason, ...rest]);
}
