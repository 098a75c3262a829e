import { describe, expect, it } from 'vitest';
import { ClassifiedError, classifyHttpStatus, isClassifiedError } from './failure.js';

describe('classifyHttpStatus', () => {
  it('calls every 2xx a success', () => {
    for (const status of [200, 201, 202, 204, 299]) expect(classifyHttpStatus(status)).toEqual({ ok: true });
  });

  it('retries a 408 as a timeout, a 429 as rate limited and every 5xx as a server error', () => {
    expect(classifyHttpStatus(408)).toEqual({ ok: false, reason: 'timeout', retryable: true });
    expect(classifyHttpStatus(429)).toEqual({ ok: false, reason: 'rateLimited', retryable: true });
    for (const status of [500, 502, 503, 504, 599]) expect(classifyHttpStatus(status)).toEqual({ ok: false, reason: 'serverError', retryable: true });
  });

  it('gives up on refused credentials (401, 403) as auth', () => {
    expect(classifyHttpStatus(401)).toEqual({ ok: false, reason: 'auth', retryable: false });
    expect(classifyHttpStatus(403)).toEqual({ ok: false, reason: 'auth', retryable: false });
  });

  it('gives up on every other 4xx as a client error', () => {
    for (const status of [400, 402, 404, 405, 410, 413, 422, 499]) {
      expect(classifyHttpStatus(status)).toEqual({ ok: false, reason: 'clientError', retryable: false });
    }
  });

  it('gives up on an answer that is neither success nor error (1xx, 3xx, beyond 599) as a client error', () => {
    for (const status of [100, 199, 300, 301, 302, 304, 307, 308, 600]) {
      expect(classifyHttpStatus(status)).toEqual({ ok: false, reason: 'clientError', retryable: false });
    }
  });
});

describe('ClassifiedError', () => {
  it('keeps reason, retryable, status, Retry-After and cause, and no cause unless given', () => {
    const cause = new Error('socket hang up');
    const error = new ClassifiedError('failed', { reason: 'rateLimited', retryable: true, status: 429, retryAfterMs: 2_000, cause });
    expect(error).toMatchObject({ name: 'ClassifiedError', message: 'failed', reason: 'rateLimited', retryable: true, status: 429, retryAfterMs: 2_000 });
    expect(error.cause).toBe(cause);
    expect(isClassifiedError(error)).toBe(true);
    const bare = new ClassifiedError('x', { reason: 'network', retryable: true });
    expect(bare.status).toBeUndefined();
    expect('cause' in bare).toBe(false);
    expect(isClassifiedError(new Error('x'))).toBe(false);
  });
});
