import { startRecorder, type RecordedRequest, type Recorder } from './http-recorder.js';

/**
 * A local HTTP server that behaves like a Teams Workflows webhook ("Post to a channel when a
 * webhook request is received"), for tests and the demo. Its URLs are shaped like the real ones
 * (`/workflows/<id>/triggers/manual/paths/invoke?api-version=…&sig=…`, the `sig` being the
 * credential). Like the real trigger it answers 202 Accepted with an empty body to any JSON POST
 * with a known signature, before the flow runs: whether Teams would then show the card is recorded
 * in `shown` and `problems` (a `message` with one Adaptive Card attachment, within 28 KB). It
 * answers 400 InvalidRequestContent for a body that is not JSON and 401 for a missing or unknown
 * `sig`; `failNext` scripts 429 with Retry-After, 5xx, 404, a hang or a dropped connection.
 */

export interface TeamsSinkRequest extends RecordedRequest {
  /** The parsed body, when it was JSON. */
  body?: unknown;
  /** The Adaptive Card the message carries, when it has one. */
  card?: Record<string, unknown>;
  /** True when Teams would post the card to the channel. */
  shown: boolean;
  /** Why it would not: the shape, or the size. */
  problems: string[];
}

export interface TeamsSink extends Recorder<TeamsSinkRequest> {
  /** A Workflows URL of this sink; `sig` is its credential (any string, registered as known). */
  webhookUrl(sig?: string, workflow?: string): string;
  /** Requests whose card Teams would have shown. */
  shown(path?: string): TeamsSinkRequest[];
}

/** Teams refuses a message over 28 KB. */
export const TEAMS_MESSAGE_MAX_BYTES = 28 * 1024;

/** What keeps Teams from showing a posted body; empty when it would be shown. */
export function workflowsMessageProblems(body: unknown, bytes: number): string[] {
  const problems: string[] = [];
  if (bytes > TEAMS_MESSAGE_MAX_BYTES) problems.push(`body of ${bytes} bytes is over Teams' 28 KB`);
  const message = body as { type?: unknown; attachments?: unknown } | undefined;
  if (!message || typeof message !== 'object') return [...problems, 'body is not a JSON object'];
  if (message.type !== 'message') problems.push('type is not "message"');
  if (!Array.isArray(message.attachments) || message.attachments.length === 0) return [...problems, 'no attachments'];
  for (const [index, attachment] of (message.attachments as Array<Record<string, unknown>>).entries()) {
    if (attachment?.contentType !== 'application/vnd.microsoft.card.adaptive') problems.push(`attachments[${index}]: contentType is not an Adaptive Card`);
    const card = attachment?.content as Record<string, unknown> | undefined;
    if (!card || card.type !== 'AdaptiveCard') problems.push(`attachments[${index}]: content is not an AdaptiveCard`);
    else if (typeof card.version !== 'string' || Number(card.version) > 1.5) problems.push(`attachments[${index}]: card version ${String(card.version)} is not one Teams shows (up to 1.5)`);
  }
  return problems;
}

/** Starts a Workflows sink on 127.0.0.1. */
export async function startTeamsSink(options: { port?: number; onMessage?: (request: TeamsSinkRequest) => void } = {}): Promise<TeamsSink> {
  const knownSigs = new Set<string>();
  const recorder = await startRecorder<TeamsSinkRequest>(
    'teams sink',
    {
      inspect(base) {
        const record: TeamsSinkRequest = { ...base, shown: false, problems: [] };
        const sig = new URLSearchParams(base.query).get('sig');
        if (!sig || !knownSigs.has(sig)) record.problems.push('unknown sig');
        try {
          record.body = JSON.parse(base.raw);
        } catch {
          record.problems.push('body is not JSON');
          return record;
        }
        record.problems.push(...workflowsMessageProblems(record.body, Buffer.byteLength(base.raw)));
        const attachments = (record.body as { attachments?: Array<{ content?: Record<string, unknown> }> } | null)?.attachments;
        const card = Array.isArray(attachments) ? attachments[0]?.content : undefined;
        if (card) record.card = card;
        return record;
      },
      answer(record) {
        if (record.method !== 'POST') return { status: 405 };
        if (record.problems.includes('unknown sig')) {
          return { status: 401, body: JSON.stringify({ error: { code: 'DirectApiAuthorizationRequired', message: 'The request must be authenticated' } }) };
        }
        if (record.problems.includes('body is not JSON')) {
          return { status: 400, body: JSON.stringify({ error: { code: 'InvalidRequestContent', message: 'The request content is not valid JSON' } }) };
        }
        // The trigger accepts before the flow runs: a card Teams will not show is still answered 202.
        record.shown = record.problems.length === 0;
        if (record.shown) options.onMessage?.(record);
        return { status: 202 };
      },
    },
    options.port,
  );
  return Object.assign(recorder, {
    webhookUrl(sig = 'sigsigsigsigsigsigsigsigsigsigsigsigsigsigs', workflow = '0123456789abcdef0123456789abcdef') {
      knownSigs.add(sig);
      return `${recorder.baseUrl}/workflows/${workflow}/triggers/manual/paths/invoke?api-version=2016-06-01&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig=${encodeURIComponent(sig)}`;
    },
    shown(path?: string) {
      return recorder.requests.filter((request) => request.shown && (path === undefined || request.path === path));
    },
  });
}
