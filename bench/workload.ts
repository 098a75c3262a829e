import { createRandom, type Random } from '../src/simulator/random.js';
import type { GemSimulator, SimStatus } from '../src/simulator/gem-simulator.js';

export interface WorkloadOptions {
  /** Jobs in the account when the daemon first looks. */
  jobs: number;
  /** Fraction of `jobs` that finish or fail per cycle (and as many new jobs start). Default 0.01. */
  changeFraction?: number;
  /** Job types jobs are spread over, first one taking `firstTypeShare`. */
  jobTypes: readonly string[];
  /** Share of jobs of the first job type, 0–1. Default 0.8. */
  firstTypeShare?: number;
  /** Seed of every random choice. Default 10. */
  seed?: number;
}

/** What one cycle changes in the account, and what a watcher must therefore do. */
export interface CyclePlan {
  /** Jobs that reached finished or failed: each is one Slack message. */
  announced: number;
  /** Jobs that appeared, running. */
  started: number;
  /** Jobs not yet terminal before the change: gem-watch fetches each of them every cycle. */
  activeBefore: number;
  /** List calls a cycle makes: one per job type. */
  expectedList: number;
  /** Detail calls gem-watch should make: active before ∪ changed (the new jobs). */
  expectedDetail: number;
  /** Jobs in the account after the change. */
  jobsAfter: number;
}

const TERMINAL_MIX: Array<[SimStatus, number]> = [
  ['finished', 0.85],
  ['failed', 0.1],
  ['cancelled', 0.05],
];

/**
 * The benchmark's account: `jobs` jobs of which 1% run and the rest are history (85% finished, 10%
 * failed, 5% cancelled). Each cycle every running job ends (90% finished, 10% failed, all announced)
 * and as many new jobs start, so 1% of the jobs change status per cycle, the active set stays at 1%,
 * and the account grows by 1% per cycle, as a busy GEM account would.
 */
export class Workload {
  private readonly random: Random;
  private readonly running = new Set<string>();
  private readonly changeCount: number;
  private total = 0;

  constructor(
    private readonly sim: GemSimulator,
    private readonly options: WorkloadOptions,
  ) {
    this.random = createRandom(options.seed ?? 10);
    this.changeCount = Math.max(1, Math.round(options.jobs * (options.changeFraction ?? 0.01)));
  }

  /** Jobs that change status per cycle. */
  get changesPerCycle(): number {
    return this.changeCount;
  }

  get jobCount(): number {
    return this.total;
  }

  get activeCount(): number {
    return this.running.size;
  }

  private jobType(): string {
    const [first, ...rest] = this.options.jobTypes;
    if (rest.length === 0 || this.random.next() < (this.options.firstTypeShare ?? 0.8)) return first!;
    return this.random.pick(rest);
  }

  private addJob(status: SimStatus): string {
    const numRoads = this.random.int(2_000, 400_000);
    // History is up to 90 days old; a job that runs now was submitted minutes ago, so none is
    // stuck or overdue (those alerts would be messages the cycle does not plan for).
    const ageMs = status === 'running' ? this.random.int(60_000, 30 * 60_000) : this.random.int(60_000, 90 * 86_400_000);
    const created = new Date(Date.now() - ageMs).toISOString();
    const job = this.sim.upsertJob({ jobType: this.jobType(), status: 'queued', numRoads, createdAt: created, modifiedAt: created });
    if (status === 'running') {
      this.sim.setStatus(job.id, 'running', { progress: this.random.int(0, 95) });
      this.running.add(job.id);
    } else if (status !== 'queued') {
      this.sim.setStatus(job.id, status);
    }
    this.total += 1;
    return job.id;
  }

  private terminalStatus(): SimStatus {
    let roll = this.random.next();
    for (const [status, share] of TERMINAL_MIX) {
      if (roll < share) return status;
      roll -= share;
    }
    return 'finished';
  }

  /** Fills the account: `changesPerCycle` running jobs, the rest history. */
  populate(): CyclePlan {
    for (let i = 0; i < this.changeCount; i += 1) this.addJob('running');
    for (let i = this.changeCount; i < this.options.jobs; i += 1) this.addJob(this.terminalStatus());
    // First sync: history is recorded without a detail call; running jobs are fetched once.
    return this.plan(0, this.changeCount, 0);
  }

  /** One steady cycle: every running job ends, `changesPerCycle` new ones start. */
  nextCycle(): CyclePlan {
    return this.change(true, this.changeCount);
  }

  /** Starts `count` jobs at once, ending none (the first half of a burst). */
  startMany(count: number): CyclePlan {
    return this.change(false, count);
  }

  /** Ends every running job at once (the second half of a burst). */
  finishAll(): CyclePlan {
    return this.change(true, 0);
  }

  private change(finishRunning: boolean, start: number): CyclePlan {
    const activeBefore = this.running.size;
    let announced = 0;
    if (finishRunning) {
      for (const id of this.running) {
        this.sim.setStatus(id, this.random.next() < 0.9 ? 'finished' : 'failed');
        announced += 1;
      }
      this.running.clear();
    }
    for (let i = 0; i < start; i += 1) this.addJob('running');
    return this.plan(announced, start, activeBefore);
  }

  private plan(announced: number, started: number, activeBefore: number): CyclePlan {
    return {
      announced,
      started,
      activeBefore,
      expectedList: this.options.jobTypes.length,
      // Jobs that end were active before; new jobs are the other changed ones.
      expectedDetail: activeBefore + started,
      jobsAfter: this.total,
    };
  }
}
