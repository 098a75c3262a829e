import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { JobStatistics } from '../domain/job.js';
import { createRandom, type Random } from './random.js';

/**
 * A faithful GEM API server, for tests, the benchmark and the demo. It serves the list and the
 * detail endpoint as TomTom's List jobs and Get job pages document them, checks the same headers,
 * holds a job table the caller mutates (or that advances by itself), and injects faults on demand.
 */

export type SimStatus = 'queued' | 'running' | 'finished' | 'failed' | 'cancelled';

export interface SimJob {
  /** Numeric strings are sent as integers by the list, as the docs show. */
  id: string;
  jobType: string;
  status: SimStatus;
  progress?: number;
  storageId: string;
  inputFile: string;
  /** Sent when finished; else derived by the docs' rule. */
  outputFile?: string;
  overtureRelease?: string;
  orbisVersion?: string;
  createdAt: string;
  modifiedAt: string;
  statistics?: JobStatistics;
  /** Failure message, sent as `message` (the real field name is undocumented). */
  message?: string;
  /** Size in road segments: the simulator's own clock uses it for duration. */
  numRoads?: number;
  /** A status word sent verbatim instead of the mapped one (to test unknown statuses). */
  rawStatusOverride?: string;
  /** A status word sent in list answers only: the List jobs page has no word for a cancelled job. */
  listStatusOverride?: string;
  /** Extra fields merged into both answers (hostile-data tests). */
  extra?: Record<string, unknown>;
  /** Left out of list answers while the detail endpoint still knows it (a list that drops jobs). */
  unlisted?: boolean;
}

/**
 * `emptyList` answers 200 with `{"jobs": []}`: what a GEM hiccup, a wrong job type or a token of
 * another tenant look like to the list call.
 */
export type FaultKind = 'serverError' | 'rateLimited' | 'timeout' | 'slow' | 'malformed' | 'huge' | 'emptyList';

export interface FaultPlan {
  /** Probability 0–1 that a request gets a fault. */
  rate: number;
  kinds: FaultKind[];
  /** Delay of `slow` answers, milliseconds. Default 2,000. */
  slowMs?: number;
  /** Retry-After of `rateLimited` answers, seconds. Default 1. */
  retryAfterSec?: number;
  /** Only these endpoints; default both. */
  endpoints?: Array<'list' | 'detail'>;
}

export interface GemSimulatorOptions {
  /** The API key accepted. Default `sim-key`. */
  apiKey?: string;
  /** The bearer token accepted; undefined = no Authorization check. */
  bearerToken?: string;
  /** Shape of detail answers: `doc` (camelCase, the Get job page) or `list` (snake_case, the public example). */
  detailShape?: 'doc' | 'list';
  /** Path the API lives under. Default /maps/orbis/platform, as on api.tomtom.com. */
  basePath?: string;
  /** Seed of fault injection and auto-advance. Default 1. */
  seed?: number;
  host?: string;
  port?: number;
}

export interface RequestCounts {
  list: number;
  detail: number;
  /** Answers by HTTP status. */
  byStatus: Record<string, number>;
}

const LIST_STATUS: Record<SimStatus, string> = {
  queued: 'REQUESTED',
  running: 'IN_PROGRESS',
  finished: 'SUCCESS',
  failed: 'FAILED',
  cancelled: 'CANCELLED',
};

export class GemSimulator {
  readonly apiKey: string;
  private bearerToken: string | undefined;
  private readonly jobs = new Map<string, SimJob>();
  /** Serialised list entries by job object; see listEntry. */
  private readonly listEntries = new WeakMap<SimJob, string>();
  private readonly server: Server;
  private readonly basePath: string;
  private readonly random: Random;
  private faultPlan: FaultPlan | undefined;
  private readonly queuedFaults: Array<{ kind: FaultKind | number; endpoint?: 'list' | 'detail' }> = [];
  private autoTimer: NodeJS.Timeout | undefined;
  private nextId = 100_000_000;
  detailShape: 'doc' | 'list';
  readonly counts: RequestCounts = { list: 0, detail: 0, byStatus: {} };
  /** Called for every request with its endpoint, after the answer is chosen. */
  onRequest?: (endpoint: 'list' | 'detail' | 'other', status: number) => void;

  constructor(private readonly options: GemSimulatorOptions = {}) {
    this.apiKey = options.apiKey ?? 'sim-key';
    this.bearerToken = options.bearerToken;
    this.detailShape = options.detailShape ?? 'doc';
    this.basePath = options.basePath ?? '/maps/orbis/platform';
    this.random = createRandom(options.seed ?? 1);
    this.server = createServer((request, response) => {
      this.handle(request, response).catch(() => {
        if (!response.headersSent) response.writeHead(500);
        response.end();
      });
    });
    this.server.keepAliveTimeout = 5_000;
  }

  /** Starts listening; resolves with the base URL to give gem-watch (GEM_API_BASE_URL). */
  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(this.options.port ?? 0, this.options.host ?? '127.0.0.1', resolve));
    return this.baseUrl;
  }

  get baseUrl(): string {
    const address = this.server.address() as AddressInfo;
    return `http://${address.address}:${address.port}${this.basePath}`;
  }

  async stop(): Promise<void> {
    this.stopAutoAdvance();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** Token rotation: from now on only this token is accepted. */
  setBearerToken(token: string | undefined): void {
    this.bearerToken = token;
  }

  /** Adds or replaces a job; unspecified fields get plausible values. Returns the job. */
  upsertJob(partial: Partial<SimJob> & { id?: string }): SimJob {
    const now = new Date().toISOString();
    const id = partial.id ?? String(this.nextId++);
    const existing = this.jobs.get(id);
    const job: SimJob = {
      jobType: 'ROAD_MATCHING',
      status: 'queued',
      storageId: 'storage-001',
      inputFile: `roads_${id}.parquet`,
      createdAt: now,
      modifiedAt: now,
      ...existing,
      ...partial,
      id,
    };
    if (job.jobType === 'ROAD_MATCHING' && !job.overtureRelease && !job.orbisVersion) job.overtureRelease = '2026-01-21.0';
    if (job.jobType === 'LANE_LEVEL_MATCHING' && !job.orbisVersion && !job.overtureRelease) job.orbisVersion = '123456.1';
    this.jobs.set(id, job);
    return job;
  }

  /**
   * Moves a job to a status, as GEM would: running gets progress, finished gets statistics and an
   * output file, failed gets a message.
   */
  setStatus(id: string, status: SimStatus, extra: Partial<SimJob> = {}): SimJob {
    const job = this.jobs.get(id);
    if (!job) throw new Error(`simulator has no job ${id}`);
    const update: Partial<SimJob> = { status, modifiedAt: new Date().toISOString(), ...extra };
    if (status === 'running' && update.progress === undefined) update.progress = job.progress ?? 0;
    if (status === 'finished') {
      update.progress = 100;
      update.statistics ??= sampleStatistics(this.random, job.numRoads);
    }
    if (status === 'failed') update.message ??= 'Input validation failed: column "geometry" is missing';
    return this.upsertJob({ ...job, ...update, id });
  }

  /**
   * The job as the simulator holds it. Treat it as read-only: change jobs through upsertJob or
   * setStatus, which the list's cached entries (listEntry) rely on.
   */
  getJob(id: string): SimJob | undefined {
    return this.jobs.get(id);
  }

  allJobs(): SimJob[] {
    return [...this.jobs.values()];
  }

  /** The job disappears from both endpoints (404 on detail). */
  removeJob(id: string): void {
    this.jobs.delete(id);
  }

  clearJobs(): void {
    this.jobs.clear();
  }

  /** Random faults from now on; undefined turns them off. */
  setFaults(plan: FaultPlan | undefined): void {
    this.faultPlan = plan;
  }

  /**
   * The next `count` requests (to `endpoint`, or any) answer with this fault, or with this HTTP
   * status when a number is given.
   */
  failNext(kind: FaultKind | number, count = 1, endpoint?: 'list' | 'detail'): void {
    for (let i = 0; i < count; i += 1) this.queuedFaults.push({ kind, endpoint });
  }

  /**
   * Moves jobs along by themselves every `everyMs`: queued jobs start, running jobs progress by
   * `step` percent, and a job at 100% finishes (or fails, with probability `failRate`).
   */
  startAutoAdvance(everyMs: number, options: { step?: number; failRate?: number } = {}): void {
    this.stopAutoAdvance();
    const step = options.step ?? 25;
    const failRate = options.failRate ?? 0.25;
    this.autoTimer = setInterval(() => {
      for (const job of this.jobs.values()) {
        if (job.status === 'queued') this.setStatus(job.id, 'running', { progress: 0 });
        else if (job.status === 'running') {
          const progress = Math.min(100, (job.progress ?? 0) + step);
          if (progress < 100) this.setStatus(job.id, 'running', { progress });
          else if (this.random.next() < failRate) this.setStatus(job.id, 'failed');
          else this.setStatus(job.id, 'finished');
        }
      }
    }, everyMs);
    this.autoTimer.unref();
  }

  stopAutoAdvance(): void {
    if (this.autoTimer) clearInterval(this.autoTimer);
    this.autoTimer = undefined;
  }

  // --- HTTP ---

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://sim');
    const path = url.pathname.startsWith(this.basePath) ? url.pathname.slice(this.basePath.length) : undefined;
    const detail = path === undefined ? null : /^\/gem\/jobs?\/([^/]+)$/.exec(path);
    const endpoint: 'list' | 'detail' | 'other' = path === '/gem/jobs' ? 'list' : detail ? 'detail' : 'other';
    if (endpoint !== 'other') this.counts[endpoint] += 1;

    const send = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      this.counts.byStatus[status] = (this.counts.byStatus[status] ?? 0) + 1;
      this.onRequest?.(endpoint, status);
      const text = typeof body === 'string' ? body : JSON.stringify(body);
      response.writeHead(status, { 'content-type': 'application/json', ...headers });
      response.end(text);
    };

    if (request.method !== 'GET' || endpoint === 'other') {
      return send(404, { error: 'Not Found', message: `no route for ${request.method} ${url.pathname}` });
    }
    if (request.headers['tomtom-api-key'] !== this.apiKey) {
      return send(401, { error: 'Unauthorized', message: 'Invalid credentials' });
    }
    if (this.bearerToken !== undefined && request.headers.authorization !== `Bearer ${this.bearerToken}`) {
      return send(401, { error: 'Unauthorized', message: 'Invalid credentials' });
    }
    if (await this.applyFault(endpoint, send, response)) return;

    if (endpoint === 'list') {
      const jobType = url.searchParams.get('job_type');
      if (!jobType) return send(400, { error: 'Bad Request', message: 'job_type is required' });
      const entries: string[] = [];
      for (const job of this.jobs.values()) if (job.jobType === jobType && !job.unlisted) entries.push(this.listEntry(job));
      return send(200, `{"jobs":[${entries.join(',')}]}`);
    }
    if (!request.headers['x-version']) {
      return send(400, { error: 'Bad Request', message: 'X-Version header is required' });
    }
    const id = decodeURIComponent(detail![1]!);
    const job = this.jobs.get(id);
    if (!job) return send(404, { error: 'Not Found', message: 'Job not found' });
    return send(200, this.detailShape === 'doc' ? this.docShape(job) : this.listShape(job, true));
  }

  private async applyFault(
    endpoint: 'list' | 'detail',
    send: (status: number, body: unknown, headers?: Record<string, string>) => void,
    response: ServerResponse,
  ): Promise<boolean> {
    let kind: FaultKind | number | undefined;
    const queued = this.queuedFaults.findIndex((fault) => !fault.endpoint || fault.endpoint === endpoint);
    if (queued >= 0) kind = this.queuedFaults.splice(queued, 1)[0]!.kind;
    else if (this.faultPlan && (!this.faultPlan.endpoints || this.faultPlan.endpoints.includes(endpoint))) {
      if (this.random.next() < this.faultPlan.rate) kind = this.random.pick(this.faultPlan.kinds);
    }
    if (kind === undefined) return false;
    if (typeof kind === 'number') {
      send(kind, { error: 'Injected', message: `injected ${kind}` });
      return true;
    }
    switch (kind) {
      case 'serverError':
        send(this.random.next() < 0.5 ? 500 : 503, { error: 'Internal Server Error', message: 'Server-side issue' });
        return true;
      case 'rateLimited':
        send(429, { error: 'Too Many Requests' }, { 'retry-after': String(this.faultPlan?.retryAfterSec ?? 1) });
        return true;
      case 'timeout':
        // Never answers; the client's timeout ends it. The socket is destroyed on stop().
        return new Promise<boolean>((resolve) => response.on('close', () => resolve(true)));
      case 'slow':
        await new Promise((resolve) => setTimeout(resolve, this.faultPlan?.slowMs ?? 2_000));
        return false;
      case 'malformed':
        send(200, '{"jobs": [{"job_id": 1, "status": "SUCC');
        return true;
      case 'huge':
        send(200, { jobs: [], padding: 'x'.repeat(5 * 1024 * 1024) });
        return true;
      case 'emptyList':
        send(200, '{"jobs": []}');
        return true;
    }
  }

  /**
   * One job's list entry as JSON. Every change to a job (upsertJob, setStatus) makes a new SimJob
   * object, so an entry is serialised once per version of its job, not on every list call: with
   * 50,000 jobs the simulator would otherwise spend more time building the list than gem-watch
   * spends reading it (the benchmark measures gem-watch, not the simulator).
   */
  private listEntry(job: SimJob): string {
    let entry = this.listEntries.get(job);
    if (entry === undefined) {
      entry = JSON.stringify(this.listShape(job));
      this.listEntries.set(job, entry);
    }
    return entry;
  }

  /** The list endpoint's shape: snake_case, integer ids, upper-case statuses, statistics null. */
  private listShape(job: SimJob, asDetail = false): Record<string, unknown> {
    const numericId = /^\d{1,15}$/.test(job.id);
    const body: Record<string, unknown> = {
      job_type: job.jobType,
      ...(job.overtureRelease ? { overture_release: job.overtureRelease } : {}),
      ...(job.orbisVersion ? { orbis_version: job.orbisVersion } : {}),
      input_filename: job.inputFile,
      job_id: numericId ? Number(job.id) : job.id,
      requested_at: job.createdAt,
      result_filename: job.status === 'finished' ? (job.outputFile ?? job.inputFile.replace(/\.parquet$/, '.results.parquet')) : null,
      // The list documents statistics as always null; the public detail example fills it.
      statistics: asDetail && job.status === 'finished' ? statisticsBody(job.statistics) : null,
      status: job.rawStatusOverride ?? (asDetail ? undefined : job.listStatusOverride) ?? LIST_STATUS[job.status],
      storage_id: job.storageId,
      ...(asDetail && job.message && job.status === 'failed' ? { message: job.message } : {}),
    };
    return { ...body, ...job.extra };
  }

  /** The detail page's shape: camelCase, string ids, lower-case statuses, progress. */
  private docShape(job: SimJob): Record<string, unknown> {
    const body: Record<string, unknown> = {
      jobRunId: job.id,
      storageId: job.storageId,
      inputFileName: job.inputFile,
      ...(job.status === 'finished' ? { outputFileName: job.outputFile ?? job.inputFile.replace(/\.parquet$/, '_matched.parquet') } : {}),
      matchingType: job.jobType === 'LANE_LEVEL_MATCHING' ? 'lane' : 'road',
      ...(job.overtureRelease ? { overtureRelease: job.overtureRelease } : {}),
      ...(job.orbisVersion ? { orbisVersion: job.orbisVersion } : {}),
      status: job.rawStatusOverride ?? job.status,
      ...(job.status === 'running' ? { progress: job.progress ?? 0 } : {}),
      createdAt: job.createdAt,
      modifiedAt: job.modifiedAt,
      ...(job.status === 'finished' ? { statistics: statisticsBody(job.statistics) } : {}),
      ...(job.status === 'failed' && job.message ? { message: job.message } : {}),
    };
    return { ...body, ...job.extra };
  }
}

/** Statistics as GEM sends them: percentages as strings with %, the rest as numbers. */
function statisticsBody(stats: JobStatistics | undefined): Record<string, unknown> | null {
  if (!stats) return null;
  const percent = (value: number | undefined) => (value === undefined ? undefined : `${value}%`);
  return {
    roads_matched: percent(stats.roadsMatchedPct),
    roads_unmatched: percent(stats.roadsUnmatchedPct),
    roads_fully_matched: percent(stats.roadsFullyMatchedPct),
    roads_partially_matched: percent(stats.roadsPartiallyMatchedPct),
    confidence_threshold: stats.confidenceThreshold,
    execution_time_sec: stats.executionTimeSec,
    kms_processed: stats.kmsProcessed,
    num_roads_processed: stats.numRoadsProcessed,
  };
}

/** Plausible statistics; percentages with two decimals as GEM prints them. */
export function sampleStatistics(random: Random, numRoads = 32_456): JobStatistics {
  const round2 = (value: number) => Math.round(value * 100) / 100;
  const matched = round2(70 + random.next() * 29);
  const fully = round2(matched * (0.7 + random.next() * 0.25));
  return {
    roadsMatchedPct: matched,
    roadsUnmatchedPct: round2(100 - matched),
    roadsFullyMatchedPct: fully,
    roadsPartiallyMatchedPct: round2(matched - fully),
    confidenceThreshold: 60,
    executionTimeSec: round2((numRoads / 100_000) * 3600 * (0.8 + random.next() * 0.4)),
    kmsProcessed: round2(numRoads * (2 + random.next() * 4)),
    numRoadsProcessed: numRoads,
  };
}
