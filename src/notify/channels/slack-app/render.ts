import type { NotificationContent, RenderOptions } from '../../notifier.js';
import { renderSlack } from '../slack/render.js';
import { renderAppJobAlert, renderAppProgress, renderAppTransition, type SlackAppMessage } from './app-message.js';

/**
 * Every message kind in Slack app mode: the one switch the channel renders through. Pure. A job's
 * transition, quality warning or alert goes to that job's message and thread; what is not about one
 * job (an operator alert, a burst or held group, the digest) is a top-level message of its own,
 * rendered as the incoming webhook renders it.
 */
export function renderSlackApp(content: NotificationContent, options: RenderOptions): SlackAppMessage {
  const message = renderAny(content, options);
  return 'quiet' in content && content.quiet ? { ...message, quiet: true } : message;
}

function renderAny(content: NotificationContent, options: RenderOptions): SlackAppMessage {
  const { timeZone } = options;
  if ('transition' in content && content.live) return renderAppProgress(content.transition, timeZone, content.live.etaAt);
  if ('transition' in content) return renderAppTransition(content.transition, timeZone);
  if ('warning' in content) return renderAppTransition(content.warning.transition, timeZone, content.warning.shortfalls);
  if ('jobAlert' in content) return renderAppJobAlert(content.jobAlert, timeZone);
  return { main: renderSlack(content, options) };
}
