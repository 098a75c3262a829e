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
  /** The benchmark's own process over the run (the simulator and sink serving the skeleton). */
  harnessCpuSeconds?: number;
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
  };
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
