import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { REPO_ROOT } from './harness/daemon-process.js';
import { readRows, reliabilityDocument, renderTable, type ScenarioRow } from './harness/results.js';
import type { ChaosScale } from './harness/scale.js';

/**
 * Scenarios 1–7 and 9–13 run the daemon (12 on Sentinel, 13 on a Redis Cluster); 8 is the scan of
 * all their lines (and its own daemon run). A full run writes docs/reliability.md only when every
 * one of them reported.
 */
const SCENARIO_COUNT = 13;

/**
 * Gives every chaos file a directory to leave its row in, and at the end of the run prints the
 * summary table. A full run (CHAOS_SCALE=full) that reported every scenario writes it, with the
 * date, to docs/reliability.md.
 */
export default function setup(project: TestProject): () => void {
  const dir = mkdtempSync(join(tmpdir(), 'gem-watch-chaos-results-'));
  project.provide('chaosResultsDir', dir);
  const scale = (process.env.CHAOS_SCALE ?? project.config.env?.CHAOS_SCALE ?? 'short') as ChaosScale;

  return () => {
    const rows = readRows(dir);
    rmSync(dir, { recursive: true, force: true });
    if (rows.length === 0) return;
    const all = withSecretSummary(rows);
    process.stdout.write(`\nChaos suite summary (scale ${scale}):\n${renderTable(all)}\n`);
    const ids = new Set(all.filter((row) => row.passed).map((row) => row.id));
    const complete = Array.from({ length: SCENARIO_COUNT }, (_, i) => i + 1).every((id) => ids.has(id)) && all.every((row) => row.passed);
    if (scale === 'full' && complete) {
      const file = join(REPO_ROOT, 'docs', 'reliability.md');
      writeFileSync(file, reliabilityDocument(all, new Date(), scale));
      process.stdout.write(`written to ${file}\n`);
    } else if (scale === 'full') {
      process.stdout.write('docs/reliability.md not rewritten: not every scenario passed (a failure, or a partial run)\n');
    }
  };
}

/** Scenario 8's row, completed with the scan of every other scenario's lines. */
function withSecretSummary(rows: ScenarioRow[]): ScenarioRow[] {
  const scanned = rows.filter((row) => row.scan !== undefined);
  const lines = scanned.reduce((sum, row) => sum + row.scan!.lines, 0);
  const leaks = scanned.reduce((sum, row) => sum + row.scan!.leaks, 0);
  return rows.map((row) =>
    row.id === 8 ? { ...row, notes: `${row.notes}; across scenarios ${scanned.map((r) => r.id).join(', ')}: ${lines} lines scanned, ${leaks} secrets found` } : row,
  );
}
