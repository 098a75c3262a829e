import type { NotificationContent, RenderOptions } from '../../notifier.js';
import { renderDigestSlack } from './digest-slack.js';
import { renderSlackGroup } from './group-message.js';
import { renderSlackJobAlert } from './job-alert-message.js';
import { renderSlackAlert, renderSlackTransition, type SlackMessage } from './slack-message.js';
import { renderSlackWarning } from './warning-message.js';

/** Every message kind as a Slack message: the one switch the Slack channel renders through. Pure. */
export function renderSlack(content: NotificationContent, options: RenderOptions): SlackMessage {
  const { timeZone } = options;
  if ('transition' in content) return renderSlackTransition(content.transition, { timeZone });
  if ('alert' in content) return renderSlackAlert(content.alert, { timeZone });
  if ('jobAlert' in content) return renderSlackJobAlert(content.jobAlert, { timeZone });
  if ('warning' in content) return renderSlackWarning(content.warning.transition, content.warning.shortfalls, { timeZone });
  if ('group' in content) return renderSlackGroup(content.group.summary, { ...content.group, timeZone });
  // The digest carries its own time zone (DIGEST_TIMEZONE).
  return renderDigestSlack(content.digest);
}
