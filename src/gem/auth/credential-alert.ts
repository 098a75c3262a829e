import type { OperatorAlert } from '../../domain/operator-alert.js';
import type { CredentialHealthChange } from './credential-health.js';

export const CREDENTIAL_ALERT_KIND = 'auth';
export const CREDENTIAL_DOWN_TITLE = 'gem-watch cannot authenticate to GEM';
export const CREDENTIAL_UP_TITLE = 'gem-watch can authenticate to GEM again';

/**
 * The operator alert for a change of credential health, for the default route. `provider` names
 * where tokens come from (static, command, azure, none) so the advice fits. The reason is already
 * scrubbed; templates escape it like any other text.
 */
export function credentialAlert(change: CredentialHealthChange, provider: string): OperatorAlert {
  if (change.healthy) {
    return {
      kind: CREDENTIAL_ALERT_KIND,
      state: 'up',
      title: CREDENTIAL_UP_TITLE,
      detail: 'GEM accepts gem-watch’s requests again; polling is back to normal and job changes missed meanwhile are announced on the next poll.',
      since: change.since,
    };
  }
  const advice: Record<string, string> = {
    command: 'Check that GEM_BEARER_TOKEN_COMMAND works when run by hand as the service user (for az: run `az login` again).',
    static: 'GEM_BEARER_TOKEN is a fixed token and has probably expired; set GEM_BEARER_TOKEN_COMMAND so tokens are fetched as needed.',
    azure: 'Check the Azure identity (az login, managed identity or AZURE_* variables) and that it may use the GEM scope.',
    none: 'No bearer token is configured; set GEM_BEARER_TOKEN_COMMAND. Check GEM_API_KEY too.',
  };
  return {
    kind: CREDENTIAL_ALERT_KIND,
    state: 'down',
    title: CREDENTIAL_DOWN_TITLE,
    detail: `${change.reason.replace(/[\s.]+$/, '') || 'GEM refused the credentials'}. ${advice[provider] ?? 'Check GEM_API_KEY and the bearer token settings.'} Polling continues with backoff; another message follows when GEM accepts the credentials again.`,
    since: change.since,
  };
}
