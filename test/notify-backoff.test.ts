import { describe, expect, it } from 'vitest';
import { notifyConfig } from './helpers/notify-config.js';
import { parseRetryAfter, RETRY_AFTER_CAP_MS } from '../src/http-client/retry-after.js';
import { DeliveryError, storedFailureReason } from '../src/notify/errors.js';
import { notifyWorkerOptions } from '../src/queue/notify-processor.js';
import { notifyBackoffStrategy, notifyJobOptions, NOTIFY_BACKOFF_TYPE } from '../src/notify/task-options.js';

/** The retry schedule, as pure functions: no queue, no clock. */

const serverError = new DeliveryError('x', { reason: 'serverError', retryable: true, channel: 'slack' });

describe('notify backoff', () => {
  it('retries first within a second, doubles, and never passes the cap', () => {
    const strategy = notifyBackoffStrategy({ baseMs: 1_000, maxMs: 300_000, random: () => 0 });
    const delays = Array.from({ length: 29 }, (_, i) => strategy(i + 1, NOTIFY_BACKOFF_TYPE, serverError) as number);
    expect(delays.slice(0, 10)).toEqual([1_000, 2_000, 4_000, 8_000, 16_000, 32_000, 64_000, 128_000, 256_000, 300_000]);
    expect(Math.max(...delays)).toBe(300_000);
  });

  it('takes up to 20% off at random, so retries of one outage spread out but stay under the cap', () => {
    const low = notifyBackoffStrategy({ baseMs: 1_000, maxMs: 300_000, random: () => 0.999999 });
    expect(low(1, NOTIFY_BACKOFF_TYPE, serverError)).toBe(800);
    expect(low(20, NOTIFY_BACKOFF_TYPE, serverError)).toBe(240_000);
    const any = notifyBackoffStrategy({ baseMs: 1_000, maxMs: 300_000 });
    for (let attempt = 1; attempt < 40; attempt += 1) {
      const delay = any(attempt, NOTIFY_BACKOFF_TYPE, serverError) as number;
      expect(delay).toBeGreaterThanOrEqual(Math.min(300_000, 1_000 * 2 ** (attempt - 1)) * 0.8 - 1);
      expect(delay).toBeLessThanOrEqual(300_000);
    }
  });

  it('waits the Retry-After of a rate-limited failure, or the backoff when that is longer', () => {
    const strategy = notifyBackoffStrategy({ baseMs: 1_000, maxMs: 300_000, random: () => 0 });
    const limited = (retryAfterMs: number) => new DeliveryError('429', { reason: 'rateLimited', retryable: true, channel: 'slack', retryAfterMs });
    expect(strategy(1, NOTIFY_BACKOFF_TYPE, limited(2_000))).toBe(2_000);
    expect(strategy(2, NOTIFY_BACKOFF_TYPE, limited(2_000))).toBe(2_000);
    expect(strategy(6, NOTIFY_BACKOFF_TYPE, limited(2_000))).toBe(32_000);
  });

  it('rides out more than an hour of outage with the shipped defaults', () => {
    const config = notifyConfig();
    const strategy = notifyBackoffStrategy({ baseMs: config.notify.backoffMs, maxMs: config.notify.maxBackoffMs, random: () => 0.999999 });
    let waited = 0;
    for (let attempt = 1; attempt < config.notify.attempts; attempt += 1) waited += strategy(attempt, NOTIFY_BACKOFF_TYPE, serverError) as number;
    // The shortest schedule 30 attempts can take (every jitter at its largest) is about 1 h 27 min.
    expect(waited).toBeGreaterThan(3_600_000);
    expect(Math.round(waited / 60_000)).toBe(87);

    // The same when every attempt is refused with a 429 and `Retry-After: 1`.
    const limited = new DeliveryError('429', { reason: 'rateLimited', retryable: true, channel: 'slack', retryAfterMs: 1_000 });
    let waitedLimited = 0;
    for (let attempt = 1; attempt < config.notify.attempts; attempt += 1) waitedLimited += strategy(attempt, NOTIFY_BACKOFF_TYPE, limited) as number;
    expect(waitedLimited).toBeGreaterThanOrEqual(waited);
  });

  it('gives the worker the strategy and the tasks its type, attempts and bounded history', () => {
    const config = notifyConfig();
    const options = notifyJobOptions(config);
    expect(options).toMatchObject({ attempts: 30, backoff: { type: NOTIFY_BACKOFF_TYPE } });
    expect(options.removeOnComplete).toMatchObject({ count: 1_000 });
    expect(options.removeOnFail).toMatchObject({ age: 30 * 86_400, count: 10_000 });
    const worker = notifyWorkerOptions(config);
    expect(worker.concurrency).toBe(4);
    expect(typeof worker.settings?.backoffStrategy).toBe('function');
  });
});

describe('Retry-After and stored reasons', () => {
  it('reads seconds and HTTP dates', () => {
    const now = Date.UTC(2026, 0, 20, 10, 0, 0);
    expect(parseRetryAfter('2', now)).toBe(2_000);
    expect(parseRetryAfter(' 0.5 ', now)).toBe(500);
    expect(parseRetryAfter('Tue, 20 Jan 2026 10:00:30 GMT', now)).toBe(30_000);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter(null, now)).toBeUndefined();
  });

  it('caps what a proxy or a broken server asks for at 15 minutes', () => {
    const now = Date.UTC(2026, 0, 20, 10, 0, 0);
    expect(RETRY_AFTER_CAP_MS).toBe(900_000);
    expect(parseRetryAfter('86400', now)).toBe(RETRY_AFTER_CAP_MS);
    expect(parseRetryAfter('Wed, 21 Jan 2026 10:00:00 GMT', now)).toBe(RETRY_AFTER_CAP_MS);
    expect(parseRetryAfter('900', now)).toBe(900_000);
  });

  it('reads the reason a stored failure starts with', () => {
    expect(storedFailureReason('[clientError] Slack webhook "default" answered 404 channel_not_found')).toBe('clientError');
    expect(storedFailureReason('[nonsense] x')).toBe('unknown');
    expect(storedFailureReason(undefined)).toBe('unknown');
  });
});
