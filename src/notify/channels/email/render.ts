import { digestSubject } from '../../../templates/digest-format.js';
import type { NotificationContent, RenderOptions } from '../../notifier.js';
import { renderDigestHtml } from './digest-html.js';
import { renderDigestText } from './digest-text.js';
import { renderEmailAlert, renderEmailTransition, type EmailContent } from './email-message.js';
import { renderEmailGroup } from './group-message.js';
import { renderEmailJobAlert } from './job-alert-message.js';
import { renderEmailWarning } from './warning-message.js';

/** Every message kind as an e-mail (subject, text and HTML): the one switch the email channel renders through. Pure. */
export function renderEmail(content: NotificationContent, options: RenderOptions): EmailContent {
  const { timeZone } = options;
  if ('transition' in content) return renderEmailTransition(content.transition, { timeZone });
  if ('alert' in content) return renderEmailAlert(content.alert, { timeZone });
  if ('jobAlert' in content) return renderEmailJobAlert(content.jobAlert, { timeZone });
  if ('warning' in content) return renderEmailWarning(content.warning.transition, content.warning.shortfalls, { timeZone });
  if ('group' in content) return renderEmailGroup(content.group.summary, { ...content.group, timeZone });
  // The digest carries its own time zone (DIGEST_TIMEZONE).
  const model = content.digest;
  return { subject: digestSubject(model), text: renderDigestText(model), html: renderDigestHtml(model) };
}
