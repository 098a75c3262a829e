import { describe, expect, it } from 'vitest';
import { registerSecret } from '../../telemetry/redact.js';
import { DeliveryError, isDeliveryError } from '../errors.js';
import type { Delivery, Notifier } from '../notifier.js';
import { classifySendFailure, sendMessage } from './send.js';

function notifierAnswering(detail: string | undefined, seen: Delivery[]): Notifier<string> {
  return {
    name: 'fake',
    render: () => 'unused',
    send: (_message, delivery) => {
      seen.push(delivery);
      return Promise.resolve({ channel: 'fake', target: delivery.target, ...(detail !== undefined ? { detail } : {}) });
    },
    endpoints: () => [],
    close: () => Promise.resolve(),
  };
}

describe('send stage', () => {
  it('sends under the task id as idempotency key and returns the receipt scrubbed', async () => {
    registerSecret('secretToken123');
    const seen: Delivery[] = [];
    const detail = await sendMessage(notifierAnswering('posted to https://hooks.slack.com/services/T0/B0/secretToken123', seen), 'hello', { route: 'r', channel: 'fake', target: 'hook' }, 'notify-x');
    expect(seen).toEqual([{ route: 'r', target: 'hook', idempotencyKey: 'notify-x' }]);
    expect(detail).not.toContain('secretToken123');
  });

  it('returns no detail when the channel gives none', async () => {
    expect(await sendMessage(notifierAnswering(undefined, []), 'hello', { route: 'r', channel: 'fake', target: 'hook' }, 'notify-x')).toBeUndefined();
  });

  it('keeps a channel’s own classification and takes anything else for a retryable server error', () => {
    const own = new DeliveryError('Slack answered 404', { reason: 'clientError', retryable: false, channel: 'slack', status: 404 });
    expect(classifySendFailure(own, 'slack')).toBe(own);
    const unexpected = classifySendFailure(new TypeError('boom'), 'slack');
    expect(isDeliveryError(unexpected)).toBe(true);
    expect(unexpected).toMatchObject({ reason: 'serverError', retryable: true, channel: 'slack' });
    expect(unexpected.message).toBe('slack failed unexpectedly: boom');
  });
});
