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
  /**
   * Detail calls gem-watch should make: active before ∪ changed (the new jobs) when the active ones
   * end; only the new ones when they go on running (their reads come when due).
   */
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
  /** Progress of each running job as the workload last set it (the quiet cycles move it). */
  private readonly progress = new Map<string, number>();
  private quietTurn = 0;
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
      const progress = this.random.int(0, 95);
      this.sim.setStatus(job.id, 'running', { progress });
      this.running.add(job.id);
      this.progress.set(job.id, progress);
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

  /**
   * One quiet cycle: nothing ends and nothing starts; the progress of a tenth of the running jobs
   * (in turn, so each moves once every ten cycles) goes up by one percent, never to 100. The list
   * says IN_PROGRESS for all of them throughout, so only the progress is news, and a watcher with
   * adaptive reads reads each job only when its read is due. What it should call is the bound
   * checked by the benchmark, not an exact count: the plan expects no detail call.
   */
  quietCycle(): CyclePlan {
    let i = 0;
    for (const id of this.running) {
      if (i % 10 === this.quietTurn % 10) {
        const next = Math.min(99, (this.progress.get(id) ?? 0) + 1);
        this.progress.set(id, next);
        this.sim.setStatus(id, 'running', { progress: next });
      }
      i += 1;
    }
    this.quietTurn += 1;
    return { ...this.plan(0, 0, this.running.size), expectedDetail: 0 };
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
      this.progress.clear();
    }
    for (let i = 0; i < start; i += 1) this.addJob('running');
    const plan = this.plan(announced, start, activeBefore);
    // Running jobs that go on running are read only when their read is due (adaptive reads): a
    // cycle that ends none expects only the new jobs' reads, and waits for no more.
    return finishRunning ? plan : { ...plan, expectedDetail: start };
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
