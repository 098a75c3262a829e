import type { QualityShortfall } from '../../../domain/quality.js';
import type { Transition } from '../../../domain/transition.js';
import { escapeHtml, sanitizeHeader } from '../../../templates/escape.js';
import { headline } from '../../../templates/format.js';
import { warningText } from '../../../templates/warning-format.js';
import { renderEmailTransition, type EmailContent, type EmailRenderOptions } from './email-message.js';

/**
 * A finished job below its route's quality thresholds: the same one message as any finished job,
 * rendered as a warning that names each threshold missed. Built on the transition renderers, so
 * the job's facts and statistics read exactly as in the normal message.
 */

/** The email of a finished job that missed a threshold. */
export function renderEmailWarning(transition: Transition, shortfalls: readonly QualityShortfall[], options: EmailRenderOptions = {}): EmailContent {
  const email = renderEmailTransition(transition, options);
  if (shortfalls.length === 0) return email;
  const warning = warningText(shortfalls);
  const banner = `<p style="margin:0 0 12px 0;padding:8px 12px;background:#fff8c5;border:1px solid #d4a72c;color:#633c01"><strong>Warning.</strong> ${escapeHtml(warning)}</p>`;
  const cut = email.html.indexOf('</h2>');
  const html = cut < 0 ? email.html : `${email.html.slice(0, cut + 5)}\n${banner}${email.html.slice(cut + 5)}`;
  const [first, ...lines] = email.text.split('\n');
  return {
    subject: sanitizeHeader(`[gem-watch] WARNING ${headline(transition.job, transition.to)}: below threshold`),
    text: [first, `WARNING: ${warning}`, ...lines].join('\n'),
    html,
  };
}
