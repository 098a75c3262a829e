import type { CycleResult } from './cycle-runner.js';
import type { MachineInfo } from './machine.js';

/** What a comparison process (bench/noop-bullmq.ts, bench/skeleton-pipeline.ts) measured. */
export interface RawBullmqResult {
  count: number;
  concurrency: number;
  seconds: number;
  perSecond: number;
  /** The process's own CPU (user + system) over `seconds`. */
  cpuSeconds: number;
  /** The Redis server's CPU over the run, read by bench/run.ts around the process. */
  redisCpuSeconds?: number;
  /** Redis commands over the run (INFO commandstats, scripts' commands counted by name as Redis does). */
  redisCommands?: number;
  /** The same by command name. */
  redisByCommand?: Record<string, number>;
  /** The benchmark's own process over the run (the simulator and sink serving the skeleton). */
  harnessCpuSeconds?: number;
}

/** Cycles in which the running jobs neither end nor start, but their progress moves. */
export interface QuietResult {
  /** Tick to tick, in ms. */
  spacingMs: number;
  /** The daemon's poll.progressEverySeconds: five spacings. */
  progressEverySeconds: number;
  /** Running jobs throughout. */
  running: number;
  warmupCycles: number;
  /** API calls (list + detail) answered from each measured tick to the next. */
  apiCallsByCycle: number[];
  apiCallsPerCycle: number;
  /** job types + running ÷ 5. */
  bound: number;
  daemonCpuSecondsPerCycle: number;
  redisCommandsPerCycle: number;
  cycles: CycleResult[];
}

/** Everything measured at one scale. */
export interface ScaleResult {
  jobs: number;
  changesPerCycle: number;
  firstSync: CycleResult;
  warmup: CycleResult[];
  cycles: CycleResult[];
  summary: {
    cycleMsMedian: number;
    cycleMsP99: number;
    apiCallsPerCycle: number;
    apiCallsExpected: number;
    /** Cycles whose list + detail calls differed from job types + active + changed. */
    cyclesOffExpected: number;
    naiveApiCallsPerCycle: number;
    naiveRatio: number;
    redisCommandsPerCycle: number;
    redisCpuSecondsPerCycle: number;
    daemonCpuSecondsPerCycle: number;
    /** Largest RSS sampled during the measured cycles. */
    daemonRssMaxBytes: number;
    /** VmHWM at the end of the daemon's life: first sync and burst included. */
    daemonRssPeakBytes: number;
    trackedJobs: number;
    redisBytesPerJob: number;
    redisBytesPerJobAfterSync: number;
    e2eTransitionsPerSecond: number;
    rawNoopPerSecond: number;
    throughputRatio: number;
    /** Burst end-to-end transitions per second ÷ the skeleton's, same run (target ≥ 0.6). */
    skeletonRatio: number;
    /**
     * Daemon + Redis CPU per transition in the burst ÷ the skeleton process + Redis per transition
     * (target ≤ 1.6).
     */
    cpuPerTransitionRatio: number;
    /** The quiet workload's API calls per cycle, averaged over its measured cycles (NaN when not run). */
    quietApiCallsPerCycle: number;
    /** What they may be: job types + running ÷ 5. */
    quietApiCallsBound: number;
  };
  /** The quiet workload; absent when run with --no-quiet. */
  quiet?: QuietResult;
  memory: {
    baselineBytes: number;
    afterSyncBytes: number;
    afterCyclesBytes: number;
    trackedAfterSync: number;
    byKind: Record<string, { keys: number; bytes: number }>;
  };
  /** `size` jobs start in one cycle; in the next, every running job ends. */
  burst: { size: number; start: CycleResult; finish: CycleResult };
  raw: RawBullmqResult;
  /**
   * bench/skeleton-pipeline.ts: per transition only a queue job with one GEM GET that adds a queue
   * job with one Slack POST, nothing else; `count` transitions.
   */
  skeleton: RawBullmqResult;
  /** Absent when run with --no-naive. */
  naive?: { prime: { calls: number; ms: number }; measured: { listCalls: number; detailCalls: number; changed: number; ms: number; expectedChanged: number } };
  /** 1-minute load average of the machine when the scale started and ended (others share it). */
  loadAverage: { start: number; end: number };
  daemonExitCode: number | null;
  daemonWarnings: string[];
}

export interface BenchResults {
  machine: MachineInfo;
  mode: 'full' | 'quick';
  /** What the daemon was configured with, and how cycles were driven. */
  settings: Record<string, unknown>;
  scales: ScaleResult[];
  /** Phases that could not run, with the reason. */
  problems: string[];
  totalSeconds: number;
}
