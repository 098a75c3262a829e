import type { GemSimulator, SimJob, SimStatus } from '../simulator/gem-simulator.js';

/**
 * The demo's jobs and how they move: a scripted start (one job finishes and one fails within the
 * first half minute, so a newcomer sees both messages quickly), then a new job every so often with
 * a random fate, so the demo stays alive as long as it runs.
 */

interface Plan {
  fate: 'finished' | 'failed';
  /** Percent per tick while running. */
  step: number;
  /** Tick at which a queued job starts running. */
  startTick: number;
  /** A job bound to fail fails when its progress reaches this. */
  failAt?: number;
  message?: string;
}

export interface DemoJobsOptions {
  /** Called on every status change (not on progress). */
  onChange?: (job: SimJob, from: SimStatus | undefined, to: SimStatus) => void;
  /** Ticks between new jobs after the scripted ones. Default 8. */
  newJobEveryTicks?: number;
  /** No new jobs beyond this many in all. Default 40. */
  maxJobs?: number;
}

const FAILURES = [
  'Input validation failed: column "geometry" is missing',
  'Matching aborted: the input file is not valid GeoParquet (no "geo" metadata)',
  'Storage error: could not read the input file from storage-001 (403 from the storage account)',
];

const REGIONS = ['eu_netherlands', 'eu_belgium', 'us_california', 'eu_bavaria', 'ap_tokyo', 'us_texas', 'eu_lombardy', 'sa_sao_paulo'];

/** A small deterministic generator, so two runs of the demo tell the same story. */
function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

export class DemoJobs {
  private readonly plans = new Map<string, Plan>();
  private readonly random = mulberry32(20260121);
  private timer: NodeJS.Timeout | undefined;
  private tick = 0;
  private nextId = 7_340_001;
  private made = 0;
  /** The starting jobs are there before the story starts: their creation is not a change to report. */
  private seeding = false;

  constructor(
    private readonly sim: GemSimulator,
    private readonly options: DemoJobsOptions = {},
  ) {}

  /**
   * The jobs GEM already knows when the demo starts: two that ended long ago (recorded silently by
   * the first poll, never announced), one running and three queued.
   */
  seed(): void {
    this.seeding = true;
    try {
      this.seedJobs();
    } finally {
      this.seeding = false;
    }
  }

  private seedJobs(): void {
    const dayAgo = new Date(Date.now() - 86_400_000).toISOString();
    const old = this.add('ROAD_MATCHING', 'eu_france_roads_2025-12.parquet', 'finished', { step: 0, startTick: 0 }, { createdAt: dayAgo });
    this.sim.setStatus(old.id, 'finished', { modifiedAt: dayAgo });
    const oldFailed = this.add('LANE_LEVEL_MATCHING', 'eu_spain_lanes_2025-12.parquet', 'failed', { step: 0, startTick: 0 }, { createdAt: dayAgo });
    this.sim.setStatus(oldFailed.id, 'failed', { modifiedAt: dayAgo });

    const running = this.add('ROAD_MATCHING', 'eu_netherlands_roads_2026-01.parquet', 'finished', { step: 20, startTick: 0 });
    this.sim.setStatus(running.id, 'running', { progress: 40 });
    this.add('LANE_LEVEL_MATCHING', 'us_california_lanes_2026-01.parquet', 'failed', { step: 25, startTick: 1, failAt: 50, message: FAILURES[0] });
    this.add('ROAD_MATCHING', 'eu_belgium_roads_2026-01.parquet', 'finished', { step: 15, startTick: 2 });
    this.add('ROAD_MATCHING', 'ap_tokyo_roads_2026-01.parquet', 'finished', { step: 8, startTick: 4 });
  }

  /** Moves the jobs every `everyMs` milliseconds. */
  start(everyMs: number): void {
    this.stop();
    this.timer = setInterval(() => this.step(), everyMs);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  private add(jobType: string, inputFile: string, fate: Plan['fate'], plan: Omit<Plan, 'fate'>, extra: Partial<SimJob> = {}): SimJob {
    const id = String(this.nextId++);
    this.made += 1;
    const job = this.sim.upsertJob({ id, jobType, inputFile, status: 'queued', numRoads: 40_000 + Math.round(this.random() * 400_000), ...extra });
    this.plans.set(id, { fate, ...plan });
    if (!this.seeding) this.options.onChange?.(job, undefined, 'queued');
    return job;
  }

  private move(job: SimJob, status: SimStatus, extra: Partial<SimJob> = {}): void {
    const from = job.status;
    const moved = this.sim.setStatus(job.id, status, extra);
    if (from !== status && !this.seeding) this.options.onChange?.(moved, from, status);
  }

  private step(): void {
    this.tick += 1;
    for (const job of this.sim.allJobs()) {
      const plan = this.plans.get(job.id);
      if (!plan) continue;
      if (job.status === 'queued' && this.tick >= plan.startTick) {
        this.move(job, 'running', { progress: 0 });
      } else if (job.status === 'running') {
        const progress = Math.min(100, (job.progress ?? 0) + plan.step);
        if (plan.fate === 'failed' && progress >= (plan.failAt ?? 100)) this.move(job, 'failed', { message: plan.message });
        else if (progress >= 100) this.move(job, 'finished');
        else this.sim.setStatus(job.id, 'running', { progress });
      }
    }
    const every = this.options.newJobEveryTicks ?? 8;
    if (this.tick > 6 && this.tick % every === 0 && this.made < (this.options.maxJobs ?? 40)) {
      const lanes = this.random() < 0.35;
      const region = REGIONS[Math.floor(this.random() * REGIONS.length)]!;
      const fails = this.random() < 0.3;
      this.add(lanes ? 'LANE_LEVEL_MATCHING' : 'ROAD_MATCHING', `${region}_${lanes ? 'lanes' : 'roads'}_2026-02.parquet`, fails ? 'failed' : 'finished', {
        step: 10 + Math.round(this.random() * 20),
        startTick: this.tick + 1,
        failAt: fails ? 20 + Math.round(this.random() * 60) : undefined,
        message: fails ? FAILURES[Math.floor(this.random() * FAILURES.length)] : undefined,
      });
    }
  }
}
