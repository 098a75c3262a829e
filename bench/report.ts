import type { BenchResults, ScaleResult } from './results.js';

const MB = 1024 * 1024;

function int(value: number): string {
  return Number.isFinite(value) ? Math.round(value).toLocaleString('en-US') : 'n/a';
}

function fixed(value: number, digits: number): string {
  return Number.isFinite(value) ? value.toFixed(digits) : 'n/a';
}

/** CPU seconds spread over `count` jobs or transitions, in microseconds each. */
function micros(seconds: number | undefined, count: number): string {
  return seconds === undefined ? 'n/a' : int((seconds * 1e6) / count);
}

/** The main table, one row per scale, as Markdown. */
export function resultsTable(scales: readonly ScaleResult[]): string {
  const header = [
    'tracked jobs',
    'changing / cycle',
    'cycle median',
    'cycle p99',
    'API calls / cycle (expected)',
    'naive API calls / cycle',
    'naive ÷ gem-watch',
    'Redis cmds / cycle',
    'Redis bytes / job',
    'daemon RSS max (peak)',
    'daemon CPU s / cycle',
    'e2e transitions / s',
    'raw no-op jobs / s',
    'e2e ÷ raw',
    'e2e ÷ skeleton',
    'quiet API calls / cycle (bound)',
  ];
  const rows = scales.map((scale) => {
    const s = scale.summary;
    return [
      `${int(scale.jobs)} (${int(s.trackedJobs)} at end)`,
      int(scale.changesPerCycle),
      `${int(s.cycleMsMedian)} ms`,
      `${int(s.cycleMsP99)} ms`,
      `${int(s.apiCallsPerCycle)} (${int(s.apiCallsExpected)})${s.cyclesOffExpected > 0 ? ` ⚠ ${s.cyclesOffExpected} off` : ''}`,
      int(s.naiveApiCallsPerCycle),
      `${fixed(s.naiveRatio, 1)}×`,
      int(s.redisCommandsPerCycle),
      int(s.redisBytesPerJob),
      `${fixed(s.daemonRssMaxBytes / MB, 0)} MB (${fixed(s.daemonRssPeakBytes / MB, 0)} MB)`,
      fixed(s.daemonCpuSecondsPerCycle, 2),
      int(s.e2eTransitionsPerSecond),
      int(s.rawNoopPerSecond),
      fixed(s.throughputRatio, 2),
      fixed(s.skeletonRatio, 2),
      scale.quiet ? `${fixed(s.quietApiCallsPerCycle, 1)} (${fixed(s.quietApiCallsBound, 0)})` : 'not run',
    ];
  });
  return [header, header.map(() => '---'), ...rows].map((cells) => `| ${cells.join(' | ')} |`).join('\n');
}

interface TargetCheck {
  target: string;
  measured: string;
  met: boolean | undefined;
}

/**
 * The targets BENCHMARKS.md reports (API calls, cycle time, memory) against the figures, where the
 * run has the scale each one needs.
 */
export function targetChecks(scales: readonly ScaleResult[]): TargetCheck[] {
  const checks: TargetCheck[] = [];
  const offExpected = scales.reduce((sum, scale) => sum + scale.summary.cyclesOffExpected, 0);
  const cycles = scales.reduce((sum, scale) => sum + scale.cycles.length, 0);
  checks.push({
    target: 'API calls per cycle = job types + active + changed jobs',
    measured: `${cycles - offExpected} of ${cycles} measured cycles exactly as expected`,
    met: offExpected === 0,
  });
  for (const scale of scales) {
    if (!scale.quiet) continue;
    const s = scale.summary;
    checks.push({
      target: `quiet workload at ${int(scale.jobs)} jobs (${int(scale.quiet.running)} running, progressEverySeconds = 5 spacings): API calls per cycle ≤ job types + active ÷ 5, over ≥ 10 cycles`,
      measured: `${fixed(s.quietApiCallsPerCycle, 1)} ≤ ${fixed(s.quietApiCallsBound, 1)} over ${scale.quiet.apiCallsByCycle.length} cycles (each: ${scale.quiet.apiCallsByCycle.join(', ')})`,
      met: scale.quiet.apiCallsByCycle.length >= 10 && s.quietApiCallsPerCycle <= s.quietApiCallsBound,
    });
  }
  const ten = scales.find((scale) => scale.jobs === 10_000);
  if (ten) {
    const s = ten.summary;
    const quietRatio = s.naiveApiCallsPerCycle / s.quietApiCallsPerCycle;
    checks.push({
      target: 'at 10,000 jobs, ≥ 50× fewer API calls than the naive watcher',
      measured: `${fixed(s.naiveRatio, 1)}× in the usual cycles (every active job ends: adaptive reads save nothing there); ${fixed(quietRatio, 1)}× in the quiet workload with adaptive reads`,
      met: s.naiveRatio >= 50,
    });
  }
  const fifty = scales.find((scale) => scale.jobs === 50_000);
  if (fifty) {
    const s = fifty.summary;
    checks.push({ target: 'at 50,000 jobs with 500 changing, cycle < 2 s', measured: `median ${int(s.cycleMsMedian)} ms, p99 ${int(s.cycleMsP99)} ms`, met: s.cycleMsP99 < 2_000 });
    checks.push({
      target: 'at 50,000 jobs, daemon RSS < 250 MB',
      measured: `${fixed(s.daemonRssMaxBytes / MB, 0)} MB in cycles, ${fixed(s.daemonRssPeakBytes / MB, 0)} MB peak (first sync and burst included)`,
      // The target is for cycles with 500 changing; the first sync and the 5,500-job burst are
      // other workloads, reported beside it as the peak.
      met: s.daemonRssMaxBytes < 250 * MB,
    });
    checks.push({ target: 'at 50,000 jobs, Redis < 500 bytes per tracked job', measured: `${int(s.redisBytesPerJob)} bytes`, met: s.redisBytesPerJob < 500 });
  }
  for (const scale of scales) {
    const s = scale.summary;
    const { finish } = scale.burst;
    checks.push({
      target: `burst end-to-end transitions/s ≥ 0.6 × the skeleton's in the same run (${int(scale.jobs)} jobs)`,
      measured: `${int(s.e2eTransitionsPerSecond)} / ${int(scale.skeleton.perSecond)} = ${fixed(s.skeletonRatio, 2)} (raw no-op BullMQ ${int(s.rawNoopPerSecond)} / s: e2e ÷ raw ${fixed(s.throughputRatio, 2)})`,
      met: s.skeletonRatio >= 0.6,
    });
    checks.push({
      target: `daemon + Redis CPU per transition in the burst ≤ 1.6 × the skeleton's (${int(scale.jobs)} jobs)`,
      measured:
        `${micros(finish.daemonCpuSeconds + finish.redisCpuSeconds, finish.expectedNotifications)} µs / ` +
        `${micros(scale.skeleton.cpuSeconds + (scale.skeleton.redisCpuSeconds ?? Number.NaN), scale.skeleton.count)} µs = ${fixed(s.cpuPerTransitionRatio, 2)}`,
      met: s.cpuPerTransitionRatio <= 1.6,
    });
  }
  return checks;
}

/**
 * CPU per transition in the burst, per process, beside the skeleton's and raw BullMQ's, and what
 * the machine's cores allow per transition at ¼ of raw BullMQ's rate.
 */
function cpuLine(scale: ScaleResult, cores: number): string {
  const { finish } = scale.burst;
  const { raw, skeleton } = scale;
  const split = (count: number, own: number, redis: number | undefined, harness: number | undefined) =>
    `${micros(own, count)} / ${micros(redis, count)}${harness === undefined ? '' : ` / ${micros(harness, count)}`}, ` +
    `${micros(own + (redis ?? Number.NaN) + (harness ?? 0), count)} in all`;
  const budget = (cores * 1e6) / (raw.perSecond / 4);
  return (
    `- CPU per transition in the burst, µs (the process / Redis / the simulator and sink): gem-watch's daemon ` +
    split(finish.expectedNotifications, finish.daemonCpuSeconds, finish.redisCpuSeconds, finish.harnessCpuSeconds) +
    `; the skeleton ${split(skeleton.count, skeleton.cpuSeconds, skeleton.redisCpuSeconds, skeleton.harnessCpuSeconds)}` +
    `; raw BullMQ per no-op job ${split(raw.count, raw.cpuSeconds, raw.redisCpuSeconds, undefined)}. ` +
    `At ¼ of raw (${int(raw.perSecond / 4)}/s) the machine's ${cores} cores give ${int(budget)} µs per transition to all of them together. ` +
    `Redis commands per transition: gem-watch ${fixed(finish.redisCommands / finish.expectedNotifications, 1)}` +
    `, the skeleton ${fixed((skeleton.redisCommands ?? Number.NaN) / skeleton.count, 1)}` +
    `, raw BullMQ per no-op job ${fixed((raw.redisCommands ?? Number.NaN) / raw.count, 1)}.`
  );
}

function scaleDetails(scale: ScaleResult, cores: number): string {
  const s = scale.summary;
  const kinds = Object.entries(scale.memory.byKind).sort((a, b) => b[1].bytes - a[1].bytes);
  const memoryDelta = scale.memory.afterCyclesBytes - scale.memory.baselineBytes;
  const commands = new Map<string, number>();
  for (const cycle of scale.cycles) for (const [name, calls] of Object.entries(cycle.redisByCommand)) commands.set(name, (commands.get(name) ?? 0) + calls);
  const top = [...commands.entries()].sort((a, b) => b[1] - a[1]).slice(0, 8);
  const lines = [
    `#### ${int(scale.jobs)} jobs`,
    '',
    `- Machine load (1-minute average, the machine is shared): ${fixed(scale.loadAverage.start, 1)} at the start, ${fixed(scale.loadAverage.end, 1)} at the end.`,
    `- First sync (${int(scale.jobs)} jobs, ${int(scale.firstSync.expectedDetail)} of them running): ${int(scale.firstSync.ms)} ms, ` +
      `${int(scale.firstSync.listCalls + scale.firstSync.detailCalls)} API calls, ${int(scale.firstSync.redisCommands)} Redis commands, ` +
      `daemon CPU ${fixed(scale.firstSync.daemonCpuSeconds, 2)} s, RSS max ${fixed(scale.firstSync.daemonPeakRssBytes / MB, 0)} MB.`,
    `- Cycle times (ms, measured cycles in order): ${scale.cycles.map((cycle) => int(cycle.ms)).join(', ')}; warm-up: ${scale.warmup.map((cycle) => int(cycle.ms)).join(', ') || 'none'}.`,
    `- Redis CPU per cycle: ${fixed(s.redisCpuSecondsPerCycle, 3)} s. Commands per cycle, most called: ` +
      top.map(([name, calls]) => `${name} ${int(calls / scale.cycles.length)}`).join(', ') + '.',
    `- Redis memory: ${fixed(memoryDelta / MB, 1)} MB over the empty server for ${int(s.trackedJobs)} tracked jobs ` +
      `(${int(s.redisBytesPerJobAfterSync)} bytes per job right after the first sync). By kind of key: ` +
      kinds.map(([kind, entry]) => `${kind} ${fixed(entry.bytes / MB, 2)} MB (${int(entry.keys)} keys)`).join('; ') + '.',
    `- Burst: ${int(scale.burst.size)} jobs started at once (that cycle fetched ${int(scale.burst.start.detailCalls)} jobs in ${int(scale.burst.start.ms)} ms), then ` +
      `${int(scale.burst.finish.expectedNotifications)} ended at once: ${int(scale.burst.finish.ms)} ms from tick to last message = ` +
      `${int(s.e2eTransitionsPerSecond)} transitions/s. Raw BullMQ: ${int(scale.raw.count)} no-op jobs, concurrency ${scale.raw.concurrency}, ` +
      `${fixed(scale.raw.seconds, 2)} s = ${int(scale.raw.perSecond)} jobs/s.` +
      (scale.skeleton
        ? ` Skeleton pipeline (a job with one GEM GET adding a job with one Slack POST, nothing else): ${int(scale.skeleton.count)} transitions in ` +
          `${fixed(scale.skeleton.seconds, 2)} s = ${int(scale.skeleton.perSecond)} transitions/s.`
        : ''),
    cpuLine(scale, cores),
    scale.quiet
      ? `- Quiet workload (${int(scale.quiet.running)} running jobs whose progress moves and which neither end nor start; a tick every ` +
        `${fixed(scale.quiet.spacingMs / 1000, 0)} s, poll.progressEverySeconds = ${scale.quiet.progressEverySeconds}; ${scale.quiet.warmupCycles} warm-up cycles): ` +
        `API calls per cycle ${scale.quiet.apiCallsByCycle.join(', ')} = ${fixed(scale.quiet.apiCallsPerCycle, 1)} on average (bound ${fixed(scale.quiet.bound, 1)}; ` +
        `every poll reading every active job would be ${int(scale.quiet.bound - scale.quiet.running / 5 + scale.quiet.running)}); ` +
        `daemon CPU ${fixed(scale.quiet.daemonCpuSecondsPerCycle, 2)} s and ${int(scale.quiet.redisCommandsPerCycle)} Redis commands per cycle (median).`
      : '- Quiet workload: not run.',
    scale.naive
      ? `- Naive watcher: ${int(scale.naive.measured.listCalls + scale.naive.measured.detailCalls)} calls in ${int(scale.naive.measured.ms)} ms for one cycle ` +
        `(it saw ${int(scale.naive.measured.changed)} changes; ${int(scale.naive.measured.expectedChanged)} were made).`
      : '- Naive watcher: not run.',
  ];
  if (scale.daemonWarnings.length > 0) lines.push(`- Daemon warnings (first ${scale.daemonWarnings.length}): ${scale.daemonWarnings.map((w) => '`' + w + '`').join('; ')}`);
  return lines.join('\n');
}

/** The generated part of BENCHMARKS.md. */
export function markdownReport(results: BenchResults): string {
  const m = results.machine;
  const checks = targetChecks(results.scales);
  return [
    `### Run of ${m.date.slice(0, 10)} (${results.mode}, ${fixed(results.totalSeconds / 60, 1)} min)`,
    '',
    `Machine: ${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB RAM, ${m.os}. Node ${m.node}, Redis ${m.redis}, BullMQ ${m.bullmq}.`,
    '',
    `Settings: ${Object.entries(results.settings).map(([key, value]) => `${key} = ${typeof value === 'string' ? value : JSON.stringify(value)}`).join('; ')}.`,
    '',
    resultsTable(results.scales),
    '',
    '| target | measured | met |',
    '| --- | --- | --- |',
    ...checks.map((check) => `| ${check.target} | ${check.measured} | ${check.met === undefined ? 'n/a' : check.met ? 'yes' : '**no**'} |`),
    '',
    ...results.scales.map((scale) => scaleDetails(scale, m.cores)).flatMap((text) => [text, '']),
    ...(results.problems.length > 0 ? ['Problems in this run:', '', ...results.problems.map((p) => `- ${p}`), ''] : []),
  ].join('\n');
}

export const RESULTS_BEGIN = '<!-- bench:results:begin (written by npm run bench) -->';
export const RESULTS_END = '<!-- bench:results:end -->';

/** BENCHMARKS.md with the generated block replaced (or appended when the markers are missing). */
export function replaceResultsBlock(document: string, block: string): string {
  const begin = document.indexOf(RESULTS_BEGIN);
  const end = document.indexOf(RESULTS_END);
  const wrapped = `${RESULTS_BEGIN}\n${block}\n${RESULTS_END}`;
  if (begin < 0 || end < begin) return `${document.trimEnd()}\n\n${wrapped}\n`;
  return document.slice(0, begin) + wrapped + document.slice(end + RESULTS_END.length);
}
