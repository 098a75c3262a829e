/**
 * The least any watcher built like gem-watch must do per announced transition, as a process of its
 * own (like the daemon): a BullMQ job that GETs one job's details from the GEM simulator and adds
 * one BullMQ job, which POSTs one small message to the Slack sink. Nothing else: no state in Redis,
 * no compare-and-set, no rendering, no delivery markers or logs. Both HTTP calls use undici's
 * request() over keep-alive agents, as gem-watch does. Prints one JSON line with the time from the
 * first add to the last post. It puts a number on how much of the throughput target two queue jobs
 * and two HTTP exchanges per transition leave for everything else.
 *
 * Usage: node --import tsx bench/skeleton-pipeline.ts REDIS_URL CONCURRENCY PREFIX GEM_BASE_URL
 * API_KEY SLACK_URL IDS_FILE (a JSON array of job ids; one transition per id).
 */
import { readFileSync } from 'node:fs';
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { Agent, request } from 'undici';

const [url, concurrencyText, prefix, gemBaseUrl, apiKey, slackUrl, idsFile] = process.argv.slice(2);
if (!url || !concurrencyText || !prefix || !gemBaseUrl || !apiKey || !slackUrl || !idsFile) {
  process.stderr.write('usage: skeleton-pipeline.ts REDIS_URL CONCURRENCY PREFIX GEM_BASE_URL API_KEY SLACK_URL IDS_FILE\n');
  process.exit(2);
}
const ids = JSON.parse(readFileSync(idsFile, 'utf8')) as string[];
const count = ids.length;
const concurrency = Number(concurrencyText);
const BULK = 500;
const gem = new Agent();
const slack = new Agent();

const connection = () => new Redis(url, { maxRetriesPerRequest: null });
const detailQueue = new Queue<{ id: string }>('skeleton-detail', { connection: connection(), prefix });
const notifyQueue = new Queue<{ id: string; status: string }>('skeleton-notify', { connection: connection(), prefix });
let posted = 0;
let resolveDone: () => void = () => {};
const done = new Promise<void>((resolve) => {
  resolveDone = resolve;
});

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
notifyWorker.on('completed', () => {
  posted += 1;
  if (posted === count) resolveDone();
});
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
// Bounded: the whole run may take at most 120 s.
const guard = setTimeout(() => {
  process.stderr.write(`timed out with ${posted}/${count} posted\n`);
  process.exit(1);
}, 120_000);

const started = performance.now();
for (let first = 0; first < count; first += BULK) {
  await detailQueue.addBulk(ids.slice(first, first + BULK).map((id) => ({ name: 'detail', data: { id } })));
}
await done;
const seconds = (performance.now() - started) / 1000;
clearTimeout(guard);
process.stdout.write(`${JSON.stringify({ count, concurrency, seconds, perSecond: count / seconds })}\n`);
await Promise.all([detailWorker.close(), notifyWorker.close()]);
await Promise.all([detailQueue.close(), notifyQueue.close(), gem.close(), slack.close()]);
process.exit(0);
