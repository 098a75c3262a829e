/**
 * The least any watcher built like gem-watch must do per announced transition, as a process of its
 * own (like the daemon): a BullMQ job that GETs one job's details from the GEM simulator and adds
 * one BullMQ job, which POSTs one small message to the Slack sink. Nothing else: no state in Redis,
 * no compare-and-set, no rendering, no delivery markers or logs. Both HTTP calls use undici's
 * request() over keep-alive agents, as gem-watch does. Prints one JSON line with the time from the
 * first add to the last post and the process's CPU in that time. It puts a number on how much of the throughput target two queue jobs
 * and two HTTP exchanges per transition leave for everything else.
 *
 * Usage: node --import tsx bench/skeleton-pipeline.ts REDIS_URL CONCURRENCY PREFIX GEM_BASE_URL
 * API_KEY SLACK_URL IDS_FILE (a JSON array of job ids; one transition per id).
 */
import { readFileSync } from 'node:fs';
import { Queue, Worker } from 'bullmq';
import { Agent, request } from 'undici';
import { benchConnection, Completions, printResult, requiredArgs, startRun } from './child-run.js';

const [url, concurrencyText, prefix, gemBaseUrl, apiKey, slackUrl, idsFile] = requiredArgs(
  7,
  'skeleton-pipeline.ts REDIS_URL CONCURRENCY PREFIX GEM_BASE_URL API_KEY SLACK_URL IDS_FILE',
) as [string, string, string, string, string, string, string];
const ids = JSON.parse(readFileSync(idsFile, 'utf8')) as string[];
const concurrency = Number(concurrencyText);
const BULK = 500;
const gem = new Agent();
const slack = new Agent();

const connection = () => benchConnection(url);
const detailQueue = new Queue<{ id: string }>('skeleton-detail', { connection: connection(), prefix });
const notifyQueue = new Queue<{ id: string; status: string }>('skeleton-notify', { connection: connection(), prefix });
const posted = new Completions(ids.length);

const detailWorker = new Worker<{ id: string }>(
  'skeleton-detail',
  async (task) => {
    const answer = await request(`${gemBaseUrl}/gem/jobs/${encodeURIComponent(task.data.id)}`, {
      dispatcher: gem,
      headers: { 'tomtom-api-key': apiKey, 'x-version': '1', accept: 'application/json' },
    });
    if (answer.statusCode !== 200) throw new Error(`GEM answered ${answer.statusCode}`);
    const job = (await answer.body.json()) as { status?: string };
    await notifyQueue.add('notify', { id: task.data.id, status: String(job.status) });
  },
  { connection: connection(), prefix, concurrency, autorun: false },
);
const notifyWorker = new Worker<{ id: string; status: string }>(
  'skeleton-notify',
  async (task) => {
    const answer = await request(slackUrl, {
      dispatcher: slack,
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ text: `job ${task.data.id} ${task.data.status}` }),
    });
    await answer.body.text();
    if (answer.statusCode !== 200) throw new Error(`Slack answered ${answer.statusCode}`);
  },
  { connection: connection(), prefix, concurrency, autorun: false },
);
notifyWorker.on('completed', () => posted.add());
const reportError = (error: Error) => process.stderr.write(`error: ${error.message}\n`);
detailQueue.on('error', reportError);
notifyQueue.on('error', reportError);
detailWorker.on('error', reportError);
notifyWorker.on('error', reportError);
detailWorker.on('failed', (_task, error) => process.stderr.write(`detail failed: ${error.message}\n`));
notifyWorker.on('failed', (_task, error) => process.stderr.write(`notify failed: ${error.message}\n`));

await Promise.all([detailQueue.waitUntilReady(), notifyQueue.waitUntilReady()]);
void detailWorker.run();
void notifyWorker.run();
await Promise.all([detailWorker.waitUntilReady(), notifyWorker.waitUntilReady()]);
const run = startRun(posted, 'posted');
for (let first = 0; first < ids.length; first += BULK) {
  await detailQueue.addBulk(ids.slice(first, first + BULK).map((id) => ({ name: 'detail', data: { id } })));
}
await posted.done;
printResult(run.finish(concurrency));
await Promise.all([detailWorker.close(), notifyWorker.close()]);
await Promise.all([detailQueue.close(), notifyQueue.close(), gem.close(), slack.close()]);
process.exit(0);
