import { expect } from 'vitest';
import type { ChaosWorld } from './chaos-world.js';
import type { LedgerTally } from './ledger.js';
import { recordRow, type ScenarioRow } from './results.js';
import { byScale, chaosScale } from './scale.js';

export interface SettleOptions {
  id: number;
  scenario: string;
  seed: number;
  notes: string;
  /** How long to wait for the last delivery once the faults are over, in ms. */
  deliverTimeoutMs?: number;
  /** Expected duplicates outside the crash window; always 0. Kept explicit for readability. */
  allowCrashWindow?: boolean;
}

/**
 * The end of every daemon scenario: wait until every transition is delivered and nothing more is
 * in flight, then count, scan the logs for secrets, record the row and assert: nothing lost,
 * nothing unexpected, no duplicate beyond the documented crash window, no leak, no daemon that
 * exited on its own.
 */
export async function settleAndJudge(world: ChaosWorld, options: SettleOptions): Promise<{ tally: LedgerTally; row: ScenarioRow }> {
  const deliverTimeout = options.deliverTimeoutMs ?? byScale(150_000, 300_000);
  try {
    await world.waitDelivered(deliverTimeout);
  } catch (error) {
    const failed = await world.failedNotifyTasks().catch(() => []);
    throw new Error(`${(error as Error).message}${failed.length > 0 ? `\nnotify tasks failed for good:\n${failed.join('\n')}` : ''}`);
  }
  await world.waitQuiet(byScale(90_000, 180_000));
  const tally = world.tally();
  const scan = world.scan();
  const row: ScenarioRow = {
    id: options.id,
    scenario: options.scenario,
    scale: chaosScale(),
    seed: options.seed,
    transitions: tally.transitions,
    delivered: {
      slack: tally.byChannel.slack?.delivered ?? 0,
      ...(tally.byChannel.email ? { email: tally.byChannel.email.delivered } : {}),
      ...(tally.byChannel.teams ? { teams: tally.byChannel.teams.delivered } : {}),
      ...(tally.byChannel.webhook ? { webhook: tally.byChannel.webhook.delivered } : {}),
      ...(tally.byChannel['slack-app'] ? { slackApp: tally.byChannel['slack-app'].delivered } : {}),
    },
    duplicates: tally.duplicates,
    crashWindow: tally.crashWindow,
    lost: tally.lost,
    notes: `${options.notes}${slackAppNote(tally)}${crashWindowNote(tally)}; ${scan.lines} log lines scanned, ${scan.leaks.length} secrets found`,
    scan: { lines: scan.lines, leaks: scan.leaks.length },
    passed: false,
  };
  // Recorded before the assertions so a failing scenario still shows its counts in the summary.
  recordRow(row, { print: false });

  expect(tally.transitions, 'the scenario made transitions').toBeGreaterThan(0);
  expect(tally.problems, `ledger problems (logs in ${world.logDir})`).toEqual([]);
  expect(tally.lost).toBe(0);
  expect(tally.unexpected).toBe(0);
  expect(tally.duplicates - tally.crashWindow, 'duplicates outside the crash window').toBe(0);
  if (!options.allowCrashWindow) expect(tally.crashWindow, 'no SIGKILL in this scenario, so no crash-window duplicate').toBe(0);
  expect(scan.leaks, 'secrets in the logs').toEqual([]);
  expect(world.unexpectedExits()).toEqual([]);
  expect(unhandledProblems(world), 'unhandled rejections or exceptions in the daemon').toEqual([]);
  world.passed = true;
  row.passed = true;
  recordRow(row);
  return { tally, row };
}

const CHANNEL_NAMES: Readonly<Record<string, string>> = { slack: 'Slack', teams: 'Teams', 'slack-app': 'Slack app' };

/** "; crash-window duplicates: Slack 3, email 1" when there were any. */
function crashWindowNote(tally: LedgerTally): string {
  if (tally.crashWindow === 0) return '';
  const parts = Object.entries(tally.byChannel)
    .filter(([, channel]) => channel.crashWindow > 0)
    .map(([name, channel]) => `${CHANNEL_NAMES[name] ?? name} ${channel.crashWindow}`);
  return `; crash-window duplicates: ${parts.join(', ')}`;
}

/** "; Slack app: 40 job messages, 95 chat.update" when the scenario judged Slack app mode. */
function slackAppNote(tally: LedgerTally): string {
  const app = tally.byChannel['slack-app'];
  if (!app) return '';
  return `; Slack app: ${app.jobMessages ?? 0} job messages for ${tally.transitions} jobs, ${app.updates ?? 0} chat.update, ${app.delivered} end replies`;
}

/** Log lines that report an unhandled rejection or an uncaught exception: always a bug. */
export function unhandledProblems(world: ChaosWorld): string[] {
  return world
    .lines()
    .filter(
      (line) =>
        line.json?.msg === 'unhandled promise rejection' ||
        line.json?.msg === 'uncaught exception; stopping' ||
        /PromiseRejectionHandledWarning|UnhandledPromiseRejection/.test(line.raw),
    )
    .map((line) => `${line.replica}#${line.life}: ${line.raw.slice(0, 300)}`);
}
