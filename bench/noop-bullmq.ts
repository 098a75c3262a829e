/**
 * Raw BullMQ throughput, run as its own process (like the daemon): adds `count` no-op jobs in bulk
 * to a fresh queue and processes them with one Worker, and prints one JSON line with the time from
 * the first add to the last completion. Usage: node --import tsx bench/noop-bullmq.ts REDIS_URL
 * COUNT CONCURRENCY PREFIX. Default job options (completed jobs are kept), as BullMQ ships.
 */
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';

const [url, countText, concurrencyText, prefix] = process.argv.slice(2);
if (!url || !countText || !concurrencyText || !prefix) {
  process.stderr.write('usage: noop-bullmq.ts REDIS_URL COUNT CONCURRENCY PREFIX\n');
  process.exit(2);
}
const count = Number(countText);
const concurrency = Number(concurrencyText);
const BULK = 1_000;
const name = 'bench-noop';

const connection = () => new Redis(url, { maxRetriesPerRequest: null });
const queue = new Queue(name, { connection: connection(), prefix });
let completed = 0;
let resolveDone: () => void = () => {};
const done = new Promise<void>((resolve) => {
  resolveDone = resolve;
});
const worker = new Worker(name, async () => undefined, { connection: connection(), prefix, concurrency, autorun: false });
worker.on('completed', () => {
  completed += 1;
  if (completed === count) resolveDone();
});
worker.on('error', (error) => process.stderr.write(`worker error: ${error.message}\n`));
queue.on('error', (error) => process.stderr.write(`queue error: ${error.message}\n`));

await queue.waitUntilReady();
void worker.run();
await worker.waitUntilReady();
// Bounded: the whole run may take at most 120 s.
const guard = setTimeout(() => {
  process.stderr.write(`timed out with ${completed}/${count} completed\n`);
  process.exit(1);
}, 120_000);

const started = performance.now();
for (let first = 0; first < count; first += BULK) {
  const size = Math.min(BULK, count - first);
  await queue.addBulk(Array.from({ length: size }, (_, i) => ({ name: 'noop', data: { n: first + i } })));
}
await done;
const seconds = (performance.now() - started) / 1000;
clearTimeout(guard);
process.stdout.write(`${JSON.stringify({ count, concurrency, seconds, perSecond: count / seconds })}\n`);
await worker.close();
await queue.close();
process.exit(0);
