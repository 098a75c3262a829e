import type { IncomingMessage, ServerResponse } from 'node:http';
import { Conditions, listenLocal, Scripts } from './local-http.js';

/**
 * A local HTTP server that behaves like Slack's incoming webhooks, for tests, the chaos suite, the
 * demo and the benchmark. Every request is recorded with the sink's own clock. By default it
 * answers 200 `ok`, after checking the payload against Block Kit's limits the way Slack does
 * (400 `invalid_blocks` when broken); `failNext` scripts the next answers (429 with Retry-After,
 * 500, 404 `channel_not_found`, a hang, a dropped connection, ...) for all webhooks or one path.
 */

/** A scripted answer. */
export type SlackSinkAnswer =
  | { status: number; body?: string; retryAfterSec?: number }
  /** Accept the request and never answer (until the sink closes): the client's timeout fires. */
  | { hang: true }
  /** Destroy the connection without an answer. */
  | { drop: true };

export interface SlackSinkRequest {
  /** Epoch ms when the request was complete, by the sink's clock. */
  at: number;
  /** Webhook path, e.g. /services/T000/B000/XXXX. */
  path: string;
  headers: IncomingMessage['headers'];
  /** The raw body. */
  raw: string;
  /** The parsed JSON body, or undefined when it was not JSON. */
  body: SlackSinkPayload | undefined;
  /** What the sink answered: a status, or `hang` / `drop`. */
  answer: number | 'hang' | 'drop';
}

/** The parts of a Slack payload the sink reads. */
export interface SlackSinkPayload {
  text?: string;
  blocks?: Array<Record<string, unknown>>;
  link_names?: boolean | number;
  [key: string]: unknown;
}

export interface SlackSinkOptions {
  /** Check Block Kit limits and answer 400 invalid_blocks like Slack; default true. */
  validate?: boolean;
  /** Called for every accepted (200) message, e.g. to print it in the demo. */
  onMessage?: (request: SlackSinkRequest) => void;
  /** Port; default any free one. */
  port?: number;
}

export interface SlackSink {
  /** Base URL, http://127.0.0.1:PORT. */
  readonly baseUrl: string;
  /** A webhook URL shaped like Slack's; `secret` is the last path part (a token in real life). */
  webhookUrl(secret?: string, team?: string, bot?: string): string;
  /** Every request so far, in arrival order. */
  readonly requests: readonly SlackSinkRequest[];
  /** Requests answered 200, i.e. messages Slack would have shown. */
  accepted(path?: string): SlackSinkRequest[];
  /** Answers the next `times` requests (to `path`, or to any) with `answer`. Scripts queue in order. */
  failNext(times: number, answer: SlackSinkAnswer, path?: string): void;
  /** Resolves when `predicate` holds for the requests; rejects after `timeoutMs` (default 30 s). */
  waitFor(predicate: (requests: readonly SlackSinkRequest[]) => boolean, timeoutMs?: number): Promise<void>;
  /** Forgets requests and scripts. */
  reset(): void;
  close(): Promise<void>;
}

/** Slack's answer words for common statuses. */
const DEFAULT_BODY: Record<number, string> = {
  400: 'invalid_payload',
  403: 'action_prohibited',
  404: 'channel_not_found',
  410: 'channel_is_archived',
  429: 'rate_limited',
  500: 'rollup_error',
  502: 'bad_gateway',
  503: 'service_unavailable',
};

/**
 * Block Kit limits as Slack enforces them; a separate copy from the renderer's so the sink judges
 * the renderer instead of agreeing with it.
 */
export function blockKitProblems(payload: SlackSinkPayload | undefined): string[] {
  if (!payload || typeof payload !== 'object') return ['body is not a JSON object'];
  const problems: string[] = [];
  const blocks = payload.blocks;
  if ((payload.text === undefined || payload.text === '') && (!blocks || blocks.length === 0)) problems.push('no text and no blocks');
  if (blocks === undefined) return problems;
  if (!Array.isArray(blocks)) return ['blocks is not an array'];
  if (blocks.length > 50) problems.push(`${blocks.length} blocks > 50`);
  const textOf = (value: unknown): string | undefined =>
    value && typeof value === 'object' && typeof (value as { text?: unknown }).text === 'string' ? (value as { text: string }).text : undefined;
  blocks.forEach((block, index) => {
    const where = `blocks[${index}]`;
    switch (block.type) {
      case 'header': {
        const text = textOf(block.text);
        if ((block.text as { type?: string } | undefined)?.type !== 'plain_text') problems.push(`${where}: header must be plain_text`);
        if (!text || text.length > 150) problems.push(`${where}: header text length ${text?.length ?? 0}`);
        break;
      }
      case 'section': {
        const text = textOf(block.text);
        const fields = block.fields as unknown[] | undefined;
        if (text === undefined && !fields) problems.push(`${where}: section without text or fields`);
        if (text !== undefined && (text.length === 0 || text.length > 3000)) problems.push(`${where}: section text length ${text.length}`);
        if (fields) {
          if (fields.length > 10) problems.push(`${where}: ${fields.length} fields > 10`);
          fields.forEach((item, i) => {
            const value = textOf(item);
            if (!value || value.length > 2000) problems.push(`${where}.fields[${i}]: length ${value?.length ?? 0}`);
          });
        }
        break;
      }
      case 'context': {
        const elements = block.elements as unknown[] | undefined;
        if (!elements || elements.length === 0 || elements.length > 10) problems.push(`${where}: ${elements?.length ?? 0} context elements`);
        break;
      }
      case 'divider':
        break;
      default:
        problems.push(`${where}: unknown block type ${String(block.type)}`);
    }
  });
  return problems;
}

/** Starts a Slack sink on 127.0.0.1. */
export async function startSlackSink(options: SlackSinkOptions = {}): Promise<SlackSink> {
  const validate = options.validate ?? true;
  const requests: SlackSinkRequest[] = [];
  const scripts = new Scripts<SlackSinkAnswer>();
  const conditions = new Conditions('slack sink');

  const handle = (req: IncomingMessage, res: ServerResponse, raw: string) => {
    const path = (req.url ?? '/').split('?')[0]!;
    let body: SlackSinkPayload | undefined;
    try {
      body = JSON.parse(raw) as SlackSinkPayload;
    } catch {
      body = undefined;
    }
    const record: SlackSinkRequest = { at: Date.now(), path, headers: req.headers, raw, body, answer: 200 };
    requests.push(record);

    const scripted = req.method === 'POST' ? scripts.take(path) : { status: 405, body: 'method_not_allowed' };
    if (scripted && 'hang' in scripted) {
      record.answer = 'hang';
      local.hang(res);
    } else if (scripted && 'drop' in scripted) {
      record.answer = 'drop';
      req.socket.destroy();
    } else if (scripted) {
      record.answer = scripted.status;
      const headers: Record<string, string> = { 'content-type': 'text/plain' };
      if (scripted.retryAfterSec !== undefined) headers['retry-after'] = String(scripted.retryAfterSec);
      res.writeHead(scripted.status, headers).end(scripted.body ?? DEFAULT_BODY[scripted.status] ?? 'error');
    } else if (body === undefined) {
      record.answer = 400;
      res.writeHead(400, { 'content-type': 'text/plain' }).end('invalid_payload');
    } else if (validate && blockKitProblems(body).length > 0) {
      record.answer = 400;
      res.writeHead(400, { 'content-type': 'text/plain' }).end('invalid_blocks');
    } else {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
      options.onMessage?.(record);
    }
    conditions.recheck();
  };

  const local = await listenLocal(handle, options.port);
  const { baseUrl } = local;

  return {
    baseUrl,
    webhookUrl: (secret = 'XXXXXXXXXXXXXXXXXXXXXXXX', team = 'T00000000', bot = 'B00000000') => `${baseUrl}/services/${team}/${bot}/${secret}`,
    get requests() {
      return requests;
    },
    accepted: (path?: string) => requests.filter((request) => request.answer === 200 && (path === undefined || request.path === path)),
    failNext: (times, answer, path) => scripts.add(times, answer, path),
    waitFor: (predicate, timeoutMs = 30_000) => conditions.waitFor(() => predicate(requests), timeoutMs, () => `${requests.length} requests so far`),
    reset() {
      requests.length = 0;
      scripts.clear();
    },
    close: () => local.close(),
  };
}
