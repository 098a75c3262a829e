import type { TokenProvider } from './auth/token-provider.js';
import { GemApiError, GemAuthError, GemNotFoundError, GemResponseError, parseRetryAfter } from './errors.js';
import type { Job } from './job.js';
import { JobShapeError, normalizeJob, normalizeList } from './normalize.js';

export interface GemClientOptions {
  /** Base URL of the platform API, e.g. https://api.tomtom.com/maps/orbis/platform. */
  baseUrl: string;
  apiKey: string;
  tokenProvider: TokenProvider;
  /** List path below baseUrl. Default /gem/jobs. */
  listPath?: string;
  /** Detail path template with `{jobRunId}`. Default /gem/jobs/{jobRunId}. */
  detailPath?: string;
  /** X-Version header of the detail call. Default "1". */
  apiVersion?: string;
  /** Timeout of each request, in milliseconds. Default 15,000. */
  timeoutMs?: number;
  /** Largest answer read, in bytes; a larger one is a bad response. Default 64 MiB. */
  maxBodyBytes?: number;
  /** Called after every request with its endpoint and outcome (HTTP status or error reason). */
  onRequest?: (endpoint: 'list' | 'detail', outcome: string) => void;
  /**
   * Told whether GEM accepted the credentials, after every call that got that far: `ok` true on an
   * answer other than 401/403, false with the GemAuthError otherwise. Feeds credential health.
   */
  onCredentials?: (ok: boolean, error: unknown, startedAt: number) => void | Promise<void>;
}

export interface ListResult {
  jobs: Job[];
  /** Entries that could not be read at all; the others still count. */
  rejected: string[];
  warnings: string[];
}

export interface DetailResult {
  job: Job;
  warnings: string[];
}

// Integer ids beyond 2^53 would lose digits in JSON.parse; the list sends ids as numbers, so they are
// quoted before parsing. Ids are opaque strings from then on.
const LARGE_INTEGER_ID = /("(?:job_id|jobId|jobRunId|id)"\s*:\s*)(-?\d{16,})/g;

/**
 * The GEM API: the list and the detail call, exactly as the docs describe them (tomtom-api-key and
 * Authorization: Bearer on both, X-Version on the detail call). Every failure is a GemApiError with a
 * reason and `retryable`; answers are normalised into Jobs.
 */
export class GemClient {
  private readonly baseUrl: string;
  private readonly listPath: string;
  private readonly detailPath: string;
  private readonly apiVersion: string;
  private readonly timeoutMs: number;
  private readonly maxBodyBytes: number;

  constructor(private readonly options: GemClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.listPath = options.listPath ?? '/gem/jobs';
    this.detailPath = options.detailPath ?? '/gem/jobs/{jobRunId}';
    this.apiVersion = options.apiVersion ?? '1';
    this.timeoutMs = options.timeoutMs ?? 15_000;
    this.maxBodyBytes = options.maxBodyBytes ?? 64 * 1024 * 1024;
  }

  /** All jobs of one type: GET {listPath}?job_type=TYPE. */
  async listJobs(jobType: string): Promise<ListResult> {
    const url = `${this.baseUrl}${this.listPath}?job_type=${encodeURIComponent(jobType)}`;
    const body = await this.request('list', url, {});
    try {
      return normalizeList(body, jobType);
    } catch (error) {
      throw this.shapeError('list', error);
    }
  }

  /** One job's details: GET {detailPath} with the id URL-encoded. The source of truth for status. */
  async getJob(id: string, jobTypeHint?: string): Promise<DetailResult> {
    const url = `${this.baseUrl}${this.detailPath.replace('{jobRunId}', encodeURIComponent(id))}`;
    const body = await this.request('detail', url, { 'X-Version': this.apiVersion });
    try {
      const result = normalizeJob(body, jobTypeHint);
      if (result.job.id !== id) {
        result.warnings.push(`answer names job ${result.job.id.slice(0, 80)}; kept as ${id}`);
        result.job.id = id;
      }
      return result;
    } catch (error) {
      throw this.shapeError('detail', error);
    }
  }

  private shapeError(endpoint: 'list' | 'detail', error: unknown): GemResponseError {
    this.options.onRequest?.(endpoint, 'badResponse');
    const message = error instanceof JobShapeError ? error.message : 'answer does not fit the documented shape';
    return new GemResponseError(`GEM ${endpoint} answer not understood: ${message}`, {
      reason: 'badResponse',
      retryable: true,
      endpoint,
      cause: error,
    });
  }

  /** One request, reporting to `onCredentials` whether GEM accepted the credentials. */
  private async request(endpoint: 'list' | 'detail', url: string, extraHeaders: Record<string, string>): Promise<unknown> {
    const startedAt = Date.now();
    const report = this.options.onCredentials;
    try {
      const body = await this.requestOnce(endpoint, url, extraHeaders);
      await report?.(true, undefined, startedAt);
      return body;
    } catch (error) {
      if (error instanceof GemAuthError) await report?.(false, error, startedAt);
      else if (error instanceof GemApiError && error.status !== undefined) await report?.(true, undefined, startedAt);
      throw error;
    }
  }

  /** One request with the current token; after a 401, one refresh and one more try. */
  private async requestOnce(endpoint: 'list' | 'detail', url: string, extraHeaders: Record<string, string>): Promise<unknown> {
    const token = await this.token(endpoint);
    const first = await this.send(endpoint, url, extraHeaders, token);
    if (first.status !== 401 || token === undefined) return this.read(endpoint, first);
    await first.body?.cancel();
    this.options.tokenProvider.invalidate(token);
    const fresh = await this.token(endpoint);
    return this.read(endpoint, await this.send(endpoint, url, extraHeaders, fresh));
  }

  private async token(endpoint: string): Promise<string | undefined> {
    try {
      return await this.options.tokenProvider.getToken();
    } catch (error) {
      this.options.onRequest?.(endpoint as 'list' | 'detail', 'auth');
      throw new GemAuthError(`cannot get a bearer token (${this.options.tokenProvider.kind}): ${(error as Error).message}`, {
        reason: 'auth',
        retryable: true,
        endpoint,
        cause: error,
      });
    }
  }

  private async send(
    endpoint: 'list' | 'detail',
    url: string,
    extraHeaders: Record<string, string>,
    token: string | undefined,
  ): Promise<Response> {
    const headers: Record<string, string> = { 'tomtom-api-key': this.options.apiKey, Accept: 'application/json', ...extraHeaders };
    if (token) headers.Authorization = `Bearer ${token}`;
    try {
      return await fetch(url, { headers, signal: AbortSignal.timeout(this.timeoutMs) });
    } catch (error) {
      const timedOut = (error as Error).name === 'TimeoutError' || (error as Error).name === 'AbortError';
      this.options.onRequest?.(endpoint, timedOut ? 'timeout' : 'network');
      // The URL is left out on purpose: it is not secret, but the cause's text is scrubbed by the
      // logger anyway, and the endpoint name says enough.
      throw new GemApiError(
        timedOut ? `GEM ${endpoint} call timed out after ${this.timeoutMs} ms` : `GEM ${endpoint} call failed: ${describeNetworkError(error)}`,
        { reason: timedOut ? 'timeout' : 'network', retryable: true, endpoint, cause: error },
      );
    }
  }

  private async read(endpoint: 'list' | 'detail', response: Response): Promise<unknown> {
    const { status } = response;
    if (!response.ok) {
      await response.body?.cancel().catch(() => {});
      this.options.onRequest?.(endpoint, String(status));
      throw this.statusError(endpoint, response);
    }
    let text: string;
    try {
      text = await readLimited(response, this.maxBodyBytes);
    } catch (error) {
      const timedOut = (error as Error).name === 'TimeoutError' || (error as Error).name === 'AbortError';
      this.options.onRequest?.(endpoint, timedOut ? 'timeout' : 'badResponse');
      if (timedOut) {
        throw new GemApiError(`GEM ${endpoint} answer timed out after ${this.timeoutMs} ms`, {
          reason: 'timeout',
          retryable: true,
          endpoint,
          cause: error,
        });
      }
      throw new GemResponseError(`GEM ${endpoint} answer unreadable: ${(error as Error).message}`, {
        reason: 'badResponse',
        retryable: true,
        status,
        endpoint,
        cause: error,
      });
    }
    try {
      const parsed: unknown = JSON.parse(text.replace(LARGE_INTEGER_ID, '$1"$2"'));
      this.options.onRequest?.(endpoint, String(status));
      return parsed;
    } catch (error) {
      this.options.onRequest?.(endpoint, 'badResponse');
      throw new GemResponseError(`GEM ${endpoint} answer is not JSON (HTTP ${status}, ${text.length} characters)`, {
        reason: 'badResponse',
        retryable: true,
        status,
        endpoint,
        cause: error,
      });
    }
  }

  private statusError(endpoint: 'list' | 'detail', response: Response): GemApiError {
    const { status } = response;
    const base = { status, endpoint };
    if (status === 401 || status === 403) {
      return new GemAuthError(
        status === 401
          ? `GEM ${endpoint} call rejected (401): the API key or bearer token is not accepted`
          : `GEM ${endpoint} call forbidden (403): the credentials lack permission`,
        { ...base, reason: 'auth', retryable: true },
      );
    }
    if (status === 404 && endpoint === 'detail') {
      return new GemNotFoundError(`GEM job not found (404)`, { ...base, reason: 'notFound', retryable: false });
    }
    if (status === 429) {
      return new GemApiError(`GEM ${endpoint} call rate limited (429)`, {
        ...base,
        reason: 'rateLimited',
        retryable: true,
        retryAfterMs: parseRetryAfter(response.headers.get('retry-after')),
      });
    }
    if (status >= 500) {
      return new GemApiError(`GEM ${endpoint} call failed on the server (${status})`, {
        ...base,
        reason: 'serverError',
        retryable: true,
        retryAfterMs: parseRetryAfter(response.headers.get('retry-after')),
      });
    }
    return new GemApiError(`GEM ${endpoint} call refused (${status})`, { ...base, reason: 'clientError', retryable: false });
  }
}

function describeNetworkError(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (error as Error).message;
}

/** Reads a body as text, refusing more than `limit` bytes. */
async function readLimited(response: Response, limit: number): Promise<string> {
  const declared = Number(response.headers.get('content-length'));
  if (Number.isFinite(declared) && declared > limit) {
    await response.body?.cancel();
    throw new Error(`answer of ${declared} bytes exceeds the ${limit}-byte limit`);
  }
  if (!response.body) return '';
  const decoder = new TextDecoder();
  let size = 0;
  let text = '';
  for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
    size += chunk.byteLength;
    if (size > limit) throw new Error(`answer exceeds the ${limit}-byte limit`);
    text += decoder.decode(chunk, { stream: true });
  }
  return text + decoder.decode();
}
