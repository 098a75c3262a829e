/**
 * gem-watch's benchmark: `npm run bench` (all scales) or `npm run bench -- --quick` (1,000 jobs).
 * See BENCHMARKS.md for the method. Everything runs on 127.0.0.1: a redis-server of its own per
 * scale, the GEM simulator and a Slack sink in this process, and the daemon as a child process
 * (`node dist/cli.js run`). Every loop is bounded in count and time; the run stops by itself.
 *
 * Flags: --quick; --scales=1000,10000; --cycles=N; --no-build (use dist/ as it is); --no-write
 * (print only); --no-naive (skip the naive watcher); --profile (node --cpu-prof on the daemon,
 * profiles in bench/profiles/); --daemon-node-flags="..." (more node flags for the daemon, after the
 * Docker image's NODE_OPTIONS, which it always gets);
 * --daemon-entry=PATH (run another build of the daemon, e.g. a patched copy, instead of dist/cli.js);
 * --replicas=N (N daemons on the scale's Redis, as replicas are deployed; default 1, which is what the
 * targets in BENCHMARKS.md are judged on); --no-quiet (skip the quiet workload).
 */
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { NoTokenProvider } from '../src/gem/auth/token-provider.js';
import { GemClient } from '../src/gem/client.js';
import { createLogger } from '../src/telemetry/logger.js';
import { QUEUE_NAMES } from '../src/queue/names.js';
import { PollScheduler } from '../src/queue/poll-scheduler.js';
import { GemSimulator } from '../src/simulator/gem-simulator.js';
import { Keys } from '../src/state/keys.js';
import { startRedis } from '../test/helpers/redis.js';
import { startSlackSink } from '../src/simulator/slack-sink.js';
import { CycleRunner, type CycleResult } from './cycle-runner.js';
import { DaemonProcess, DaemonReplicas, imageNodeOptions } from './daemon-process.js';
import { machineInfo } from './machine.js';
import { NaiveWatcher } from './naive-watcher.js';
import { commandDelta, memoryByKeyKind, snapshotRedis, topCommands, totalCalls } from './redis-stats.js';
import { markdownReport, replaceResultsBlock, resultsTable, targetChecks } from './report.js';
import type { BenchResults, QuietResult, RawBullmqResult, ScaleResult } from './results.js';
import { median, percentile } from './stats.js';
import { Workload } from './workload.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
/** The daemon runs with the Docker image's node flags (its NODE_OPTIONS), as deployed. */
const IMAGE_NODE_OPTIONS = imageNodeOptions(readFileSync(join(ROOT, 'Dockerfile'), 'utf8'));
const JOB_TYPES = ['ROAD_MATCHING', 'LANE_LEVEL_MATCHING'] as const;
const PREFIX = 'gwbench';
const API_KEY = 'bench-key';
/** The whole run is abandoned after this long, whatever is left. */
const HARD_LIMIT_MS = 14 * 60_000;
/** No new scale starts once this much of the run is spent. */
const SOFT_LIMIT_MS = 11 * 60_000;

/**
 * What the daemon runs with (YAML through GEM_WATCH_CONFIG: these keys have no environment
 * variable). GEM documents no rate limit, so the detail limiter is set where a deployment that
 * trusts 429/Retry-After handling would put it, high enough not to be what is measured; Slack's
 * one-message-a-second per webhook would turn 500 messages into 500 s, so the sink's webhook is
 * given a rate that never parks a message (the gate's Lua still runs for each one).
 */
const DAEMON_SETTINGS = {
  detailConcurrency: 32,
  rateLimit: { max: 5_000, durationMs: 1_000 },
  notifyConcurrency: 32,
  slackPerSecond: 100_000,
  /**
   * Burst grouping off: with it on (30 s by default) 500 transitions become one message plus one
   * group message sent after 30 quiet seconds, and the cycle would measure that window.
   */
  burstWindowSec: 0,
};

/**
 * The quiet workload: after the usual cycles, cycles in which the running jobs (1% of the account)
 * neither end nor start but their progress moves, ticked every QUIET_SPACING_MS, as the usual
 * cycles come (a new slot second each, 1–2 s apart at 50,000 jobs). The daemon's
 * poll.progressEverySeconds is five spacings. It changes nothing in the usual cycles, where every
 * active job ends each cycle and is read for that (a changed list word).
 */
const QUIET_SPACING_MS = 2_000;
const QUIET_PROGRESS_EVERY_SECONDS = (5 * QUIET_SPACING_MS) / 1000;
const QUIET_WARMUP_CYCLES = 2;

interface BenchOptions {
  quick: boolean;
  scales: number[];
  warmupCycles: number;
  cycles: number;
  burst: number;
  raw: number;
  rawConcurrency: number;
  build: boolean;
  write: boolean;
  profile: boolean;
  /** Measure the naive watcher (the slowest phase at 50,000 jobs). */
  naive: boolean;
  /** Extra node flags for the daemon, for experiments. */
  daemonNodeFlags: string[];
  /** The daemon's entry point; default dist/cli.js (experiments point it at a patched copy). */
  daemonEntry: string;
  /** Daemons started on the scale's Redis; their CPU is summed, RSS is the largest one's. */
  replicas: number;
  /** Run the quiet workload after the usual cycles. */
  quiet: boolean;
  quietCycles: number;
}

function parseOptions(argv: string[]): BenchOptions {
  const flag = (name: string) => argv.includes(`--${name}`);
  const value = (name: string) => argv.find((arg) => arg.startsWith(`--${name}=`))?.slice(name.length + 3);
  const known = ['quick', 'no-build', 'no-write', 'no-naive', 'no-quiet', 'profile', 'scales', 'cycles', 'daemon-node-flags', 'daemon-entry', 'replicas'];
  for (const arg of argv) {
    const name = arg.replace(/^--/, '').split('=')[0]!;
    if (!arg.startsWith('--') || !known.includes(name)) throw new Error(`unknown argument ${arg}; known: ${known.map((k) => `--${k}`).join(' ')}`);
  }
  const quick = flag('quick');
  const scales = (value('scales') ?? (quick ? '1000' : '1000,10000,50000')).split(',').map((text) => {
    const n = Number(text);
    if (!Number.isInteger(n) || n < 100 || n > 200_000) throw new Error(`--scales: ${text} is not a job count between 100 and 200000`);
    return n;
  });
  const cycles = Number(value('cycles') ?? (quick ? 5 : 10));
  if (!Number.isInteger(cycles) || cycles < 1 || cycles > 50) throw new Error('--cycles must be 1–50');
  const replicas = Number(value('replicas') ?? 1);
  if (!Number.isInteger(replicas) || replicas < 1 || replicas > 8) throw new Error('--replicas must be 1–8');
  return {
    quick,
    scales,
    // V8 needs more than one busy cycle to optimise the hot paths: at 50,000 jobs daemon CPU went
    // 2.7–3.2 s (warm-up 1), 1.9–2.1 s (the next), then 1.3–1.8 s for good. A daemon runs for months;
    // the cycles measured are the steady ones (the warm-ups stay in results.json).
    warmupCycles: 2,
    cycles,
    burst: quick ? 1_000 : 5_000,
    raw: quick ? 5_000 : 20_000,
    rawConcurrency: DAEMON_SETTINGS.notifyConcurrency,
    build: !flag('no-build'),
    write: !flag('no-write'),
    profile: flag('profile'),
    naive: !flag('no-naive'),
    daemonNodeFlags: (value('daemon-node-flags') ?? '').split(' ').filter((part) => part !== ''),
    daemonEntry: value('daemon-entry') ?? 'dist/cli.js',
    replicas,
    quiet: !flag('no-quiet'),
    // At least ten, as the target asks; twelve is two whole periods of a job's reads (every sixth
    // tick: a read is due once five spacings have passed, which the fifth tick misses by the
    // read's own delay after its poll).
    quietCycles: 12,
  };
}

const started = Date.now();
const elapsed = () => Date.now() - started;
const log = (message: string) => process.stderr.write(`[bench ${(elapsed() / 1000).toFixed(0).padStart(4)} s] ${message}\n`);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Compiles src/ into dist/ so the daemon runs the code in the tree. */
function build(): void {
  log('building dist/ (tsc -p tsconfig.build.json)');
  const tsc = spawnSync(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'], { cwd: ROOT, encoding: 'utf8', timeout: 180_000 });
  if (tsc.status !== 0) {
    // Others may be mid-way through a file; tsc still emits, and the daemon only needs what it imports.
    log(`tsc reported errors (continuing with what it emitted):\n${(tsc.stdout + tsc.stderr).split('\n').slice(0, 10).join('\n')}`);
  }
  cpSync(join(ROOT, 'src/state/lua'), join(ROOT, 'dist/state/lua'), { recursive: true });
  if (!existsSync(join(ROOT, 'dist/cli.js'))) throw new Error('dist/cli.js is missing after the build');
}

/** Raw BullMQ in a process of its own, like the daemon. */
async function rawBullmq(redisUrl: string, count: number, concurrency: number): Promise<RawBullmqResult> {
  return childResult('raw BullMQ', 'bench/noop-bullmq.ts', [redisUrl, String(count), String(concurrency), 'bench-raw']);
}

/** The skeleton pipeline (two jobs and two HTTP calls per transition) in a process of its own. */
async function skeletonPipeline(args: { redisUrl: string; concurrency: number; gemBaseUrl: string; slackUrl: string; ids: string[]; workDir: string }): Promise<RawBullmqResult> {
  const idsFile = join(args.workDir, 'skeleton-ids.json');
  writeFileSync(idsFile, JSON.stringify(args.ids));
  return childResult('skeleton pipeline', 'bench/skeleton-pipeline.ts', [
    args.redisUrl,
    String(args.concurrency),
    'bench-skeleton',
    args.gemBaseUrl,
    API_KEY,
    args.slackUrl,
    idsFile,
  ]);
}

/**
 * Adds to what a comparison run measured the CPU the Redis server and this process (the simulator
 * and sink, which serve the skeleton) spent over it.
 */
async function withServerCpu(admin: Redis, run: () => Promise<RawBullmqResult>): Promise<RawBullmqResult> {
  const before = await snapshotRedis(admin);
  const harnessBefore = process.cpuUsage();
  const result = await run();
  const harness = process.cpuUsage(harnessBefore);
  const after = await snapshotRedis(admin);
  const commands = commandDelta(before, after);
  return {
    ...result,
    redisCpuSeconds: after.cpuSeconds - before.cpuSeconds,
    redisCommands: totalCalls(commands),
    redisByCommand: Object.fromEntries(topCommands(commands, 100)),
    harnessCpuSeconds: (harness.user + harness.system) / 1e6,
  };
}

/** Runs a bench script with tsx and reads the JSON line it ends with. */
async function childResult(what: string, script: string, args: string[]): Promise<RawBullmqResult> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, script), ...args], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 150_000);
    child.once('exit', (exitCode) => {
      clearTimeout(timer);
      resolve(exitCode);
    });
  });
  if (code !== 0) throw new Error(`${what} run failed (exit ${code}): ${err.slice(0, 500)}`);
  return JSON.parse(out.trim().split('\n').pop()!) as RawBullmqResult;
}

/** Sorts the daemon's Redis keys into kinds, for the memory breakdown. */
function keyKind(key: string): string {
  const rest = key.startsWith(`${PREFIX}:`) ? key.slice(PREFIX.length + 1) : undefined;
  if (rest === undefined) return key.startsWith('bench-raw:') ? 'raw benchmark queue' : 'other';
  for (const queue of Object.values(QUEUE_NAMES)) {
    if (!rest.startsWith(`${queue}:`)) continue;
    const part = rest.slice(queue.length + 1);
    if (/^(poll|detail|notify)-/.test(part)) return `${queue} task hashes`;
    if (part === 'events') return `${queue} events stream`;
    return `${queue} lists and sets`;
  }
  const head = rest.split(':')[0]!;
  const names: Record<string, string> = {
    status: 'status index',
    jobs: 'job snapshots',
    transitions: 'transitions stream',
    outbox: 'outbox',
    delivered: 'delivered markers',
    vanished: 'vanished',
  };
  return names[head] ?? `other (${head})`;
}

function summarise(cycles: CycleResult[]) {
  const pick = (f: (c: CycleResult) => number) => median(cycles.map(f));
  return {
    cycleMsMedian: pick((c) => c.ms),
    cycleMsP99: percentile(cycles.map((c) => c.ms), 99),
    apiCallsPerCycle: pick((c) => c.listCalls + c.detailCalls),
    apiCallsExpected: pick((c) => c.expectedList + c.expectedDetail),
    cyclesOffExpected: cycles.filter((c) => c.listCalls + c.detailCalls !== c.expectedList + c.expectedDetail).length,
    redisCommandsPerCycle: pick((c) => c.redisCommands),
    redisCpuSecondsPerCycle: pick((c) => c.redisCpuSeconds),
    daemonCpuSecondsPerCycle: pick((c) => c.daemonCpuSeconds),
    daemonRssMaxBytes: Math.max(...cycles.map((c) => c.daemonPeakRssBytes)),
  };
}

function describeCycle(cycle: CycleResult): string {
  return (
    `${cycle.label}: ${cycle.ms} ms, API ${cycle.listCalls}+${cycle.detailCalls} (expected ${cycle.expectedList}+${cycle.expectedDetail}), ` +
    `messages ${cycle.notifications}/${cycle.expectedNotifications}, Redis ${cycle.redisCommands} cmds, daemon CPU ${cycle.daemonCpuSeconds.toFixed(2)} s, ` +
    `RSS ${(cycle.daemonPeakRssBytes / 2 ** 20).toFixed(0)} MB; phases ${Object.entries(cycle.phases).map(([k, v]) => `${k} ${v}`).join(', ')}`
  );
}

/**
 * The quiet workload (see QUIET_SPACING_MS): warm-up cycles, then `count` measured ones, each a
 * tick QUIET_SPACING_MS after the last. A cycle's API calls are those the simulator answered from
 * its tick to the next one (the last one's until a spacing after its tick), so a read that lands
 * after a cycle's snapshot still counts, in the cycle whose poll asked for it.
 */
async function quietPhase(runner: CycleRunner, workload: Workload, sim: GemSimulator, count: number): Promise<QuietResult> {
  const running = workload.activeCount;
  const cycles: CycleResult[] = [];
  const calls: number[] = [];
  let boundary = { list: sim.counts.list, detail: sim.counts.detail };
  let nextTick = Date.now() + QUIET_SPACING_MS;
  for (let i = 0; i < QUIET_WARMUP_CYCLES + count; i += 1) {
    if (elapsed() > HARD_LIMIT_MS) throw new Error('time budget spent during the quiet cycles');
    await sleep(Math.max(0, nextTick - Date.now()));
    nextTick += QUIET_SPACING_MS;
    const at = { list: sim.counts.list, detail: sim.counts.detail };
    if (i > QUIET_WARMUP_CYCLES) calls.push(at.list + at.detail - boundary.list - boundary.detail);
    boundary = at;
    const isWarmup = i < QUIET_WARMUP_CYCLES;
    const result = await runner.run(isWarmup ? `quiet warm-up ${i + 1}` : `quiet ${i + 1 - QUIET_WARMUP_CYCLES}`, workload.quietCycle(), { timeoutMs: 60_000 });
    if (!isWarmup) cycles.push(result);
    log(describeCycle(result));
  }
  await sleep(Math.max(0, nextTick - Date.now()));
  calls.push(sim.counts.list + sim.counts.detail - boundary.list - boundary.detail);
  const apiCallsPerCycle = calls.reduce((sum, n) => sum + n, 0) / calls.length;
  const bound = JOB_TYPES.length + running / 5;
  log(`quiet workload: ${running} running, ${calls.join(', ')} API calls per cycle = ${apiCallsPerCycle.toFixed(1)} on average (bound ${bound})`);
  return {
    spacingMs: QUIET_SPACING_MS,
    progressEverySeconds: QUIET_PROGRESS_EVERY_SECONDS,
    running,
    warmupCycles: QUIET_WARMUP_CYCLES,
    apiCallsByCycle: calls,
    apiCallsPerCycle,
    bound,
    daemonCpuSecondsPerCycle: median(cycles.map((c) => c.daemonCpuSeconds)),
    redisCommandsPerCycle: median(cycles.map((c) => c.redisCommands)),
    cycles,
  };
}

async function runScale(jobs: number, options: BenchOptions, workDir: string): Promise<ScaleResult> {
  log(`── ${jobs.toLocaleString('en-US')} jobs (load average ${loadavg()[0]!.toFixed(1)}) ──`);
  const loadAtStart = loadavg()[0]!;
  const redis = await startRedis();
  const admin = redis.client();
  const tickConnection = new Redis(redis.url, { maxRetriesPerRequest: null });
  const sim = new GemSimulator({ apiKey: API_KEY, seed: 7 });
  const sink = await startSlackSink();
  const logger = createLogger({ level: 'warn', pretty: 'false', destination: process.stderr });
  const tickQueue = new Queue(QUEUE_NAMES.poll, { connection: tickConnection, prefix: PREFIX });
  tickQueue.on('error', (error) => log(`tick queue error: ${error.message}`));
  let daemon: DaemonReplicas | undefined;
  // Replica 0 keeps the single daemon's names (daemon-1000.log, daemon-1000.cpuprofile).
  const replicaName = (index: number) => `daemon-${jobs}${index === 0 ? '' : `-r${index + 1}`}`;
  const logFiles = Array.from({ length: options.replicas }, (_, index) => join(workDir, `${replicaName(index)}.log`));
  try {
    await sim.start();
    const baseline = await snapshotRedis(admin);
    const workload = new Workload(sim, { jobs, jobTypes: JOB_TYPES });
    const syncPlan = workload.populate();
    log(`simulator holds ${workload.jobCount} jobs (${workload.activeCount} running); ${workload.changesPerCycle} change per cycle`);

    const configFile = join(workDir, `daemon-${jobs}.yaml`);
    writeFileSync(
      configFile,
      [
        'poll:',
        `  detailConcurrency: ${DAEMON_SETTINGS.detailConcurrency}`,
        `  rateLimit: { max: ${DAEMON_SETTINGS.rateLimit.max}, durationMs: ${DAEMON_SETTINGS.rateLimit.durationMs} }`,
        // Only the quiet workload needs it (see above); without it a build from before the setting
        // existed can run the usual cycles (--no-quiet --daemon-entry=...).
        ...(options.quiet ? [`  progressEverySeconds: ${QUIET_PROGRESS_EVERY_SECONDS}`] : []),
        'notify:',
        `  slackPerSecond: ${DAEMON_SETTINGS.slackPerSecond}`,
        `  concurrency: ${DAEMON_SETTINGS.notifyConcurrency}`,
        'alerts:',
        `  burstWindowSec: ${DAEMON_SETTINGS.burstWindowSec}`,
        '',
      ].join('\n'),
    );
    const profileDir = join(ROOT, 'bench/profiles');
    if (options.profile) mkdirSync(profileDir, { recursive: true });
    const startReplica = (index: number) =>
      DaemonProcess.start({
        cwd: ROOT,
        logFile: logFiles[index]!,
        entry: options.daemonEntry,
        nodeFlags: [
          ...IMAGE_NODE_OPTIONS,
          ...(options.profile ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`, `--cpu-prof-name=${replicaName(index)}.cpuprofile`] : []),
          ...options.daemonNodeFlags,
        ],
        env: {
          GEM_WATCH_CONFIG: configFile,
          GEM_API_BASE_URL: sim.baseUrl,
          GEM_API_KEY: API_KEY,
          GEM_AUTH_PROVIDER: 'none',
          GEM_JOB_TYPES: JOB_TYPES.join(','),
          // Cycles are driven by the benchmark through PollScheduler.tick; the cron itself never fires.
          POLL_CRON: '0 0 1 1 *',
          DIGEST_CRON: '0 0 1 1 *',
          REDIS_URL: redis.url,
          GEM_WATCH_PREFIX: PREFIX,
          NOTIFY_ON: 'finished,failed',
          SLACK_WEBHOOK_URL: sink.webhookUrl('benchbenchbenchbenchbench'),
          HTTP_HOST: '127.0.0.1',
          HTTP_PORT: '0',
          LOG_LEVEL: 'warn',
          LOG_PRETTY: 'false',
        },
      });
    daemon = new DaemonReplicas(logFiles.map((_, index) => startReplica(index)));
    const scheduler = new PollScheduler({ queue: tickQueue, jobTypes: JOB_TYPES, cron: '0 0 1 1 *', keepSec: 86_400, logger });
    const runner = new CycleRunner({ sim, sink, scheduler, admin, daemon, keys: new Keys(PREFIX), jobTypes: JOB_TYPES });

    const firstSync = await runner.run('first sync', syncPlan, { timeoutMs: 240_000, untilTracked: jobs });
    log(describeCycle(firstSync));
    const trackedAfterSync = await runner.trackedJobs();
    const afterSync = await snapshotRedis(admin);

    const warmup: CycleResult[] = [];
    const cycles: CycleResult[] = [];
    for (let i = 0; i < options.warmupCycles + options.cycles; i += 1) {
      if (elapsed() > HARD_LIMIT_MS) throw new Error('time budget spent during the cycles');
      const isWarmup = i < options.warmupCycles;
      const plan = workload.nextCycle();
      const result = await runner.run(isWarmup ? `warm-up ${i + 1}` : `cycle ${i + 1 - options.warmupCycles}`, plan, { timeoutMs: 120_000 });
      (isWarmup ? warmup : cycles).push(result);
      log(describeCycle(result));
    }
    const tracked = await runner.trackedJobs();
    const afterCycles = await snapshotRedis(admin);
    const byKind = Object.fromEntries(await memoryByKeyKind(admin, keyKind));

    const quiet = options.quiet ? await quietPhase(runner, workload, sim, options.quietCycles) : undefined;

    // The naive watcher, against the same account at the same size while the daemon idles: one
    // cycle to learn every status, then one with this scale's usual changes. The daemon then
    // catches up on those changes in a cycle that is not measured.
    let naive: ScaleResult['naive'];
    if (options.naive) {
      const watcher = new NaiveWatcher(new GemClient({ baseUrl: sim.baseUrl, apiKey: API_KEY, tokenProvider: new NoTokenProvider(), timeoutMs: 30_000 }), JOB_TYPES);
      const primeBefore = sim.counts.list + sim.counts.detail;
      const prime = await watcher.cycle();
      const primeCalls = sim.counts.list + sim.counts.detail - primeBefore;
      const naivePlan = workload.nextCycle();
      const before = { list: sim.counts.list, detail: sim.counts.detail };
      const measured = await watcher.cycle();
      const listCalls = sim.counts.list - before.list;
      const detailCalls = sim.counts.detail - before.detail;
      log(`naive watcher: ${listCalls}+${detailCalls} calls in ${Math.round(measured.ms)} ms, ${measured.changed} changes seen`);
      naive = {
        prime: { calls: primeCalls, ms: prime.ms },
        measured: { listCalls, detailCalls, changed: measured.changed, ms: measured.ms, expectedChanged: naivePlan.announced + naivePlan.started },
      };
      log(describeCycle(await runner.run('catch-up (not measured)', naivePlan, { timeoutMs: 120_000 })));
    }

    const burstStart = await runner.run('burst: start', workload.startMany(options.burst), { timeoutMs: 180_000 });
    log(describeCycle(burstStart));
    const burstFinish = await runner.run('burst: finish', workload.finishAll(), { timeoutMs: 180_000 });
    log(describeCycle(burstFinish));
    const peak = daemon.sample()?.peakRssBytes ?? Number.NaN;
    const daemonExitCode = await daemon.stop();
    daemon = undefined;
    const daemonWarnings = logFiles
      .flatMap((file) => readFileSync(file, 'utf8').split('\n'))
      .filter((line) => line.trim() !== '')
      .slice(0, 5)
      .map((line) => line.slice(0, 300));

    // Raw BullMQ on the same Redis, with the daemon stopped so both had the machine to themselves.
    const raw = await withServerCpu(admin, () => rawBullmq(redis.url, options.raw, options.rawConcurrency));
    log(`raw BullMQ: ${raw.count} no-op jobs in ${raw.seconds.toFixed(2)} s = ${Math.round(raw.perSecond)}/s`);
    const skeleton = await withServerCpu(admin, () =>
      skeletonPipeline({
        redisUrl: redis.url,
        concurrency: DAEMON_SETTINGS.detailConcurrency,
        gemBaseUrl: sim.baseUrl,
        slackUrl: sink.webhookUrl('skeletonskeletonskeleton'),
        ids: sim.allJobs().slice(0, options.burst).map((job) => job.id),
        workDir,
      }),
    );
    log(`skeleton pipeline: ${skeleton.count} transitions in ${skeleton.seconds.toFixed(2)} s = ${Math.round(skeleton.perSecond)}/s`);

    const base = summarise(cycles);
    const e2e = burstFinish.expectedNotifications / (burstFinish.ms / 1000);
    return {
      jobs,
      changesPerCycle: workload.changesPerCycle,
      firstSync,
      warmup,
      cycles,
      summary: {
        ...base,
        naiveApiCallsPerCycle: naive ? naive.measured.listCalls + naive.measured.detailCalls : Number.NaN,
        naiveRatio: naive ? (naive.measured.listCalls + naive.measured.detailCalls) / base.apiCallsPerCycle : Number.NaN,
        daemonRssPeakBytes: peak,
        trackedJobs: tracked,
        redisBytesPerJob: (afterCycles.usedMemory - baseline.usedMemory) / tracked,
        redisBytesPerJobAfterSync: (afterSync.usedMemory - baseline.usedMemory) / trackedAfterSync,
        e2eTransitionsPerSecond: e2e,
        rawNoopPerSecond: raw.perSecond,
        throughputRatio: e2e / raw.perSecond,
        skeletonRatio: e2e / skeleton.perSecond,
        cpuPerTransitionRatio:
          (burstFinish.daemonCpuSeconds + burstFinish.redisCpuSeconds) / burstFinish.expectedNotifications / ((skeleton.cpuSeconds + (skeleton.redisCpuSeconds ?? Number.NaN)) / skeleton.count),
        quietApiCallsPerCycle: quiet?.apiCallsPerCycle ?? Number.NaN,
        quietApiCallsBound: quiet?.bound ?? Number.NaN,
      },
      quiet,
      memory: { baselineBytes: baseline.usedMemory, afterSyncBytes: afterSync.usedMemory, afterCyclesBytes: afterCycles.usedMemory, trackedAfterSync, byKind },
      burst: { size: options.burst, start: burstStart, finish: burstFinish },
      raw,
      skeleton,
      naive,
      loadAverage: { start: loadAtStart, end: loadavg()[0]! },
      daemonExitCode,
      daemonWarnings,
    };
  } catch (error) {
    // The daemon's own words say why it stopped (a configuration problem, a crash).
    const tail = existsSync(logFiles[0]!) ? readFileSync(logFiles[0]!, 'utf8').trim().split('\n').slice(-5).join(' | ').slice(0, 1_500) : '';
    throw new Error(`${(error as Error).message}${tail ? `; daemon log: ${tail}` : ''}`, { cause: error });
  } finally {
    if (daemon) await daemon.stop(5_000);
    await tickQueue.close().catch(() => {});
    tickConnection.disconnect();
    admin.disconnect();
    await sink.close();
    await sim.stop();
    await redis.close();
  }
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const hardStop = setTimeout(() => {
    log(`hard time limit of ${HARD_LIMIT_MS / 60_000} min reached; exiting`);
    process.exit(1);
  }, HARD_LIMIT_MS);
  hardStop.unref();
  if (options.build) build();
  else if (!existsSync(join(ROOT, 'dist/cli.js'))) throw new Error('dist/cli.js is missing: run npm run build or drop --no-build');

  const workDir = mkdtempSync(join(tmpdir(), 'gem-watch-bench-'));
  const scales: ScaleResult[] = [];
  const problems: string[] = [];
  let machine: BenchResults['machine'] | undefined;
  try {
    for (const jobs of options.scales) {
      if (elapsed() > SOFT_LIMIT_MS) {
        problems.push(`${jobs} jobs: not run, the time budget was spent`);
        continue;
      }
      if (!machine) {
        const probe = await startRedis();
        const client = probe.client();
        machine = await machineInfo(client, JSON.parse(readFileSync(join(ROOT, 'node_modules/bullmq/package.json'), 'utf8')).version as string);
        client.disconnect();
        await probe.close();
      }
      try {
        scales.push(await runScale(jobs, options, workDir));
      } catch (error) {
        problems.push(`${jobs} jobs: ${(error as Error).message}`);
        log(`scale ${jobs} failed: ${(error as Error).message}`);
      }
      await sleep(500);
    }
  } finally {
    rmSync(workDir, { recursive: true, force: true });
  }
  if (!machine) throw new Error('no scale ran');

  const results: BenchResults = {
    machine,
    mode: options.quick ? 'quick' : 'full',
    settings: {
      cycles: 'driven by the benchmark calling the daemon’s PollScheduler.tick (what node-cron calls each slot); POLL_CRON never fires',
      measuredCyclesPerScale: options.cycles,
      warmupCyclesPerScale: options.warmupCycles,
      daemonNodeFlags: [...IMAGE_NODE_OPTIONS, ...options.daemonNodeFlags].join(' ') || 'none',
      daemonReplicas: options.replicas,
      'poll.detailConcurrency': DAEMON_SETTINGS.detailConcurrency,
      'poll.rateLimit': DAEMON_SETTINGS.rateLimit,
      'poll.progressEverySeconds': options.quiet ? QUIET_PROGRESS_EVERY_SECONDS : 'default (the quiet workload was not run)',
      quietWorkload: options.quiet ? `a tick every ${QUIET_SPACING_MS} ms, ${QUIET_WARMUP_CYCLES} warm-up and ${options.quietCycles} measured cycles after the usual ones` : 'not run',
      'notify.concurrency': DAEMON_SETTINGS.notifyConcurrency,
      'notify.slackPerSecond': DAEMON_SETTINGS.slackPerSecond,
      'alerts.burstWindowSec': DAEMON_SETTINGS.burstWindowSec,
      jobTypes: JOB_TYPES.join(', '),
      channels: 'Slack (one webhook, the local sink); email off',
      burstJobs: options.burst,
      rawNoopJobs: options.raw,
      rawConcurrency: options.rawConcurrency,
    },
    scales,
    problems,
    totalSeconds: elapsed() / 1000,
  };

  process.stdout.write(`\n${resultsTable(scales)}\n\n`);
  for (const check of targetChecks(scales)) process.stdout.write(`${check.met ? 'met    ' : 'MISSED '} ${check.target}: ${check.measured}\n`);
  for (const problem of problems) process.stdout.write(`problem: ${problem}\n`);

  if (options.write && !options.quick) {
    writeFileSync(join(ROOT, 'bench/results.json'), `${JSON.stringify(results, null, 2)}\n`);
    const file = join(ROOT, 'BENCHMARKS.md');
    const document = existsSync(file) ? readFileSync(file, 'utf8') : '# Benchmarks\n';
    writeFileSync(file, replaceResultsBlock(document, markdownReport(results)));
    log('wrote bench/results.json and the results block of BENCHMARKS.md');
  } else {
    // Quick and --no-write runs leave the committed figures alone; their JSON goes to the temp dir.
    const file = join(tmpdir(), `gem-watch-bench-${options.quick ? 'quick' : 'run'}.json`);
    writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
    log(`bench/results.json and BENCHMARKS.md left as they are; this run's figures are in ${file}`);
  }
  process.exit(problems.length > 0 ? 1 : 0);
}

main().catch((error: unknown) => {
  log(`failed: ${(error as Error).stack ?? String(error)}`);
  process.exit(1);
});
