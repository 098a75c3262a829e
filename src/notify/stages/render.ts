import { timeZoneFor, type NotificationContent, type Notifier } from '../notifier.js';

/** What rendering reads of the configuration: each route's time zone and the operators'. */
export type ZoneSettings = Parameters<typeof timeZoneFor>[1];

/**
 * The render stage: the channel's pure render of what the policy decided, with the times in the
 * route's time zone. Nothing here reaches the network; the send stage posts what this returns.
 */
export function renderFor<Message>(notifier: Notifier<Message>, content: NotificationContent, route: string, config: ZoneSettings): Message {
  return notifier.render(content, { timeZone: timeZoneFor(route, config) });
}
