import type { Redis } from 'ioredis';
import { pollTaskId, QUEUE_NAMES } from '../src/queue/names.js';
import type { PollScheduler } from '../src/queue/poll-scheduler.js';
import type { GemSimulator } from '../src/simulator/gem-simulator.js';
import type { Keys } from '../src/state/keys.js';
import type { SlackSink } from '../src/simulator/slack-sink.js';
import type { DaemonReplicas } from './daemon-process.js';
import { commandDelta, snapshotRedis, topCommands, totalCalls, type CommandCounts } from './redis-stats.js';
import type { CyclePlan } from './workload.js';

/** Everything measured of one cycle. */
export interface CycleResult {
  label: string;
  /** From the tick to the last notification the sink received (or the last detail answer). */
  ms: number;
  listCalls: number;
  detailCalls: number;
  expectedList: number;
  expectedDetail: number;
  /** Requests the Slack sink received in this cycle, and how many it did not answer 200. */
  notifications: number;
  notificationsRefused: number;
  expectedNotifications: number;
  redisCommands: number;
  /** Calls per command name in this cycle (commands run inside Lua scripts count under their own name). */
  redisByCommand: Record<string, number>;
  redisCpuSeconds: number;
  daemonCpuSeconds: number;
  /**
   * The benchmark's own process: the GEM simulator and the Slack sink answering, and the
   * benchmark's polling and sampling (a small part).
   */
  harnessCpuSeconds: number;
  daemonPeakRssBytes: number;
  /** Jobs in the account after this cycle's changes. */
  jobs: number;
  /**
   * Where the time went, in ms after the tick: the poll tasks' start and end (list call, diff
   * against the index, detail tasks enqueued), the first and last detail request the simulator
   * answered, the first and last message the sink received. Undefined when there was none.
   */
  phases: Partial<Record<'pollStart' | 'pollEnd' | 'firstDetail' | 'lastDetail' | 'firstMessage' | 'lastMessage', number>>;
}

export interface CycleRunnerOptions {
  sim: GemSimulator;
  sink: SlackSink;
  scheduler: PollScheduler;
  /** The benchmark's own client of the daemon's Redis (INFO, HLEN). */
  admin: Redis;
  /** The daemon's replicas (one unless --replicas says otherwise), read as one. */
  daemon: DaemonReplicas;
  keys: Keys;
  jobTypes: readonly string[];
  /** Pause after a cycle's last expected event, so its trailing Redis commands fall inside it. Default 300 ms. */
  settleMs?: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Runs cycles the way the cron would: the benchmark calls the daemon's own PollScheduler.tick
 * (the function node-cron calls at every slot), then waits until the simulator has answered every
 * expected detail call and the Slack sink has every expected message. Each cycle's figures are the
 * differences of readings taken just before its tick and just after it settles.
 */
export class CycleRunner {
  private lastSlotSecond = 0;
  private lastDetailAt = 0;
  private firstDetailAt = 0;
  /** Commands this runner sent to the daemon's Redis between snapshots, to take back out. */
  private ownCalls: CommandCounts = new Map();

  constructor(private readonly options: CycleRunnerOptions) {
    const previous = options.sim.onRequest;
    options.sim.onRequest = (endpoint, status) => {
      if (endpoint === 'detail') {
        this.lastDetailAt = Date.now();
        if (this.firstDetailAt === 0) this.firstDetailAt = this.lastDetailAt;
      }
      previous?.(endpoint, status);
    };
  }

  async trackedJobs(): Promise<number> {
    const counts = await Promise.all(this.options.jobTypes.map((type) => this.options.admin.hlen(this.options.keys.statusIndex(type))));
    this.ownCalls.set('hlen', (this.ownCalls.get('hlen') ?? 0) + counts.length);
    return counts.reduce((sum, count) => sum + count, 0);
  }

  /**
   * One cycle whose changes are already made in the simulator (`plan`). With `untilTracked`, the
   * cycle also waits for the state store to hold that many jobs (the first sync records history
   * without any API call to wait on).
   */
  async run(label: string, plan: CyclePlan, options: { timeoutMs: number; untilTracked?: number }): Promise<CycleResult> {
    const { sim, sink, scheduler, admin, daemon } = this.options;
    // A slot is one second; a second tick in the same second would be the same poll task.
    while (Math.floor(Date.now() / 1000) <= this.lastSlotSecond) await sleep(20);

    const before = {
      list: sim.counts.list,
      detail: sim.counts.detail,
      sink: sink.requests.length,
      redis: await snapshotRedis(admin),
      proc: daemon.sample(),
      harnessCpu: process.cpuUsage(),
    };
    this.ownCalls = new Map();
    daemon.takePeak();

    this.firstDetailAt = 0;
    this.lastDetailAt = 0;
    const tickAt = Date.now();
    this.lastSlotSecond = Math.floor(tickAt / 1000);
    await scheduler.tick(new Date(tickAt));

    const deadline = tickAt + options.timeoutMs;
    let trackedOk = options.untilTracked === undefined;
    for (;;) {
      const detailsDone = sim.counts.detail - before.detail >= plan.expectedDetail;
      const messagesDone = sink.requests.length - before.sink >= plan.announced;
      if (detailsDone && messagesDone && !trackedOk) trackedOk = (await this.trackedJobs()) >= options.untilTracked!;
      if (detailsDone && messagesDone && trackedOk) break;
      if (!daemon.running) throw new Error(`${label}: the daemon exited during the cycle`);
      if (Date.now() > deadline) {
        throw new Error(
          `${label}: not done after ${options.timeoutMs} ms (detail calls ${sim.counts.detail - before.detail}/${plan.expectedDetail}, ` +
            `messages ${sink.requests.length - before.sink}/${plan.announced})`,
        );
      }
      await sleep(options.untilTracked === undefined ? 5 : 50);
    }
    const doneAt = Date.now();
    const requests = sink.requests.slice(before.sink);
    let endAt: number;
    if (plan.announced > 0) endAt = Math.max(...requests.map((request) => request.at));
    else if (options.untilTracked !== undefined) endAt = doneAt;
    else endAt = plan.expectedDetail > 0 ? this.lastDetailAt : doneAt;

    await sleep(this.options.settleMs ?? 300);
    const afterRedis = await snapshotRedis(admin);
    const afterProc = daemon.sample();
    const harnessCpu = process.cpuUsage(before.harnessCpu);
    const delta = commandDelta(before.redis, afterRedis);
    const phases = await this.phases(tickAt, requests);
    for (const [name, calls] of this.ownCalls) {
      const left = (delta.get(name) ?? 0) - calls;
      if (left > 0) delta.set(name, left);
      else delta.delete(name);
    }
    return {
      label,
      ms: endAt - tickAt,
      listCalls: sim.counts.list - before.list,
      detailCalls: sim.counts.detail - before.detail,
      expectedList: plan.expectedList,
      expectedDetail: plan.expectedDetail,
      notifications: requests.length,
      notificationsRefused: requests.filter((request) => request.answer !== 200).length,
      expectedNotifications: plan.announced,
      redisCommands: totalCalls(delta),
      redisByCommand: Object.fromEntries(topCommands(delta, 100)),
      redisCpuSeconds: afterRedis.cpuSeconds - before.redis.cpuSeconds,
      daemonCpuSeconds: (afterProc?.cpuSeconds ?? Number.NaN) - (before.proc?.cpuSeconds ?? Number.NaN),
      harnessCpuSeconds: (harnessCpu.user + harnessCpu.system) / 1e6,
      daemonPeakRssBytes: daemon.takePeak(),
      jobs: plan.jobsAfter,
      phases,
    };
  }

  /** Read after the cycle's last snapshot, so these reads count in no cycle. */
  private async phases(tickAt: number, requests: ReadonlyArray<{ at: number }>): Promise<CycleResult['phases']> {
    const { admin, keys, jobTypes } = this.options;
    const slot = Math.floor(tickAt / 1000) * 1000;
    const polls = await Promise.all(
      jobTypes.map((jobType) => admin.hmget(`${keys.prefix}:${QUEUE_NAMES.poll}:${pollTaskId({ jobType, slot })}`, 'processedOn', 'finishedOn')),
    );
    const since = (values: number[], pick: (...v: number[]) => number) => (values.length > 0 ? pick(...values) - tickAt : undefined);
    const starts = polls.map(([start]) => Number(start)).filter((value) => value > 0);
    const ends = polls.map(([, end]) => Number(end)).filter((value) => value > 0);
    const messages = requests.map((request) => request.at);
    return {
      pollStart: since(starts, Math.min),
      pollEnd: since(ends, Math.max),
      firstDetail: this.firstDetailAt > 0 ? this.firstDetailAt - tickAt : undefined,
      lastDetail: this.lastDetailAt > 0 ? this.lastDetailAt - tickAt : undefined,
      firstMessage: since(messages, Math.min),
      lastMessage: since(messages, Math.max),
    };
  }
}
