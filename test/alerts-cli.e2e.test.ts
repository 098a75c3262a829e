import { describe, expect, it } from 'vitest';
import { type AlertsWorld, cliEnv, notifyQueueDrained, promoteDelayed, slackText, useAlertsParts, WEBHOOK_SECRET } from './alerts-support.js';
import { runCli as cli } from './helpers/run-cli.js';
import { waitFor } from './helpers/pipeline.js';

/**
 * `gem-watch silence add|list|remove` and `gem-watch log`, run as the real CLI in child processes
 * against the Redis of a running pipeline (simulator, notify worker, Slack sink, smtp-server).
 */

const parts = useAlertsParts('alerts-cli-key');
const { sim } = parts;

function world(): AlertsWorld {
  return parts.world({ realClock: true, yaml: { alerts: { burstWindowSec: 0 } } });
}

async function finish(w: AlertsWorld, id: string): Promise<void> {
  sim.upsertJob({ id, status: 'running', progress: 40 });
  await w.pipeline.pollOnce();
  sim.setStatus(id, 'finished');
  await w.pipeline.pollOnce();
}

async function heldOn(w: AlertsWorld, jobId: string): Promise<number> {
  return (await w.log.query({ jobId })).filter((entry) => entry.outcome === 'held').length;
}

describe('gem-watch silence and log', () => {
  it('holds a route\'s messages from `silence add` until `silence remove`, then sends one summary', async () => {
    const w = world();
    const env = cliEnv(w.config);
    const added = await cli(['silence', 'add', '--route', 'default', '--for', '2h', '--comment', 'deploy of the matcher'], env);
    expect(added.stderr).toBe('');
    expect(added.code).toBe(0);
    const id = /added (s-[0-9a-f]{8}) +route default +until \S+ \(2 h 0 min left\) +deploy of the matcher/.exec(added.stdout)?.[1];
    expect(id, added.stdout).toBeDefined();
    const listed = await cli(['silence', 'list'], env);
    expect(listed.stdout).toContain(`${id!}  route default`);

    await finish(w, 'held1');
    await waitFor(async () => (await heldOn(w, 'held1')) === 2, 'the job held on both channels');
    expect(w.slackMessages()).toHaveLength(0);

    const removed = await cli(['silence', 'remove', id!], env);
    expect(removed.code).toBe(0);
    expect(removed.stdout).toContain(`removed ${id!} (route default); 2 held summaries released`);
    await waitFor(() => w.slackMessages().length >= 1 && w.mails().length >= 1, 'the summary');
    await notifyQueueDrained(w);
    expect(w.slackMessages()).toHaveLength(1);
    expect(w.mails()).toHaveLength(1);
    expect(slackText(w.slackMessages()[0]!)).toContain('Held while muted: 1 job update for route default');
    expect(slackText(w.slackMessages()[0]!)).toContain(`silence ${id!}`);
    expect((await cli(['silence', 'list'], env)).stdout).toBe('no silences\n');
  });

  it('holds messages until a silence expires', async () => {
    const w = world();
    const env = cliEnv(w.config);
    const added = await cli(['silence', 'add', '--route', 'default', '--for', '1h'], env);
    expect(added.code).toBe(0);
    await finish(w, 'held2');
    await waitFor(async () => (await heldOn(w, 'held2')) === 2, 'the job held on both channels');
    const delayed = await w.pipeline.notifyQueue.getDelayed();
    expect(delayed).toHaveLength(2);
    // An hour passes on the pipeline's clock.
    w.clock.offset = 3_600_000 + 1_000;
    await promoteDelayed(w);
    await waitFor(() => w.slackMessages().length >= 1 && w.mails().length >= 1, 'the summary at the end of the silence');
    await notifyQueueDrained(w);
    expect(w.slackMessages()).toHaveLength(1);
    expect(slackText(w.slackMessages()[0]!)).toContain('held2');
  });

  it('refuses an unknown route and a bad duration with a clear message', async () => {
    const w = world();
    const env = cliEnv(w.config);
    const route = await cli(['silence', 'add', '--route', 'nope', '--for', '2h'], env);
    expect(route.code).toBe(2);
    expect(route.stderr).toContain('route "nope" is not configured; routes: default');
    const duration = await cli(['silence', 'add', '--route', 'default', '--for', 'soon'], env);
    expect(duration.code).toBe(2);
    expect(duration.stderr).toContain('"soon" is not a duration; write e.g. 2h, 90m, 1h30m or 1d');
    const missing = await cli(['silence', 'remove', 's-00000000'], env);
    expect(missing.code).toBe(1);
  });

  it('shows the deliveries of one job with their outcomes, failed attempts included', async () => {
    const w = world();
    const env = cliEnv(w.config);
    const path = new URL(parts.slack.webhookUrl(WEBHOOK_SECRET)).pathname;
    parts.slack.failNext(1, { status: 500 }, path);
    await finish(w, 'logged1');
    await finish(w, 'other1');
    await waitFor(() => w.slackMessages().length >= 2 && w.mails().length >= 2, 'both jobs delivered');
    await notifyQueueDrained(w);

    const run = await cli(['log', '--job', 'logged1'], env);
    expect(run.code).toBe(0);
    const lines = run.stdout.trim().split('\n');
    expect(lines.every((line) => line.includes('logged1 v2 finished'))).toBe(true);
    expect(lines.some((line) => /delivered +slack\/default +route default +logged1 v2 finished +attempt 2/.test(line))).toBe(true);
    expect(lines.some((line) => /retrying +slack\/default +route default +logged1 v2 finished +attempt 1 \[serverError\]/.test(line))).toBe(true);
    expect(lines.some((line) => /delivered +email\/route +route default +logged1 v2 finished +attempt 1/.test(line))).toBe(true);
    expect(run.stdout).not.toContain('other1');
    expect(run.stdout).not.toContain(WEBHOOK_SECRET);

    const failed = await cli(['log', '--failed', '--json'], env);
    const entries = JSON.parse(failed.stdout) as Array<{ outcome: string; jobId: string; reason: string }>;
    expect(entries.map((entry) => `${entry.jobId} ${entry.outcome} ${entry.reason}`)).toEqual(['logged1 retrying serverError']);
  });
});
