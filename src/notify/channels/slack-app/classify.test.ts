import { describe, expect, it } from 'vitest';
import { classifyWebApiAnswer, classifyWebApiError } from './classify.js';

const answer = (status: number, body: Record<string, unknown> | undefined, retryAfter: string | null = null) => ({ status, body, retryAfter });
const NOW = Date.UTC(2026, 0, 20);

describe('Slack Web API answers', () => {
  it('passes ok: true, and retries rate limits with their Retry-After, 5xx and Slack\'s own server errors', () => {
    expect(classifyWebApiAnswer('chat.update', answer(200, { ok: true }), 'channel "#a"', NOW)).toBeUndefined();
    expect(classifyWebApiAnswer('chat.update', answer(429, { ok: false, error: 'ratelimited' }, '7'), 'channel "#a"', NOW)).toMatchObject({ reason: 'rateLimited', retryable: true, retryAfterMs: 7_000 });
    expect(classifyWebApiAnswer('chat.update', answer(200, { ok: false, error: 'ratelimited' }), 'channel "#a"', NOW)).toMatchObject({ reason: 'rateLimited', retryable: true });
    expect(classifyWebApiAnswer('chat.postMessage', answer(503, undefined), 'channel "#a"', NOW)).toMatchObject({ reason: 'serverError', retryable: true });
    expect(classifyWebApiAnswer('chat.postMessage', answer(200, { ok: false, error: 'internal_error' }), 'channel "#a"', NOW)).toMatchObject({ retryable: true });
    expect(classifyWebApiAnswer('chat.postMessage', answer(200, undefined), 'channel "#a"', NOW)).toMatchObject({ reason: 'badResponse', retryable: true });
  });

  it('gives up on refused tokens (auth) and on channel problems, saying what to fix, and on redirects', () => {
    const auth = classifyWebApiAnswer('chat.postMessage', answer(200, { ok: false, error: 'token_revoked' }), 'channel "#a"', NOW)!;
    expect(auth).toMatchObject({ reason: 'auth', retryable: false, code: 'token_revoked' });
    expect(auth.message).toContain('reinstall the Slack app');
    const archived = classifyWebApiAnswer('chat.postMessage', answer(200, { ok: false, error: 'is_archived' }), 'channel "#a"', NOW)!;
    expect(archived).toMatchObject({ reason: 'clientError', retryable: false });
    expect(archived.message).toBe('Slack chat.postMessage for channel "#a" answered 200 is_archived (not retried: the channel is archived: unarchive it or point SLACK_CHANNEL (or the route\'s slackApp.channel) at another channel)');
    expect(classifyWebApiAnswer('chat.postMessage', answer(302, undefined), 'channel "#a"', NOW)).toMatchObject({ retryable: false });
    // An error word Slack may add later is permanent, and a body that is not a word is never quoted.
    expect(classifyWebApiAnswer('chat.postMessage', answer(200, { ok: false, error: 'brand_new_error' }), 'channel "#a"', NOW)).toMatchObject({ retryable: false, code: 'brand_new_error' });
    expect(classifyWebApiAnswer('chat.postMessage', answer(200, { ok: false, error: 'xoxb-secret <script>' }), 'channel "#a"', NOW)!.message).not.toContain('xoxb');
  });

  it('retries a call that got no answer', () => {
    expect(classifyWebApiError('auth.test', Object.assign(new Error('late'), { name: 'TimeoutError' }), 'the bot token')).toMatchObject({ reason: 'timeout', retryable: true });
    expect(classifyWebApiError('auth.test', Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }), 'the bot token')).toMatchObject({ reason: 'serverError', retryable: true });
  });
});
