import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { inject } from 'vitest';
import type { ChaosScale } from './scale.js';

/** One row of the summary table: what a scenario made, delivered, duplicated and lost. */
export interface ScenarioRow {
  /** 1–13, the scenario's number: its file is test/chaos/s<id>-*.e2e.test.ts. */
  id: number;
  scenario: string;
  scale: ChaosScale;
  seed: number;
  /** Announced transitions the scenario made (finished or failed jobs). */
  transitions: number;
  /** Transitions delivered at least once, per channel (email, Teams, the webhook and Slack app mode when the scenario uses them). */
  delivered: { slack: number; email?: number; teams?: number; webhook?: number; slackApp?: number };
  /** Copies beyond the first, all channels, including the crash-window ones. */
  duplicates: number;
  /** Of `duplicates`, those the documented crash window admits. */
  crashWindow: number;
  /** (transition, channel) pairs never delivered. */
  lost: number;
  /** Free text: faults injected, kills, what else was checked. */
  notes: string;
  /** The secret scan of every line the scenario's daemons printed (scenario 8 sums these). */
  scan?: { lines: number; leaks: number };
  /** False until every assertion of the scenario held; a failed row is marked in the table. */
  passed: boolean;
}

declare module 'vitest' {
  export interface ProvidedContext {
    /** Directory where each scenario file leaves its row for the summary (set by global-setup). */
    chaosResultsDir: string;
  }
}

/** Where rows go: the directory global-setup made, or none when a file runs without it. */
function resultsDir(): string | undefined {
  try {
    return inject('chaosResultsDir') || undefined;
  } catch {
    return undefined;
  }
}

/**
 * Keeps a scenario's row for the summary printed at the end of the run (a later call for the same
 * scenario replaces it), and prints it now.
 */
export function recordRow(row: ScenarioRow, options: { print?: boolean } = {}): void {
  const dir = resultsDir();
  if (dir) {
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, `scenario-${row.id}-${row.scenario.replace(/[^a-z0-9]+/gi, '-')}.json`), JSON.stringify(row, null, 2));
  }
  if (options.print ?? true) process.stdout.write(`\n${renderTable([row])}\n`);
}

/** Every row left in `dir`, in scenario order. */
export function readRows(dir: string): ScenarioRow[] {
  let names: string[];
  try {
    names = readdirSync(dir).filter((name) => name.endsWith('.json'));
  } catch {
    return [];
  }
  return names
    .map((name) => JSON.parse(readFileSync(join(dir, name), 'utf8')) as ScenarioRow)
    .sort((a, b) => a.id - b.id || a.scenario.localeCompare(b.scenario));
}

function cell(text: string | number): string {
  return String(text).replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

/** The summary as a Markdown table (readable as plain text too). */
export function renderTable(rows: readonly ScenarioRow[]): string {
  const head = ['#', 'Scenario', 'Transitions', 'Delivered (Slack / email)', 'Duplicates (of which crash window)', 'Lost', 'Notes'];
  const lines = [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`];
  for (const row of rows) {
    lines.push(
      `| ${[
        row.id,
        cell(row.passed ? row.scenario : `${row.scenario} (FAILED)`),
        row.transitions,
        `${row.delivered.slack} / ${row.delivered.email ?? '—'}${row.delivered.teams === undefined ? '' : ` (Teams ${row.delivered.teams})`}${row.delivered.webhook === undefined ? '' : ` (webhook ${row.delivered.webhook})`}${row.delivered.slackApp === undefined ? '' : ` (Slack app ${row.delivered.slackApp})`}`,
        `${row.duplicates} (${row.crashWindow})`,
        row.lost,
        cell(row.notes),
      ].join(' | ')} |`,
    );
  }
  return lines.join('\n');
}

/** docs/reliability.md: the table, the date and scale it was produced at, and how to read it. */
export function reliabilityDocument(rows: readonly ScenarioRow[], producedAt: Date, scale: ChaosScale): string {
  const seeds = [...new Set(rows.map((row) => row.seed))].join(', ');
  return [
    '# Reliability under faults',
    '',
    `Produced ${producedAt.toISOString()} by \`npm run test:chaos\` (scale \`${scale}\`, seeds ${seeds}), on the`,
    'real daemon (`gem-watch run` as separate processes) against the GEM simulator, a Slack sink, a real',
    'SMTP server (smtp-server) and its own redis-server with AOF on. Rewritten by every full run; the',
    'scenarios live in test/chaos/.',
    '',
    renderTable(rows),
    '',
    '## Reading the table',
    '',
    '- **Transitions**: jobs the scenario drove to a terminal status (finished or failed) in the',
    '  simulator; each must be announced once in Slack and once by email.',
    '- **Delivered**: transitions that reached the Slack sink / the SMTP server at least once (— where a',
    '  scenario does not use email).',
    '- **Duplicates**: copies beyond the first, both channels. The number in brackets is those the',
    '  delivery protocol admits (docs/architecture.md, "Delivery and its crash window"): a SIGKILL after',
    '  a successful post and before the delivered marker is written. A duplicate is put there only when a replica was killed',
    '  between the two copies and fewer senders logged the delivery than copies arrived; any other',
    '  duplicate fails the scenario.',
    '- **Lost**: (transition, channel) pairs never delivered. Every scenario requires 0.',
    '- Scenario 7 counts the hostile-data jobs; its property tests (fast-check) are in the notes.',
    '- Scenario 8 scans every line every daemon printed in the other scenarios (stdout and stderr) for',
    '  the API key, the bearer token, the Slack webhook URL, the SMTP password, the Teams Workflows URL,',
    '  the webhook signing secret and the Slack bot token; its own run also scans every Redis value and',
    '  every page the replicas serve (status page, /readyz, /metrics, bull-board).',
    '- Scenario 9 gives the detail fetches far less than the polls ask for (1 call/s against every job',
    '  active and a poll each second, with `poll.progressEverySeconds: 0` so that every poll reads every',
    '  active job: adaptive reads alone keep the default setting under the limit here); its notes give the most detail tasks ever seen waiting, which must',
    '  stay within the number of active jobs (one pending task per job), and /readyz must stay 200 naming',
    '  the backlog.',
    '- Scenario 10 starts with old jobs in GEM and a first list answer of `{"jobs": []}`; a message about',
    '  any of that history is counted as unexpected and fails it, and the daemon must log it all as history.',
    '- Scenario 11 adds Teams, the signed webhook and Slack app mode (jobs shown live) beside Slack. For',
    '  Slack app mode a transition is delivered when its end is replied in the job\'s thread; beside',
    '  that each job must have one top-level message, updated in place, that ends showing its end. A',
    '  second top-level message of a job is counted in brackets only when a kill came between the two',
    '  posts and the first was never updated or replied to (its ts was never stored: the window',
    '  between Slack\'s answer and storing the ts, docs/architecture.md, "Slack app mode").',
    '- Scenarios 12 and 13 run on other Redis topologies, built from redis-server and redis-cli: 12 on a',
    '  primary, a replica and three Sentinels (`redis+sentinel://`, two daemon replicas) with `SENTINEL',
    '  FAILOVER` mid-run, then the primary SIGKILLed (/readyz must be 503 while no primary answers, 200',
    '  after); 13 on a Redis Cluster of three masters with a replica each (`redis+cluster://`',
    '  naming two seeds that do not serve the prefix slot, default prefix `{gemwatch}`) with `CLUSTER',
    '  FAILOVER` on the replica of the master serving that slot, and a SIGKILL; it also asserts that every',
    '  key sits in one slot. Their bracketed duplicates are the failover window (docs/architecture.md,',
    '  "Redis failover"): a message whose first copy went out from a second before the failover until two',
    '  seconds after the topology named the new primary, whose delivered marker the old primary took and',
    '  lost. Sentinel promotes without waiting for the replica, so such copies are expected there;',
    '  `CLUSTER FAILOVER` (without FORCE) waits for the replica to catch up, so scenario 13 has none.',
    '',
  ].join('\n');
}
