import type { GemSimulator, SimJob } from '../../../src/simulator/gem-simulator.js';
import { createRandom, type Random } from '../../../src/simulator/random.js';
import type { DeliveryLedger } from './ledger.js';

export interface JobDriverOptions {
  sim: GemSimulator;
  ledger: DeliveryLedger;
  /** Every random choice (which job moves, how far, finished or failed) comes from this seed. */
  seed: number;
  /** Job types to create jobs in. Default ROAD_MATCHING and LANE_LEVEL_MATCHING. */
  jobTypes?: readonly string[];
  /** Probability that a job ends failed rather than finished. Default 0.3. */
  failRate?: number;
  /** Fields merged into every job created (hostile data). */
  decorate?: (job: Partial<SimJob>, random: Random) => Partial<SimJob>;
  /** Ids of created jobs; default the simulator's numeric ids. */
  idFor?: (index: number, random: Random) => string | undefined;
}

export interface FlowOptions {
  /** Jobs to create in all. */
  jobs: number;
  /** Pause between steps, in ms; each step moves a few jobs. Default 250. */
  everyMs?: number;
  /** Jobs created at most per step. Default 2. */
  createPerStep?: number;
}

/**
 * Moves jobs through GEM's life in the simulator, the way real jobs go: created queued, then
 * running with rising progress, then finished or failed. Each terminal status reached is recorded in
 * the ledger as a transition the daemon must announce. The pacing uses timers, but nothing is
 * asserted on time: scenarios wait on the ledger and the queues.
 */
export class JobDriver {
  private readonly random: Random;
  private created = 0;
  private readonly active = new Set<string>();
  private stopped = false;

  constructor(private readonly options: JobDriverOptions) {
    this.random = createRandom(options.seed);
  }

  /** Jobs created so far. */
  get jobsCreated(): number {
    return this.created;
  }

  /** Jobs not yet terminal. */
  get jobsActive(): number {
    return this.active.size;
  }

  /** Creates one queued job now. */
  createJob(): SimJob {
    const { sim, jobTypes = ['ROAD_MATCHING', 'LANE_LEVEL_MATCHING'] } = this.options;
    const index = this.created;
    this.created += 1;
    const id = this.options.idFor?.(index, this.random);
    let partial: Partial<SimJob> = { jobType: this.random.pick(jobTypes), status: 'queued', numRoads: this.random.int(1_000, 200_000) };
    if (id !== undefined) partial.id = id;
    if (this.options.decorate) partial = { ...partial, ...this.options.decorate(partial, this.random) };
    const job = sim.upsertJob(partial);
    this.active.add(job.id);
    return job;
  }

  /** Moves one job one step along; returns the status it reached. */
  advance(id: string): string | undefined {
    const { sim, ledger, failRate = 0.3 } = this.options;
    const job = sim.getJob(id);
    if (!job) return undefined;
    if (job.status === 'queued') return sim.setStatus(id, 'running', { progress: 0 }).status;
    if (job.status !== 'running') return job.status;
    const progress = Math.min(100, (job.progress ?? 0) + this.random.int(20, 60));
    if (progress < 100) return sim.setStatus(id, 'running', { progress }).status;
    const status = this.random.next() < failRate ? 'failed' : 'finished';
    sim.setStatus(id, status);
    this.active.delete(id);
    ledger.expect({ jobId: id, jobType: job.jobType, status, at: Date.now() });
    return status;
  }

  /** One step: maybe create jobs, and move about half of the active ones. */
  step(flow: FlowOptions): void {
    const room = flow.jobs - this.created;
    const create = Math.min(room, this.random.int(0, flow.createPerStep ?? 2));
    for (let i = 0; i < create; i += 1) this.createJob();
    for (const id of [...this.active]) if (this.random.next() < 0.5) this.advance(id);
  }

  /**
   * Runs steps until `jobs` jobs were created and every one of them is terminal (or `stop()`).
   * Resolves with the number of terminal transitions made.
   */
  async flow(flow: FlowOptions): Promise<number> {
    this.stopped = false;
    while (!this.stopped && (this.created < flow.jobs || this.active.size > 0)) {
      this.step(flow);
      await new Promise((resolve) => setTimeout(resolve, flow.everyMs ?? 250));
    }
    return this.options.ledger.transitions.length;
  }

  stop(): void {
    this.stopped = true;
  }
}
