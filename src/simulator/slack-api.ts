import type { IncomingMessage, ServerResponse } from 'node:http';
import { Conditions, listenLocal, Scripts } from './local-http.js';
import { blockKitProblems, type SlackSinkPayload } from './slack-sink.js';

/**
 * A local server that answers like Slack's Web API for the three methods Slack app mode uses
 * (auth.test, chat.postMessage, chat.update), for tests, the chaos suite and the demo. It keeps a
 * channel's messages and threads the way Slack shows them, so a test can read what a person would
 * see. Like Slack it answers errors with HTTP 200 and `{"ok": false, "error": "<word>"}`, a rate
 * limit with HTTP 429 and Retry-After; it wants `Authorization: Bearer <token>` (`not_authed`
 * without, `invalid_auth` for another token), a channel id for chat.update, a known channel, and
 * blocks within Block Kit's limits (`invalid_blocks`), text within 40,000 characters
 * (`msg_too_long`). `failNext` scripts errors on demand; every call is recorded.
 */

/** A scripted answer for the next calls. */
export type SlackApiScript =
  /** `ok: false` with this error word (HTTP 200, as Slack answers). */
  | { error: string }
  /** HTTP 429 `ratelimited` with Retry-After. */
  | { ratelimited: true; retryAfterSec: number }
  /** Any HTTP status with an optional body (e.g. 500 from a proxy). */
  | { status: number; body?: string }
  /** Destroy the connection without an answer. */
  | { drop: true }
  /** Answer as usual, but only after this many milliseconds (a slow Slack). */
  | { delayMs: number };

/** One message as Slack keeps it. */
export interface SlackApiMessage {
  channel: string;
  ts: string;
  text: string;
  blocks: Array<Record<string, unknown>>;
  /** The parent's ts for a thread reply. */
  threadTs?: string;
  replyBroadcast: boolean;
  /** chat.update calls applied to it. */
  edits: number;
}

export interface SlackApiCall {
  /** Epoch ms, by the server's clock. */
  at: number;
  method: string;
  /** The Authorization header as sent (tests check the token is never elsewhere). */
  authorization: string | undefined;
  raw: string;
  body: (SlackSinkPayload & { channel?: string; ts?: string; thread_ts?: string; reply_broadcast?: boolean }) | undefined;
  /** HTTP status answered, or `drop`. */
  status: number | 'drop';
  /** The error word answered, when not ok. */
  error?: string;
  /** ts of the message posted or updated. */
  ts?: string;
}

export interface SlackApiEvent {
  kind: 'posted' | 'updated' | 'replied';
  message: SlackApiMessage;
  /** Channel name as known to the server (`#gem-alerts`), for the demo console. */
  channelName: string;
}

export interface SlackApiServerOptions {
  /** The bot token it accepts. */
  token: string;
  /** Channels by name (without #) → id. Default { 'gem-alerts': 'C0GEMALERTS' }. Unknown channels answer channel_not_found. */
  channels?: Record<string, string>;
  /** Called for every message posted, updated or replied (the demo's console). */
  onEvent?: (event: SlackApiEvent) => void;
  port?: number;
}

export interface SlackApiServer {
  /** The SLACK_API_URL to give gem-watch: http://127.0.0.1:PORT/api/ */
  readonly apiUrl: string;
  readonly calls: readonly SlackApiCall[];
  /** Calls of one method that were answered ok. */
  succeeded(method: string): SlackApiCall[];
  /** Top-level messages of a channel (id or name), oldest first. */
  messages(channel: string): SlackApiMessage[];
  /** Replies in a message's thread, oldest first. */
  thread(channel: string, ts: string): SlackApiMessage[];
  /** Deletes a message as a person could (a later chat.update answers message_not_found). */
  deleteMessage(channel: string, ts: string): void;
  /** Answers the next `times` calls (of `method`, or any) with `script`. Scripts queue in order. */
  failNext(times: number, script: SlackApiScript, method?: string): void;
  /** Resolves when `predicate` holds; rejects after `timeoutMs` (default 30 s). */
  waitFor(predicate: (server: SlackApiServer) => boolean, timeoutMs?: number): Promise<void>;
  reset(): void;
  close(): Promise<void>;
}

const MAX_TEXT = 40_000;

export async function startSlackApiServer(options: SlackApiServerOptions): Promise<SlackApiServer> {
  const channels = new Map(Object.entries(options.channels ?? { 'gem-alerts': 'C0GEMALERTS' }));
  const names = new Map([...channels].map(([name, id]) => [id, name]));
  const calls: SlackApiCall[] = [];
  const messages: SlackApiMessage[] = [];
  const scripts = new Scripts<SlackApiScript>();
  const conditions = new Conditions('slack api');
  let clock = 0;

  const nextTs = () => {
    // Slack's ts is seconds.microseconds, unique per channel; a counter keeps them unique and ordered.
    clock += 1;
    const seconds = Math.floor(Date.now() / 1000);
    return `${seconds}.${String(clock).padStart(6, '0')}`;
  };

  /** A channel argument to its id: an id it knows, or a name (with or without #). */
  const channelId = (value: unknown, idOnly: boolean): string | undefined => {
    if (typeof value !== 'string') return undefined;
    if (names.has(value)) return value;
    if (idOnly) return undefined;
    return channels.get(value.replace(/^#/, ''));
  };

  const handle = (req: IncomingMessage, res: ServerResponse, raw: string) => {
    const match = /^\/api\/([A-Za-z.]+)$/.exec((req.url ?? '/').split('?')[0]!);
    const method = match?.[1] ?? '?';
    const script = scripts.take(method);
    if (script && 'delayMs' in script) {
      setTimeout(() => answerCall(req, res, raw, method, match, undefined), script.delayMs);
      return;
    }
    answerCall(req, res, raw, method, match, script);
  };

  const answerCall = (req: IncomingMessage, res: ServerResponse, raw: string, method: string, match: RegExpExecArray | null, script: SlackApiScript | undefined) => {
    let body: SlackApiCall['body'];
    try {
      const parsed: unknown = raw === '' ? {} : JSON.parse(raw);
      body = parsed && typeof parsed === 'object' ? (parsed as SlackApiCall['body']) : undefined;
    } catch {
      body = undefined;
    }
    const call: SlackApiCall = { at: Date.now(), method, authorization: req.headers.authorization, raw, body, status: 200 };
    calls.push(call);
    const answer = (status: number, json: Record<string, unknown>, headers: Record<string, string> = {}) => {
      call.status = status;
      if (json.ok === false && typeof json.error === 'string') call.error = json.error;
      res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers }).end(JSON.stringify(json));
    };
    const fail = (error: string) => answer(200, { ok: false, error });

    try {
      if (script && 'delayMs' in script) return;
      if (script && 'drop' in script) {
        call.status = 'drop';
        req.socket.destroy();
        return;
      }
      if (script && 'ratelimited' in script) return answer(429, { ok: false, error: 'ratelimited' }, { 'retry-after': String(script.retryAfterSec) });
      if (script && 'status' in script) {
        call.status = script.status;
        res.writeHead(script.status, { 'content-type': 'text/plain' }).end(script.body ?? 'error');
        return;
      }
      if (script && 'error' in script) return fail(script.error);

      if (req.method !== 'POST') return answer(405, { ok: false, error: 'method_not_allowed' });
      if (!match || !['auth.test', 'chat.postMessage', 'chat.update'].includes(method)) return answer(404, { ok: false, error: 'unknown_method' });
      const auth = req.headers.authorization;
      if (!auth) return fail('not_authed');
      if (auth !== `Bearer ${options.token}`) return fail('invalid_auth');
      if (body === undefined) return fail('invalid_json');
      if (method === 'auth.test') return answer(200, { ok: true, url: 'https://gem-watch-sim.slack.com/', team: 'gem-watch simulator', user: 'gem-watch', team_id: 'T0SIMULATE', user_id: 'U0GEMWATCH', bot_id: 'B0GEMWATCH' });

      const text = typeof body.text === 'string' ? body.text : '';
      const blocks = Array.isArray(body.blocks) ? body.blocks : [];
      if (text === '' && blocks.length === 0) return fail('no_text');
      if (text.length > MAX_TEXT) return fail('msg_too_long');
      if (body.blocks !== undefined && blockKitProblems({ text, blocks }).length > 0) return fail('invalid_blocks');

      if (method === 'chat.postMessage') {
        const channel = channelId(body.channel, false);
        if (!channel) return fail('channel_not_found');
        const threadTs = typeof body.thread_ts === 'string' ? body.thread_ts : undefined;
        if (threadTs !== undefined && !messages.some((message) => message.channel === channel && message.ts === threadTs && message.threadTs === undefined)) {
          // Slack answers a reply to an unknown parent with a new top-level message; gem-watch never sends one.
          return fail('thread_not_found');
        }
        const message: SlackApiMessage = { channel, ts: nextTs(), text, blocks, replyBroadcast: body.reply_broadcast === true, edits: 0, ...(threadTs ? { threadTs } : {}) };
        messages.push(message);
        call.ts = message.ts;
        answer(200, { ok: true, channel, ts: message.ts, message: { type: 'message', text, ts: message.ts, ...(threadTs ? { thread_ts: threadTs } : {}) } });
        options.onEvent?.({ kind: threadTs ? 'replied' : 'posted', message, channelName: names.get(channel) ?? channel });
        return;
      }
      // chat.update wants the channel's id: a name is channel_not_found.
      const channel = channelId(body.channel, true);
      if (!channel) return fail('channel_not_found');
      const message = messages.find((candidate) => candidate.channel === channel && candidate.ts === body!.ts);
      if (!message) return fail('message_not_found');
      message.text = text;
      message.blocks = blocks;
      message.edits += 1;
      call.ts = message.ts;
      answer(200, { ok: true, channel, ts: message.ts, text });
      options.onEvent?.({ kind: 'updated', message, channelName: names.get(channel) ?? channel });
    } finally {
      conditions.recheck();
    }
  };

  const local = await listenLocal(handle, options.port);
  const resolveChannel = (channel: string) => channelId(channel, false) ?? channel;

  const api: SlackApiServer = {
    apiUrl: `${local.baseUrl}/api/`,
    get calls() {
      return calls;
    },
    succeeded: (method) => calls.filter((call) => call.method === method && call.status === 200 && call.error === undefined),
    messages: (channel) => messages.filter((message) => message.channel === resolveChannel(channel) && message.threadTs === undefined),
    thread: (channel, ts) => messages.filter((message) => message.channel === resolveChannel(channel) && message.threadTs === ts),
    deleteMessage(channel, ts) {
      const index = messages.findIndex((message) => message.channel === resolveChannel(channel) && message.ts === ts);
      if (index >= 0) messages.splice(index, 1);
    },
    failNext: (times, script, method) => scripts.add(times, script, method),
    waitFor: (predicate, timeoutMs = 30_000) => conditions.waitFor(() => predicate(api), timeoutMs, () => `${calls.length} calls so far`),
    reset() {
      calls.length = 0;
      messages.length = 0;
      scripts.clear();
    },
    close: () => local.close(),
  };
  return api;
}
