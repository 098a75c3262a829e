import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { primaryNodes, type RedisClient } from '../../../src/state/connection.js';
import { startRedisCluster, startRedisSentinel, type FailoverResult, type TestCluster, type TestSentinel } from '../../helpers/redis-topologies.js';
import { stringify } from 'yaml';
import { QUEUE_NAMES } from '../../../src/queue/names.js';
import { GemSimulator } from '../../../src/simulator/gem-simulator.js';
import { createRandom } from '../../../src/simulator/random.js';
import { Keys } from '../../../src/state/keys.js';
import { freePort } from '../../helpers/free-port.js';
import { startRedis, type TestRedis } from '../../helpers/redis.js';
import { startSlackApiServer, type SlackApiServer } from '../../../src/simulator/slack-api.js';
import { startTeamsSink, type TeamsSink } from '../../../src/simulator/teams-workflows-sink.js';
import { startWebhookReceiver, type WebhookReceiver } from '../../../src/simulator/webhook-receiver.js';
import { startSlackSink, type SlackSink } from '../../helpers/slack-sink.js';
import { startSmtpSink, type SmtpSink } from '../../helpers/smtp-sink.js';
import { DaemonProcess, REPO_ROOT, type DaemonLine } from './daemon-process.js';
import { JobDriver, type JobDriverOptions } from './job-driver.js';
import { CHANNELS, DeliveryLedger, type Channel, type FailoverRecord, type KillRecord, type LedgerTally, type SinkRecords } from './ledger.js';
import { scanForSecrets, type NamedSecret, type SecretScan } from './secret-scan.js';

export interface ChaosWorldOptions {
  /** Scenario name: names the log directory. */
  name: string;
  seed: number;
  /** YAML merged over the chaos defaults (which are merged over config/default.yaml). */
  config?: Record<string, unknown>;
  /** Channels the daemon delivers to and the ledger judges. Default Slack and email. */
  channels?: readonly Channel[];
  /** GEM_JOB_TYPES. Default ROAD_MATCHING and LANE_LEVEL_MATCHING. */
  jobTypes?: readonly string[];
  /** POLL_CRON. Default every second. */
  pollCron?: string;
  /**
   * The Redis the daemons use: one restartable server (default); a Redis Cluster of three masters
   * with a replica each, named to the daemon by two seeds that do not serve the prefix's slot,
   * with the default prefix ({gemwatch}); or a primary, a replica and three Sentinels.
   */
  topology?: 'standalone' | 'cluster' | 'sentinel';
}

/** The channel Slack app mode posts to in a world (the Web API simulator's default one). */
export const SLACK_APP_CHANNEL_NAME = '#gem-alerts';

/** The cluster or Sentinel group of a world, when it has one. */
export type WorldTopology = { kind: 'cluster'; cluster: TestCluster } | { kind: 'sentinel'; sentinel: TestSentinel };

/**
 * Settings that make faults resolve in seconds rather than minutes, so a scenario sees many of
 * them: short API and delivery timeouts, quick retries, a fast sweeper, and Slack's per-webhook
 * pace raised (it still parks tasks at the rate gate, which is part of what is tested). Bursts are
 * not grouped, so each transition is one message the ledger can count. Slack app mode shows jobs
 * live, so each job's message is posted at its first event and updated at the later ones: the
 * ledger then judges the one message, its updates and its end reply, not only a post.
 */
const CHAOS_DEFAULTS = {
  gem: { timeoutMs: 3_000 },
  poll: { outboxGraceMs: 5_000, rateLimit: { max: 100, durationMs: 1_000 } },
  notify: { attempts: 40, backoffMs: 250, maxBackoffMs: 3_000, slackPerSecond: 20, concurrency: 4 },
  slack: { timeoutMs: 3_000 },
  teams: { timeoutMs: 3_000 },
  webhook: { timeoutMs: 3_000 },
  slackApp: { timeoutMs: 3_000, liveProgress: true },
  email: { connectionTimeoutMs: 3_000, socketTimeoutMs: 5_000 },
  alerts: { burstWindowSec: 0 },
};

function merge(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(over)) {
    const current = out[key];
    const isTree = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
    out[key] = isTree(current) && isTree(value) ? merge(current, value) : value;
  }
  return out;
}

/** Waits until `check` holds, testing every 100 ms; the error names `what` and `detail()`. */
export async function until(check: () => boolean | Promise<boolean>, timeoutMs: number, what: string, detail?: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${detail ? `: ${detail()}` : ''}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/**
 * Everything one scenario runs against: its own redis-server (AOF on, restartable on the same port),
 * the GEM simulator, a Slack sink, a real SMTP server requiring a login, the Teams, signed webhook
 * and Slack Web API simulators, the ledger, and the daemon replicas as separate processes. Secrets are distinctive strings, so the scan can find them.
 */
export class ChaosWorld {
  readonly ledger: DeliveryLedger;
  readonly replicas: DaemonProcess[] = [];
  readonly kills: KillRecord[] = [];
  readonly failovers: FailoverRecord[] = [];
  readonly keys: Keys;
  readonly secrets: NamedSecret[];
  readonly logDir: string;
  /** Set when the scenario passed: its logs are then removed on close (a failure keeps them). */
  passed = false;
  private readonly client: RedisClient;
  private readonly queues: Queue[];
  private readonly env: Record<string, string>;
  private readonly ports = new Map<DaemonProcess, number>();

  private constructor(
    readonly options: ChaosWorldOptions,
    readonly redis: TestRedis,
    /** The cluster or Sentinel group, when the world runs on one (`redis` then only names its URL). */
    readonly topology: WorldTopology | undefined,
    readonly sim: GemSimulator,
    readonly slack: SlackSink,
    readonly smtp: SmtpSink,
    readonly teams: TeamsSink,
    readonly receiver: WebhookReceiver,
    /** Slack's Web API for Slack app mode (channel 'slack-app'); `failNext` scripts its faults. */
    readonly slackApi: SlackApiServer,
    secrets: { apiKey: string; bearerToken: string; webhookUrl: string; webhookSecret: string; smtpPassword: string; teamsSig: string; signingSecret: string; botToken: string },
    configFile: string,
    logDir: string,
  ) {
    this.ledger = new DeliveryLedger(options.channels ?? CHANNELS);
    // On a cluster the daemon runs with the default prefix, which is then {gemwatch}.
    const prefix = topology?.kind === 'cluster' ? '{gemwatch}' : 'chaos';
    this.keys = new Keys(prefix);
    this.logDir = logDir;
    this.secrets = [
      { name: 'GEM API key', value: secrets.apiKey },
      { name: 'bearer token', value: secrets.bearerToken },
      { name: 'Slack webhook URL', value: secrets.webhookUrl },
      { name: 'Slack webhook secret path', value: secrets.webhookSecret },
      { name: 'SMTP password', value: secrets.smtpPassword },
      { name: 'Teams Workflows URL', value: teams.webhookUrl(secrets.teamsSig) },
      { name: 'Teams Workflows sig', value: secrets.teamsSig },
      { name: 'webhook signing secret', value: secrets.signingSecret.slice('whsec_'.length) },
      { name: 'Slack bot token', value: secrets.botToken },
    ];
    const channels = options.channels ?? CHANNELS;
    this.env = {
      GEM_API_KEY: secrets.apiKey,
      GEM_API_BASE_URL: sim.baseUrl,
      GEM_BEARER_TOKEN: secrets.bearerToken,
      GEM_JOB_TYPES: (options.jobTypes ?? ['ROAD_MATCHING', 'LANE_LEVEL_MATCHING']).join(','),
      REDIS_URL: redis.url,
      ...(topology?.kind === 'cluster' ? {} : { GEM_WATCH_PREFIX: prefix }),
      POLL_CRON: options.pollCron ?? '* * * * * *',
      DIGEST_CRON: '0 0 1 1 *',
      SLACK_WEBHOOK_URL: channels.includes('slack') ? secrets.webhookUrl : '',
      SMTP_URL: channels.includes('email') ? smtp.url({ user: 'chaos', pass: secrets.smtpPassword }) : '',
      TEAMS_WEBHOOK_URL: channels.includes('teams') ? teams.webhookUrl(secrets.teamsSig) : '',
      WEBHOOK_URL: channels.includes('webhook') ? receiver.url : '',
      WEBHOOK_SECRET: channels.includes('webhook') ? secrets.signingSecret : '',
      SLACK_BOT_TOKEN: channels.includes('slack-app') ? secrets.botToken : '',
      // Unset rather than empty when off: an empty SLACK_API_URL is not a URL.
      ...(channels.includes('slack-app') ? { SLACK_CHANNEL: SLACK_APP_CHANNEL_NAME, SLACK_API_URL: slackApi.apiUrl } : {}),
      EMAIL_TO: 'ops@example.com',
      EMAIL_FROM: 'gem-watch@example.com',
      GEM_WATCH_CONFIG: configFile,
      LOG_LEVEL: 'debug',
      LOG_PRETTY: 'false',
    };
    if (topology?.kind === 'cluster') {
      this.client = topology.cluster.client();
    } else if (topology?.kind === 'sentinel') {
      this.client = topology.sentinel.client();
    } else {
      this.client = new Redis(redis.url, { maxRetriesPerRequest: null, retryStrategy: () => 200 });
      this.client.on('error', () => {});
    }
    this.queues = [QUEUE_NAMES.notify, QUEUE_NAMES.detail].map((name) => {
      const queue = new Queue(name, { connection: this.client, prefix });
      queue.on('error', () => {});
      return queue;
    });
  }

  static async create(options: ChaosWorldOptions): Promise<ChaosWorld> {
    const random = createRandom(options.seed ^ 0x5eed);
    const token = (label: string) => `${label}${Array.from({ length: 24 }, () => random.int(0, 35).toString(36)).join('')}`;
    const secrets = {
      apiKey: token('chaos-api-key-'),
      bearerToken: token('chaos-bearer-'),
      webhookSecret: token('chaosHookSecret'),
      smtpPassword: token('chaos-smtp-pass-'),
      webhookUrl: '',
      teamsSig: token('chaosTeamsSig'),
      signingSecret: `whsec_${Buffer.from(Array.from({ length: 32 }, () => random.int(0, 255))).toString('base64')}`,
      botToken: token('xoxb-chaos'),
    };
    const { redis, topology } = await startWorldRedis(options.topology ?? 'standalone');
    const sim = new GemSimulator({ apiKey: secrets.apiKey, bearerToken: secrets.bearerToken, seed: options.seed });
    await sim.start();
    const slack = await startSlackSink();
    secrets.webhookUrl = slack.webhookUrl(secrets.webhookSecret);
    const smtp = await startSmtpSink({ auth: { user: 'chaos', pass: secrets.smtpPassword } });
    const teams = await startTeamsSink();
    const receiver = await startWebhookReceiver({ secret: secrets.signingSecret });
    const slackApi = await startSlackApiServer({ token: secrets.botToken, channels: { [SLACK_APP_CHANNEL_NAME.slice(1)]: 'C0GEMALERTS' } });
    const logDir = join(tmpdir(), 'gem-watch-chaos', `${options.name.replace(/[^a-z0-9]+/gi, '-')}-${process.pid}`);
    mkdirSync(logDir, { recursive: true });
    const configFile = join(logDir, 'config.yaml');
    writeFileSync(configFile, stringify(merge(CHAOS_DEFAULTS, options.config ?? {})));
    return new ChaosWorld(options, redis, topology, sim, slack, smtp, teams, receiver, slackApi, secrets, configFile, logDir);
  }

  /** A new replica (not started): its own HTTP port and log file. */
  async addReplica(name = `r${this.replicas.length + 1}`): Promise<DaemonProcess> {
    const port = await freePort();
    const replica = new DaemonProcess({ name, env: { ...this.env, HTTP_PORT: String(port) }, logFile: join(this.logDir, `${name}.log`) });
    this.ports.set(replica, port);
    this.replicas.push(replica);
    return replica;
  }

  /** Adds and starts `count` replicas. */
  async startReplicas(count: number): Promise<DaemonProcess[]> {
    const started: DaemonProcess[] = [];
    for (let i = 0; i < count; i += 1) {
      const replica = await this.addReplica();
      await replica.start();
      started.push(replica);
    }
    return started;
  }

  /** SIGKILLs a replica and records when, for the ledger's crash-window analysis. */
  async kill(replica: DaemonProcess): Promise<void> {
    if (!replica.running) return;
    const life = replica.lives;
    this.kills.push({ replica: replica.name, life, at: Date.now() });
    await replica.kill('SIGKILL');
  }

  /**
   * Fails the primary over: SENTINEL FAILOVER, or CLUSTER FAILOVER on a replica of the master that
   * serves the prefix's slot. Recorded for the ledger's failover window. Answers the ports.
   */
  async failover(): Promise<FailoverResult> {
    const at = Date.now();
    let moved: FailoverResult;
    if (this.topology?.kind === 'sentinel') moved = await this.topology.sentinel.failover();
    else if (this.topology?.kind === 'cluster') moved = await this.topology.cluster.failover(await this.topology.cluster.slotOf(this.keys.jobs()));
    else throw new Error('a standalone world has nothing to fail over');
    this.failovers.push({ what: `${moved.from} → ${moved.to}`, at, switchedAt: moved.switchedAt });
    return moved;
  }

  /** SIGKILLs the Sentinel-managed primary (see TestSentinel.crashPrimary); recorded like a failover. */
  async crashPrimary(): Promise<FailoverResult> {
    if (this.topology?.kind !== 'sentinel') throw new Error('only a Sentinel world has a primary to crash');
    const at = Date.now();
    const moved = await this.topology.sentinel.crashPrimary();
    this.failovers.push({ what: `${moved.from} crashed → ${moved.to}`, at, switchedAt: moved.switchedAt });
    return moved;
  }

  /** The hash slot of every key of this world (a cluster world only). */
  async keySlots(): Promise<Map<number, number>> {
    if (this.topology?.kind !== 'cluster') throw new Error('slots exist on a cluster only');
    const slots = new Map<number, number>();
    for (const key of await this.allKeys()) {
      const slot = await this.topology.cluster.slotOf(key);
      slots.set(slot, (slots.get(slot) ?? 0) + 1);
    }
    return slots;
  }

  /** Like `until`, but fails at once when a daemon exits on its own meanwhile. */
  async until(check: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
    await until(
      async () => {
        this.assertNoUnexpectedExit();
        return check();
      },
      timeoutMs,
      what,
    );
  }

  /** A job driver on this world's simulator and ledger. */
  driver(options: Partial<Omit<JobDriverOptions, 'sim' | 'ledger'>> = {}): JobDriver {
    return new JobDriver({ sim: this.sim, ledger: this.ledger, seed: this.options.seed, jobTypes: this.options.jobTypes, ...options });
  }

  /** Every line of every replica. */
  lines(): DaemonLine[] {
    return this.replicas.flatMap((replica) => replica.lines);
  }

  /**
   * Waits for the first sync of every job type: until then a terminal job would be recorded as
   * history, silently, and the scenario's transitions must all be announced.
   */
  async waitForFirstSync(timeoutMs = 60_000): Promise<void> {
    const types = this.options.jobTypes ?? ['ROAD_MATCHING', 'LANE_LEVEL_MATCHING'];
    await until(async () => (await this.client.exists(...types.map((type) => this.keys.synced(type)))) === types.length, timeoutMs, 'the first sync');
  }

  /** How far the first sync is: jobs in the status indexes, and job types whose sync is complete. */
  async firstSyncProgress(): Promise<{ indexed: number; synced: number }> {
    const types = this.options.jobTypes ?? ['ROAD_MATCHING', 'LANE_LEVEL_MATCHING'];
    const [indexed, synced] = await Promise.all([
      Promise.all(types.map((type) => this.client.hlen(this.keys.statusIndex(type)))).then((counts) => counts.reduce((a, b) => a + b, 0)),
      this.client.exists(...types.map((type) => this.keys.synced(type))),
    ]);
    return { indexed, synced };
  }

  /** Waits until every transition made reached every channel. */
  async waitDelivered(timeoutMs: number): Promise<void> {
    await until(
      () => {
        this.assertNoUnexpectedExit();
        return this.ledger.complete(this.sinkRecords());
      },
      timeoutMs,
      'every transition delivered',
      () => `${this.ledger.missing(this.sinkRecords()).slice(0, 10).join('; ')} (logs in ${this.logDir})`,
    );
  }

  /**
   * Waits until nothing more can be delivered: no notify task waiting, delayed or active, no
   * detail task in flight, and nothing in the outbox. After this a copy that has not arrived never
   * will, so duplicates are counted on a settled system rather than after a sleep.
   */
  async waitQuiet(timeoutMs: number): Promise<void> {
    await until(
      async () => {
        const [notify, detail] = await Promise.all(this.queues.map((queue) => queue.getJobCounts('waiting', 'delayed', 'active', 'prioritized', 'paused', 'waiting-children')));
        const busy = (counts: Record<string, number>) => Object.values(counts).reduce((a, b) => a + b, 0);
        const outbox = await this.client.zcard(this.keys.outbox());
        return busy(notify!) === 0 && (detail!.active ?? 0) + (detail!.waiting ?? 0) === 0 && outbox === 0;
      },
      timeoutMs,
      'the queues to settle',
    );
  }

  /** Detail tasks by state (waiting, prioritized, delayed, paused, active). */
  async detailCounts(): Promise<Record<string, number>> {
    return this.queues[1]!.getJobCounts('waiting', 'prioritized', 'delayed', 'paused', 'active');
  }

  /** The replica's /readyz answer: its status and its JSON body (undefined when nothing answers). */
  async readyzReport(replica: DaemonProcess): Promise<{ status: number; body: unknown } | undefined> {
    const port = this.ports.get(replica);
    try {
      const response = await fetch(`http://127.0.0.1:${port}/readyz`, { signal: AbortSignal.timeout(2_000) });
      const text = await response.text();
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch {
        body = text;
      }
      return { status: response.status, body };
    } catch {
      return undefined;
    }
  }

  /**
   * What the replica's HTTP server shows whoever may look, for the secret scan: the status page,
   * /readyz, /metrics, and bull-board's listing of every queue's tasks (their data, failed reasons
   * and stacks) in the states that keep them. A page that does not answer is left out.
   */
  async pages(replica: DaemonProcess): Promise<Array<{ path: string; status: number; body: string }>> {
    const port = this.ports.get(replica);
    const boards = Object.values(QUEUE_NAMES).flatMap((queue) =>
      ['completed', 'failed', 'delayed'].map((status) => `/queues/api/queues?activeQueue=${queue}&status=${status}&jobsPerPage=100`),
    );
    const out: Array<{ path: string; status: number; body: string }> = [];
    for (const path of ['/', '/readyz', '/metrics', ...boards]) {
      try {
        const response = await fetch(`http://127.0.0.1:${port}${path}`, { signal: AbortSignal.timeout(10_000) });
        out.push({ path, status: response.status, body: await response.text() });
      } catch {
        // Not serving (an older build, a replica down): nothing to scan there.
      }
    }
    return out;
  }

  /** Notify tasks BullMQ gave up on (each one is a lost delivery). */
  async failedNotifyTasks(): Promise<string[]> {
    const failed = await this.queues[0]!.getFailed(0, 100);
    return failed.map((task) => `${task.id}: ${task.failedReason}`);
  }

  /** Every key and value in this world's Redis, as one text, for the secret scan. */
  async dumpRedis(): Promise<string> {
    const parts: string[] = [];
    for (const key of await this.allKeys()) {
      parts.push(key);
      const type = await this.client.type(key);
      if (type === 'string') parts.push((await this.client.get(key)) ?? '');
      else if (type === 'hash') parts.push(JSON.stringify(await this.client.hgetall(key)));
      else if (type === 'list') parts.push(JSON.stringify(await this.client.lrange(key, 0, -1)));
      else if (type === 'set') parts.push(JSON.stringify(await this.client.smembers(key)));
      else if (type === 'zset') parts.push(JSON.stringify(await this.client.zrange(key, 0, -1)));
      else if (type === 'stream') parts.push(JSON.stringify(await this.client.xrange(key, '-', '+')));
    }
    return parts.join('\n');
  }

  /** What every sink received so far. */
  sinkRecords(): SinkRecords {
    return { slack: this.slack.requests, mails: this.smtp.mails, teams: this.teams.requests, webhook: this.receiver.requests, slackApp: this.slackApi.calls };
  }

  /** Every key of this world's Redis: SCAN on each master of a cluster, since it answers for one node. */
  async allKeys(): Promise<string[]> {
    const keys: string[] = [];
    for (const node of primaryNodes(this.client)) {
      let cursor = '0';
      do {
        const [next, found] = await node.scan(cursor, 'COUNT', 500);
        cursor = next;
        keys.push(...found);
      } while (cursor !== '0');
    }
    return keys;
  }

  tally(): LedgerTally {
    return this.ledger.tally({ ...this.sinkRecords(), lines: this.lines(), kills: this.kills, failovers: this.failovers });
  }

  scan(): SecretScan {
    return scanForSecrets(this.lines(), this.secrets);
  }

  /**
   * Whether the daemon serves /readyz at all: the harness also runs against builds older than the
   * HTTP server (src/observability/http-server.ts), which serve nothing there.
   */
  static httpServerExists(): boolean {
    return existsSync(join(REPO_ROOT, 'src/observability/http-server.ts'));
  }

  /** The replica's /readyz status, or 'absent' when nothing answers there. */
  async readyz(replica: DaemonProcess): Promise<number | 'absent'> {
    const port = this.ports.get(replica);
    try {
      const response = await fetch(`http://127.0.0.1:${port}/readyz`, { signal: AbortSignal.timeout(2_000) });
      await response.body?.cancel();
      return response.status === 404 ? 'absent' : response.status;
    } catch {
      return 'absent';
    }
  }

  /** Exits no scenario step caused. */
  unexpectedExits(): string[] {
    return this.replicas.flatMap((replica) =>
      replica.unexpectedExits().map((exit) => `${exit.replica}#${exit.life} exited on its own (code ${exit.code}, signal ${exit.signal}):\n${replica.tail(15)}`),
    );
  }

  assertNoUnexpectedExit(): void {
    const exits = this.unexpectedExits();
    if (exits.length > 0) throw new Error(exits.join('\n'));
  }

  async close(): Promise<void> {
    await Promise.all(this.replicas.map((replica) => replica.stop(15_000)));
    await Promise.all(this.queues.map((queue) => queue.close().catch(() => {})));
    this.client.disconnect();
    await this.slack.close();
    await this.smtp.close();
    await this.teams.close();
    await this.receiver.close();
    await this.slackApi.close();
    await this.sim.stop();
    await this.redis.close();
    if (this.topology?.kind === 'cluster') await this.topology.cluster.close();
    if (this.topology?.kind === 'sentinel') await this.topology.sentinel.close();
    if (this.passed && !process.env.CHAOS_KEEP_LOGS) rmSync(this.logDir, { recursive: true, force: true });
  }
}

/**
 * The Redis of a world. A cluster or Sentinel group is wrapped as a TestRedis that names its URL
 * (it cannot be stopped as one server; its scenario fails a node over instead).
 */
async function startWorldRedis(kind: 'standalone' | 'cluster' | 'sentinel'): Promise<{ redis: TestRedis; topology: WorldTopology | undefined }> {
  if (kind === 'standalone') {
    const redis = await startRedis({ aof: true });
    if (!redis.owned) {
      await redis.close();
      throw new Error('the chaos suite stops and restarts its own redis-server: unset TEST_REDIS_URL and REDIS_URL to run it');
    }
    return { redis, topology: undefined };
  }
  const wrap = (url: string): TestRedis => ({
    url,
    port: 0,
    owned: true,
    stop: async () => {
      throw new Error(`a ${kind} world fails nodes over instead of stopping its Redis`);
    },
    start: async () => {},
    close: async () => {},
    client: () => {
      throw new Error(`a ${kind} world has no single-server client`);
    },
  });
  if (kind === 'sentinel') {
    const sentinel = await startRedisSentinel({ sentinels: 3 });
    return { redis: wrap(sentinel.url()), topology: { kind, sentinel } };
  }
  const cluster = await startRedisCluster({ masters: 3, replicas: 1 });
  // Seeds that do not serve the prefix's slot: the daemon must follow MOVED from its first command.
  const owner = await cluster.masterOf(await cluster.slotOf(new Keys('{gemwatch}').jobs()));
  const seeds = (await cluster.masters()).filter((port) => port !== owner);
  return { redis: wrap(cluster.url(seeds)), topology: { kind, cluster } };
}
