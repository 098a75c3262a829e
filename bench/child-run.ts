/**
 * What the benchmark's comparison processes (bench/noop-bullmq.ts, bench/skeleton-pipeline.ts)
 * share: their Redis connections, a deadline for the whole run, and the one JSON line they end
 * with, which bench/run.ts reads as a RawBullmqResult.
 */
import { Redis } from 'ioredis';
import type { RawBullmqResult } from './results.js';

/** A connection as BullMQ's workers need it (no per-request retry limit). */
export function benchConnection(url: string): Redis {
  return new Redis(url, { maxRetriesPerRequest: null });
}

/** The arguments after the script's name, or the usage line and exit 2 when one is missing. */
export function requiredArgs(count: number, usage: string): string[] {
  const args = process.argv.slice(2, 2 + count);
  if (args.length < count || args.some((arg) => arg === '')) {
    process.stderr.write(`usage: ${usage}\n`);
    process.exit(2);
  }
  return args;
}

/** Counts completions and settles `done` when the last of `count` is in. */
export class Completions {
  done: Promise<void>;
  completed = 0;
  private resolve: () => void = () => {};

  constructor(readonly count: number) {
    this.done = new Promise<void>((resolve) => {
      this.resolve = resolve;
    });
  }

  add(): void {
    this.completed += 1;
    if (this.completed === this.count) this.resolve();
  }
}

/**
 * Times the run from now: wall time and this process's CPU (user + system), so the report can put
 * a CPU cost on each job beside the rate. The run may take at most 120 s; past that the process
 * exits 1 saying how far it got.
 */
export function startRun(completions: Completions, what: string): { finish: (concurrency: number) => RawBullmqResult } {
  const guard = setTimeout(() => {
    process.stderr.write(`timed out with ${completions.completed}/${completions.count} ${what}\n`);
    process.exit(1);
  }, 120_000);
  const started = performance.now();
  const cpuStart = process.cpuUsage();
  return {
    finish(concurrency) {
      const seconds = (performance.now() - started) / 1000;
      const cpu = process.cpuUsage(cpuStart);
      clearTimeout(guard);
      const { count } = completions;
      return { count, concurrency, seconds, perSecond: count / seconds, cpuSeconds: (cpu.user + cpu.system) / 1e6 };
    },
  };
}

/** Prints the result line bench/run.ts reads. */
export function printResult(result: RawBullmqResult): void {
  process.stdout.write(`${JSON.stringify(result)}\n`);
}
