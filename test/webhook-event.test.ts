import { readFileSync } from 'node:fs';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { webhookSettings } from '../src/notify/channels/webhook/settings.js';
import { WEBHOOK_TEXT_MAX } from '../src/notify/channels/webhook/webhook-event.js';
import { WebhookNotifier } from '../src/notify/channels/webhook/webhook-notifier.js';
import { startWebhookReceiver, type WebhookReceiver } from '../src/simulator/webhook-receiver.js';
import { HOSTILE_TEXT, messageKinds } from './fixtures/message-kinds.js';
import { capturedLogger, notifyConfig } from './helpers/notify-config.js';

/**
 * The signed webhook's events as a receiver gets them: every message kind, plain and hostile, is
 * sent to a receiver that verifies the signature with `standardwebhooks`, and what it took
 * validates against the published event schema (docs/webhook-event.schema.json).
 */

const SCHEMA = JSON.parse(readFileSync(new URL('../docs/webhook-event.schema.json', import.meta.url), 'utf8')) as object;

function eventValidator() {
  const ajv = new Ajv2020({ allErrors: true, strict: true });
  ajv.addFormat('date-time', (value: string) => /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/.test(value) && !Number.isNaN(Date.parse(value)));
  return ajv.compile(SCHEMA);
}

const EXPECTED_TYPES: Record<string, string> = {
  finished: 'job.finished',
  failed: 'job.failed',
  cancelled: 'job.cancelled',
  'operator alert (down)': 'gemwatch.down',
  'operator alert (up)': 'gemwatch.up',
  'job alert': 'job.stalled',
  warning: 'job.finished',
  'group (burst)': 'group.burst',
  'group (held)': 'group.held',
  digest: 'digest',
};

describe('signed webhook events', () => {
  const validate = eventValidator();
  let receiver: WebhookReceiver;
  let hook: WebhookNotifier;

  beforeAll(async () => {
    receiver = await startWebhookReceiver();
    hook = new WebhookNotifier({ settings: webhookSettings(notifyConfig({ env: { WEBHOOK_URL: receiver.url, WEBHOOK_SECRET: receiver.secret } }))!, logger: capturedLogger().logger });
  });
  afterAll(async () => {
    await hook.close();
    await receiver.close();
  });
  beforeEach(() => receiver.reset());

  it('the schema refuses an event of an unknown type or without its data (a sanity check)', () => {
    expect(validate({ type: 'job.exploded', timestamp: '2026-01-20T10:25:00.000Z', data: {} })).toBe(false);
    expect(validate({ type: 'job.failed', timestamp: '2026-01-20T10:25:00.000Z', data: { job: { id: '1' } } })).toBe(false);
    expect(validate({ type: 'digest', timestamp: 'yesterday', data: {} })).toBe(false);
  });

  for (const hostile of [false, true]) {
    for (const [name, content] of messageKinds(hostile)) {
      it(`${name}${hostile ? ', hostile' : ''}: the receiver verifies it and it validates against the published schema`, async () => {
        await hook.send(hook.render(content), { route: 'default', target: 'default', idempotencyKey: `notify-${name.replace(/\W+/g, '-')}` });
        const [delivered] = receiver.deliveries();
        expect(delivered?.verified).toBe(true);
        const event = delivered!.event!;
        expect(event.type).toBe(EXPECTED_TYPES[name]);
        const valid = validate(event);
        expect(validate.errors ?? [], JSON.stringify(validate.errors?.slice(0, 3))).toEqual([]);
        expect(valid).toBe(true);
        if (name === 'finished' && !hostile) {
          expect(event).toMatchObject({
            timestamp: '2026-01-20T10:25:00.000Z',
            data: {
              job: { id: '7', jobType: 'ROAD_MATCHING', status: 'finished', statistics: { roadsMatchedPct: 84.68, numRoadsProcessed: 32456, kmsProcessed: 141977.62151907186 } },
              transition: { from: 'running', to: 'finished', version: 3, detectedAt: '2026-01-20T10:25:00.000Z' },
            },
          });
        }
        if (name === 'group (held)' && !hostile) expect(event.data.group).toMatchObject({ kind: 'held', route: 'lanes', reasons: ['quiet hours 19:00–08:00'], total: 64 });
        if (name === 'warning') expect(event.data.shortfalls).toEqual([{ metric: 'roadsMatchedPct', label: 'roads matched', actual: 84.68, threshold: 90 }]);
        if (hostile) {
          // JSON carries the text as text; what the API sent arrives cut and without control characters.
          const raw = delivered!.raw;
          expect(Buffer.byteLength(raw)).toBeLessThan(400_000);
          expect(JSON.stringify(event)).not.toMatch(/\\u000[0-8]|\\u001[0-9a-f]|\\u007f/);
          if (name === 'failed') {
            const job = event.data.job as { inputFile: string; message: string };
            expect(job.inputFile.length).toBeLessThanOrEqual(WEBHOOK_TEXT_MAX);
            expect(job.message.startsWith(HOSTILE_TEXT.split('\n')[0]!)).toBe(true);
            expect(job.message).toContain('[click](https://evil.example/login)');
          }
        }
      });
    }
  }
});
