import type { NotificationContent, RenderOptions } from '../../notifier.js';
import { renderDigestTeams } from './digest-teams.js';
import { renderTeamsGroup } from './group-message.js';
import { renderTeamsJobAlert } from './job-alert-message.js';
import { renderTeamsAlert, renderTeamsTransition, type TeamsMessage } from './teams-message.js';
import { renderTeamsWarning } from './warning-message.js';

/** Every message kind as a Teams card: the one switch the Teams channel renders through. Pure. */
export function renderTeams(content: NotificationContent, options: RenderOptions): TeamsMessage {
  const { timeZone } = options;
  if ('transition' in content) return renderTeamsTransition(content.transition, { timeZone });
  if ('alert' in content) return renderTeamsAlert(content.alert, { timeZone });
  if ('jobAlert' in content) return renderTeamsJobAlert(content.jobAlert, { timeZone });
  if ('warning' in content) return renderTeamsWarning(content.warning.transition, content.warning.shortfalls, { timeZone });
  if ('group' in content) return renderTeamsGroup(content.group.summary, { ...content.group, timeZone });
  // The digest carries its own time zone (DIGEST_TIMEZONE).
  return renderDigestTeams(content.digest);
}
