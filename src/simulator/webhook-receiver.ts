import { Webhook } from 'standardwebhooks';
import { startRecorder, type RecordedRequest, type Recorder } from './http-recorder.js';

/**
 * A local receiver of signed webhooks, as the Standard Webhooks specification describes one:
 * every request is verified with the `standardwebhooks` package (the signature over
 * `webhook-id.webhook-timestamp.body` with the receiver's secret, and a timestamp within five
 * minutes of its clock). A verified event is answered 204 and counted once per `webhook-id`, as a
 * receiver that deduplicates would; a request that fails verification is answered 401. `failNext`
 * scripts 410, 429 with Retry-After, 5xx, a hang or a dropped connection.
 */

export interface WebhookReceiverRequest extends RecordedRequest {
  /** True when the signature and timestamp verified. */
  verified: boolean;
  /** Why verification failed. */
  error?: string;
  /** The event, when verified. */
  event?: { type: string; timestamp: string; data: Record<string, unknown> };
  /** The `webhook-id` header. */
  id?: string;
}

export interface WebhookReceiver extends Recorder<WebhookReceiverRequest> {
  /** The URL to configure. */
  readonly url: string;
  /** The secret to configure, `whsec_…`. */
  readonly secret: string;
  /** Events taken, one per `webhook-id` (the first verified request of each), in arrival order. */
  deliveries(): WebhookReceiverRequest[];
}

/** A Standard Webhooks secret from 32 bytes; the default is fixed so runs compare. */
export function webhookSecret(seed = 7): string {
  return `whsec_${Buffer.alloc(32, seed).toString('base64')}`;
}

/** Starts a receiver on 127.0.0.1 that verifies with `secret`. */
export async function startWebhookReceiver(options: { secret?: string; port?: number; path?: string; onEvent?: (request: WebhookReceiverRequest) => void } = {}): Promise<WebhookReceiver> {
  const secret = options.secret ?? webhookSecret();
  const verifier = new Webhook(secret);
  const seen = new Set<string>();
  const taken: WebhookReceiverRequest[] = [];
  const recorder = await startRecorder<WebhookReceiverRequest>(
    'webhook receiver',
    {
      // Every request is verified, a scripted failure's too, so a test can see what each attempt carried.
      inspect(base) {
        const header = (name: string): string => {
          const value = base.headers[name];
          return Array.isArray(value) ? value.join(', ') : (value ?? '');
        };
        const record: WebhookReceiverRequest = { ...base, verified: false, id: header('webhook-id') || undefined };
        try {
          record.event = verifier.verify(base.raw, {
            'webhook-id': header('webhook-id'),
            'webhook-timestamp': header('webhook-timestamp'),
            'webhook-signature': header('webhook-signature'),
          }) as WebhookReceiverRequest['event'];
          record.verified = true;
        } catch (error) {
          record.error = (error as Error).message;
        }
        return record;
      },
      answer(record) {
        if (record.method !== 'POST') return { status: 405 };
        if (!record.verified) return { status: 401, body: JSON.stringify({ error: 'signature verification failed' }) };
        if (!seen.has(record.id!)) {
          seen.add(record.id!);
          taken.push(record);
          options.onEvent?.(record);
        }
        return { status: 204 };
      },
    },
    options.port,
  );
  const reset = recorder.reset.bind(recorder);
  return Object.assign(recorder, {
    url: `${recorder.baseUrl}${options.path ?? '/hooks/gem-watch'}`,
    secret,
    deliveries: () => [...taken],
    reset() {
      reset();
      seen.clear();
      taken.length = 0;
    },
  });
}
