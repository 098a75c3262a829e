import type { NotificationContent } from '../../notifier.js';
import { digestEvent, groupEvent, jobAlertEvent, operatorAlertEvent, transitionEvent, type WebhookEvent } from './webhook-event.js';

/**
 * Every message kind as a signed webhook event: the one switch the channel renders through. Pure.
 * Times are ISO 8601 in UTC, so the route's time zone plays no part.
 */
export function renderWebhook(content: NotificationContent): WebhookEvent {
  if ('transition' in content) return transitionEvent(content.transition);
  if ('alert' in content) return operatorAlertEvent(content.alert);
  if ('jobAlert' in content) return jobAlertEvent(content.jobAlert);
  if ('warning' in content) return transitionEvent(content.warning.transition, content.warning.shortfalls);
  if ('group' in content) return groupEvent(content.group);
  return digestEvent(content.digest);
}
