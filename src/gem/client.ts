import { promisify } from 'node:util';
import { brotliDecompress, gunzip, inflate, inflateRaw } from 'node:zlib';
import { Agent, request, type Dispatcher } from 'undici';
import { readBody, headerValue } from '../http-client/answer-body.js';
import { RequestDeadline } from '../http-client/request-deadline.js';
import { classifyHttpStatus, type HttpStatusClass } from '../domain/failure.js';
import { parseRetryAfter } from '../http-client/retry-after.js';
import type { TokenProvider } from './auth/token-provider.js';
import { GemApiError, GemAuthError, GemNotFoundError, GemResponseError } from './errors.js';
import type { Job } from '../domain/job.js';
import { jobIdPathSegment } from './job-id.js';
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
  /**
   * Deadline of each request, in milliseconds, from sending it to the last byte of the answer
   * (connecting, waiting for the headers and reading the body all count): a server that never
   * answers and one that stalls or trickles mid-body both fail as `timeout` after this long. The
   * one retry after a 401 gets a deadline of its own. Default 15,000.
   */
  timeoutMs?: number;
  /**
   * Largest answer read, in bytes, as sent and once decompressed; a larger one is a bad response,
   * refused from its Content-Length when declared, else as soon as it streams past. Default 64 MiB.
   */
  maxBodyBytes?: number;
  /**
   * The same for one job's details, which are a few KB: `detailConcurrency` of them are read at
   * once, so the list's allowance would let a broken server fill the heap. Default 8 MiB.
   */
  maxDetailBodyBytes?: number;
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
// quoted before parsing. Ids are opaque strings from then on. Looked for first: replacing copies the
// whole answer (13 MB for a 40,000-job list) even when there is nothing to quote.
const LARGE_INTEGER_ID = /("(?:job_id|jobId|jobRunId|id)"\s*:\s*)(-?\d{16,})/g;
const HAS_LARGE_INTEGER_ID = /"(?:job_id|jobId|jobRunId|id)"\s*:\s*-?\d{16}/;

/** An answer whose body is not read yet; its deadline still runs. */
interface Answer {
  status: number;
  headers: Dispatcher.ResponseData['headers'];
  body: Dispatcher.ResponseData['body'];
  deadline: RequestDeadline;
}

/**
 * The GEM API: the list and the detail call, exactly as the docs describe them (tomtom-api-key and
 * Authorization: Bearer on both, X-Version on the detail call). Every failure is a GemApiError with a
 * reason and `retryable`; answers are normalised into Jobs.
 */
export class GemClient {
  // The client owns its connection pool rather than sharing a module-level one, so its life is
  // the client's: close() ends it, and each client (the daemon's, check's, a test's) keeps to its
  // own sockets. Idle keep-alive sockets are unref'd by undici and never hold a process open.
  // undici's own headersTimeout/bodyTimeout are off: the RequestDeadline is the one timeout,
  // and a total one (bodyTimeout only bounds the gap between two chunks).
  private readonly dispatcher = new Agent({ headersTimeout: 0, bodyTimeout: 0 });
  private readonly baseUrl: string;
  private readonly listPath: string;
  private readonly detailPath: string;
  private readonly apiVersion: string;
  private readonly timeoutMs: number;
  private readonly maxBodyBytes: number;
  private readonly maxDetailBodyBytes: number;

  constructor(private readonly options: GemClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.listPath = options.listPath ?? '/gem/jobs';
    this.detailPath = options.detailPath ?? '/gem/jobs/{jobRunId}';
    this.apiVersion = options.apiVersion ?? '1';
    this.timeoutMs = options.timeoutMs ?? 15_000;
    this.maxBodyBytes = options.maxBodyBytes ?? 64 * 1024 * 1024;
    this.maxDetailBodyBytes = Math.min(this.maxBodyBytes, options.maxDetailBodyBytes ?? 8 * 1024 * 1024);
  }

  /**
   * Closes the client's connections once the requests under way are done. Optional: idle
   * keep-alive connections never hold the process open.
   */
  async close(): Promise<void> {
    await this.dispatcher.close();
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

  /**
   * One job's details: GET {detailPath} with the id as one path segment (jobIdPathSegment). The
   * source of truth for status.
   *
   * @throws GemApiError (`clientError`, not retryable) before any request for an id that cannot be
   *   a path segment (only dots, too long): it would reach another URL, with the credentials.
   */
  async getJob(id: string, jobTypeHint?: string): Promise<DetailResult> {
    let segment: string;
    try {
      segment = jobIdPathSegment(id);
    } catch (error) {
      // Not counted in onRequest: no call was made.
      throw new GemApiError(`GEM detail call not made: ${(error as Error).message}`, {
        reason: 'clientError',
        retryable: false,
        endpoint: 'detail',
        cause: error,
      });
    }
    const url = `${this.baseUrl}${this.detailPath.replace('{jobRunId}', () => segment)}`;
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
    await discard(first);
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
  ): Promise<Answer> {
    // What fetch sent by itself is kept: a User-Agent, and compressed answers accepted (decoded in
    // readLimited). Redirects are not followed: the API key would go along to wherever they point.
    const headers: Record<string, string> = {
      'tomtom-api-key': this.options.apiKey,
      Accept: 'application/json',
      'Accept-Encoding': 'gzip, deflate, br',
      'User-Agent': 'gem-watch',
      ...extraHeaders,
    };
    if (token) headers.Authorization = `Bearer ${token}`;
    const deadline = new RequestDeadline(this.timeoutMs);
    try {
      const { statusCode, headers: answerHeaders, body } = await request(url, { dispatcher: this.dispatcher, headers, signal: deadline });
      return { status: statusCode, headers: answerHeaders, body, deadline };
    } catch (error) {
      deadline.clear();
      const timedOut = deadline.aborted;
      this.options.onRequest?.(endpoint, timedOut ? 'timeout' : 'network');
      // The URL is left out on purpose: it is not secret, but the cause's text is scrubbed by the
      // logger anyway, and the endpoint name says enough.
      throw new GemApiError(
        timedOut ? `GEM ${endpoint} call timed out after ${this.timeoutMs} ms` : `GEM ${endpoint} call failed: ${describeNetworkError(error)}`,
        { reason: timedOut ? 'timeout' : 'network', retryable: true, endpoint, cause: error },
      );
    }
  }

  private async read(endpoint: 'list' | 'detail', answer: Answer): Promise<unknown> {
    const { status } = answer;
    const verdict = classifyHttpStatus(status);
    if (!verdict.ok) {
      await discard(answer);
      this.options.onRequest?.(endpoint, String(status));
      throw this.statusError(endpoint, status, verdict, answer.headers);
    }
    let text: string;
    try {
      text = await readLimited(answer, endpoint === 'detail' ? this.maxDetailBodyBytes : this.maxBodyBytes);
    } catch (error) {
      const timedOut = answer.deadline.aborted;
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
    } finally {
      answer.deadline.clear();
    }
    try {
      const parsed: unknown = JSON.parse(HAS_LARGE_INTEGER_ID.test(text) ? text.replace(LARGE_INTEGER_ID, '$1"$2"') : text);
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

  /** The shared status table decides the class; this names it in GEM's words and error classes. */
  private statusError(
    endpoint: 'list' | 'detail',
    status: number,
    verdict: Extract<HttpStatusClass, { ok: false }>,
    headers: Answer['headers'],
  ): GemApiError {
    const { reason, retryable } = verdict;
    const base = { status, endpoint, reason, retryable };
    switch (reason) {
      case 'auth':
        return new GemAuthError(
          status === 401
            ? `GEM ${endpoint} call rejected (401): the API key or bearer token is not accepted`
            : `GEM ${endpoint} call forbidden (403): the credentials lack permission`,
          base,
        );
      case 'rateLimited':
        return new GemApiError(`GEM ${endpoint} call rate limited (429)`, { ...base, retryAfterMs: parseRetryAfter(headerValue(headers, 'retry-after')) });
      case 'serverError':
        return new GemApiError(`GEM ${endpoint} call failed on the server (${status})`, {
          ...base,
          retryAfterMs: parseRetryAfter(headerValue(headers, 'retry-after')),
        });
      case 'timeout':
        return new GemApiError(`GEM ${endpoint} call timed out on the server (${status})`, base);
      case 'clientError':
        // On the detail call a 404 says more than "refused": the job is gone (or the detail path
        // is wrong), which the detail processor handles apart. Not retried either way.
        if (status === 404 && endpoint === 'detail') return new GemNotFoundError(`GEM job not found (404)`, { ...base, reason: 'notFound' });
        return new GemApiError(`GEM ${endpoint} call refused (${status})`, base);
    }
  }
}

function describeNetworkError(error: unknown): string {
  const { code, cause } = error as { code?: string; cause?: { code?: string; message?: string } };
  return code ?? cause?.code ?? cause?.message ?? (error as Error).message;
}

/**
 * Gives up an answer without reading it. A short body is drained so the keep-alive socket can
 * carry the next request (awaited, so the next request finds the socket free; error bodies are
 * small); a long one (over undici's 128 KiB) closes the socket instead. The deadline stays armed
 * until then, so a body that stalls is ended by it; dump() never rejects.
 */
async function discard(answer: Answer): Promise<void> {
  try {
    await answer.body.dump();
  } finally {
    answer.deadline.clear();
  }
}

type Decoder = (input: Buffer, options: { maxOutputLength: number }) => Promise<Buffer>;
const gunzipAsync: Decoder = promisify(gunzip);
const inflateAsync: Decoder = promisify(inflate);
const inflateRawAsync: Decoder = promisify(inflateRaw);
const DECODERS: Record<string, Decoder> = {
  gzip: gunzipAsync,
  'x-gzip': gunzipAsync,
  br: promisify(brotliDecompress),
  // "deflate" is meant to be zlib-wrapped but some servers send it raw, as fetch also allows.
  deflate: (input, options) => ((input[0]! & 0x0f) === 0x08 ? inflateAsync(input, options) : inflateRawAsync(input, options)),
};

/**
 * Reads a body as text, refusing more than `limit` bytes as sent and as decoded. Compressed bodies
 * are decoded as fetch did (gzip, deflate, br; another coding is left as it is, and fails as JSON).
 */
async function readLimited(answer: Answer, limit: number): Promise<string> {
  const { body } = answer;
  const declared = Number(headerValue(answer.headers, 'content-length'));
  if (Number.isFinite(declared) && declared > limit) {
    body.destroy();
    throw new Error(`answer of ${declared} bytes exceeds the ${limit}-byte limit`);
  }
  let bytes = await readBody(body, limit, 'fail');
  const decode = DECODERS[headerValue(answer.headers, 'content-encoding')?.trim().toLowerCase() ?? ''];
  if (decode) {
    try {
      bytes = await decode(bytes, { maxOutputLength: limit });
    } catch (error) {
      if ((error as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') throw new Error(`answer exceeds the ${limit}-byte limit once decompressed`);
      throw error;
    }
  }
  const text = bytes.toString('utf8');
  // TextDecoder, which fetch's text() used, drops a byte order mark; JSON.parse would choke on it.
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}
