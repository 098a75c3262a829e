/**
 * A message about gem-watch itself (credentials refused, polling failing), to the default route.
 * Raised by the credential health and the poll watcher, carried in notify tasks, rendered per
 * channel: one shape for all of them, so a field added here reaches every renderer.
 */
export interface OperatorAlert {
  /** Stable kind, e.g. `auth` or `polling`. */
  kind: string;
  state: 'down' | 'up';
  title: string;
  detail: string;
  /** Epoch ms the state changed; part of the task id so each change is announced once. */
  since: number;
}
