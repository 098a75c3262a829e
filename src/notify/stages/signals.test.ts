import { UnrecoverableError } from 'bullmq';
import { beforeAll, describe, expect, it } from 'vitest';
import { registerSecret } from '../../telemetry/redact.js';
import { DeliveryError } from '../errors.js';
import { permanent, storedError } from './signals.js';

const SECRET_URL = 'https://hooks.slack.com/services/T0SECRET/B0SECRET/tokenQ1w2E3r4';

describe('signals to the queue', () => {
  // The channels register their secrets at start; a stored text must pass through the scrubber.
  beforeAll(() => registerSecret('tokenQ1w2E3r4'));

  it('stores a retryable failure with its reason first and no secret in message or stack', () => {
    const error = new DeliveryError(`could not reach ${SECRET_URL}`, { reason: 'timeout', retryable: true, channel: 'slack', retryAfterMs: 2_000 });
    const stored = storedError(error);
    expect(stored).toBeInstanceOf(DeliveryError);
    expect(stored).toMatchObject({ reason: 'timeout', retryable: true, channel: 'slack', retryAfterMs: 2_000 });
    expect(stored.message.startsWith('[timeout] ')).toBe(true);
    expect(`${stored.message}\n${stored.stack}`).not.toContain('tokenQ1w2E3r4');
  });

  it('fails a task for good with an UnrecoverableError whose text is scrubbed', () => {
    const error = permanent(`[clientError] webhook ${SECRET_URL} is gone`);
    expect(error).toBeInstanceOf(UnrecoverableError);
    expect(`${error.message}\n${error.stack}`).not.toContain('tokenQ1w2E3r4');
  });
});
