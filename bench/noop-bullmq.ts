/**
 * Raw BullMQ throughput, run as its own process (like the daemon): adds `count` no-op jobs in bulk
 * to a fresh queue and processes them with one Worker, and prints one JSON line with the time from
 * the first add to the last completion and the process's CPU in that time. Usage: node --import
 * tsx bench/noop-bullmq.ts REDIS_URL COUNT CONCURRENCY PREFIX. Default job options (completed jobs
 * are kept), as BullMQ ships.
 */
import { Queue, Worker } from 'bullmq';
import { benchConnection, Completions, printResult, requiredArgs, startRun } from './child-run.js';

const [url, countText, concurrencyText, prefix] = requiredArgs(4, 'noop-bullmq.ts REDIS_URL COUNT CONCURRENCY PREFIX') as [string, string, string, string];
const count = Number(countText);
const concurrency = Number(concurrencyText);
const BULK = 1_000;
const name = 'bench-noop';

const queue = new Queue(name, { connection: benchConnection(url), prefix });
const completions = new Completions(count);
const worker = new Worker(name, async () => undefined, { connection: benchConnection(url), prefix, concurrency, autorun: false });
worker.on('completed', () => completions.add());
worker.on('error', (error) => process.stderr.write(`worker error: ${error.message}\n`));
queue.on('error', (error) => process.stderr.write(`queue error: ${error.message}\n`));

await queue.waitUntilReady();
void worker.run();
await worker.waitUntilReady();
const run = startRun(completions, 'completed');
for (let first = 0; first < count; first += BULK) {
  const size = Math.min(BULK, count - first);
  await queue.addBulk(Array.from({ length: size }, (_, i) => ({ name: 'noop', data: { n: first + i } })));
}
await completions.done;
printResult(run.finish(concurrency));
await worker.close();
await queue.close();
process.exit(0);
