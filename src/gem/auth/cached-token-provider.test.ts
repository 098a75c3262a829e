import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../telemetry/logger.js';
import { CachedTokenProvider } from './cached-token-provider.js';
import type { FetchedToken, TokenSource } from './token-source.js';

const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
const jwt = (expMs: number, id: string) => `${part({ alg: 'RS256' })}.${part({ exp: Math.floor(expMs / 1000), jti: id })}.sig`;

/** A TokenSource whose answers the test hands out one by one. */
class ScriptedSource implements TokenSource {
  readonly kind = 'scripted';
  calls = 0;
  private waiting: Array<{ resolve: (token: FetchedToken) => void; reject: (error: unknown) => void }> = [];
  next: Array<FetchedToken | Error> = [];

  fetchToken(): Promise<FetchedToken> {
    this.calls += 1;
    const answer = this.next.shift();
    if (answer instanceof Error) return Promise.reject(answer);
    if (answer) return Promise.resolve(answer);
    return new Promise((resolve, reject) => this.waiting.push({ resolve, reject }));
  }
  answer(token: FetchedToken): void {
    this.waiting.shift()!.resolve(token);
  }
}

function captureLogs() {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk, _encoding, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  return { lines, logger: createLogger({ level: 'debug', pretty: 'false', destination }) };
}

describe('CachedTokenProvider', () => {
  it('reuses a token until the refresh margin before its printed expiry, then fetches a new one', async () => {
    let now = 1_000_000;
    const source = new ScriptedSource();
    source.next.push({ token: 'opaque-one', expiresAt: now + 3_600_000 }, { token: 'opaque-two', expiresAt: now + 7_200_000 });
    const provider = new CachedTokenProvider(source, { refreshMarginMs: 300_000, clock: () => now });
    expect(await provider.getToken()).toBe('opaque-one');
    now += 3_600_000 - 300_001;
    expect(await provider.getToken()).toBe('opaque-one');
    expect(source.calls).toBe(1);
    now += 1;
    expect(await provider.getToken()).toBe('opaque-two');
    expect(source.calls).toBe(2);
    expect(provider.state()).toMatchObject({ kind: 'scripted', expirySource: 'printed', fetches: 2 });
  });

  it("trusts a JWT's exp over the printed expiry, and uses defaultTtlMs when neither is known", async () => {
    let now = 5_000_000;
    const source = new ScriptedSource();
    const early = jwt(now + 600_000, 'a');
    source.next.push({ token: early, expiresAt: now + 3_600_000 }, { token: 'opaque' });
    const provider = new CachedTokenProvider(source, { refreshMarginMs: 60_000, defaultTtlMs: 1_000_000, clock: () => now });
    expect(await provider.getToken()).toBe(early);
    expect(provider.state()).toMatchObject({ expirySource: 'jwt', expiresAt: now + 600_000 });
    now += 600_000 - 60_000;
    expect(await provider.getToken()).toBe('opaque');
    expect(provider.state()).toMatchObject({ expirySource: 'default', expiresAt: now + 1_000_000 });
  });

  it('refreshes an expired JWT before use instead of handing it out', async () => {
    let now = 10_000_000;
    const source = new ScriptedSource();
    const first = jwt(now + 3_600_000, 'first');
    const second = jwt(now + 7_200_000, 'second');
    source.next.push({ token: first }, { token: second });
    const provider = new CachedTokenProvider(source, { refreshMarginMs: 0, clock: () => now });
    expect(await provider.getToken()).toBe(first);
    now += 3_600_000;
    expect(await provider.getToken()).toBe(second);
    expect(source.calls).toBe(2);
  });

  it('refreshes a token shorter-lived than twice the margin halfway through its life', async () => {
    let now = 0;
    const source = new ScriptedSource();
    source.next.push({ token: 'short-one', expiresAt: 120_000 }, { token: 'short-two', expiresAt: 500_000 });
    const provider = new CachedTokenProvider(source, { refreshMarginMs: 300_000, clock: () => now });
    expect(await provider.getToken()).toBe('short-one');
    now = 59_999;
    expect(await provider.getToken()).toBe('short-one');
    now = 60_000;
    expect(await provider.getToken()).toBe('short-two');
  });

  it('runs one fetch for twenty concurrent callers', async () => {
    const source = new ScriptedSource();
    const provider = new CachedTokenProvider(source);
    const calls = Array.from({ length: 20 }, () => provider.getToken());
    expect(source.calls).toBe(1);
    source.answer({ token: 'shared-token' });
    expect(await Promise.all(calls)).toEqual(Array(20).fill('shared-token'));
    expect(source.calls).toBe(1);
  });

  it('starts one refresh when twenty requests invalidate the same rejected token', async () => {
    const source = new ScriptedSource();
    source.next.push({ token: 'old-token' });
    const provider = new CachedTokenProvider(source);
    expect(await provider.getToken()).toBe('old-token');
    const retries = Array.from({ length: 20 }, () => {
      provider.invalidate('old-token');
      return provider.getToken();
    });
    expect(source.calls).toBe(2);
    source.answer({ token: 'new-token' });
    expect(await Promise.all(retries)).toEqual(Array(20).fill('new-token'));
    provider.invalidate('old-token');
    expect(await provider.getToken()).toBe('new-token');
    expect(source.calls).toBe(2);
  });

  it('shares a failure with every waiting caller, then waits out the cooldown before trying again', async () => {
    let now = 0;
    const source = new ScriptedSource();
    source.next.push(new Error('command broke'));
    const provider = new CachedTokenProvider(source, { failureCooldownMs: 10_000, clock: () => now });
    const results = await Promise.allSettled(Array.from({ length: 5 }, () => provider.getToken()));
    expect(results.every((result) => result.status === 'rejected')).toBe(true);
    expect(source.calls).toBe(1);
    now = 9_999;
    await expect(provider.getToken()).rejects.toThrow('command broke');
    expect(source.calls).toBe(1);
    now = 10_000;
    source.next.push({ token: 'works-again' });
    expect(await provider.getToken()).toBe('works-again');
    expect(source.calls).toBe(2);
  });

  it('keeps using a still-valid token while fetching its successor fails, and logs the failure once', async () => {
    let now = 0;
    const { lines, logger } = captureLogs();
    const source = new ScriptedSource();
    source.next.push({ token: 'still-good-token', expiresAt: 1_000_000 });
    const provider = new CachedTokenProvider(source, { refreshMarginMs: 300_000, failureCooldownMs: 1_000, clock: () => now, logger });
    await provider.getToken();
    for (now = 700_000; now < 720_000; now += 1_000) {
      source.next.push(new Error('az is down'));
      expect(await provider.getToken()).toBe('still-good-token');
    }
    expect(lines.filter((line) => line.includes('could not fetch a new bearer token'))).toHaveLength(1);
    now = 1_000_000;
    source.next.push(new Error('az is down'));
    await expect(provider.getToken()).rejects.toThrow('az is down');
  });

  it('hands out a token that arrives already expired once, without keeping it', async () => {
    const now = 50_000_000;
    const source = new ScriptedSource();
    source.next.push({ token: jwt(now - 1_000, 'stale') }, { token: jwt(now + 3_600_000, 'fresh') });
    const provider = new CachedTokenProvider(source, { clock: () => now });
    expect(await provider.getToken()).toBe(jwt(now - 1_000, 'stale'));
    expect(await provider.getToken()).toBe(jwt(now + 3_600_000, 'fresh'));
    expect(source.calls).toBe(2);
  });

  it('never writes a token to the log', async () => {
    let now = 0;
    const { lines, logger } = captureLogs();
    const token = jwt(3_600_000, 'do-not-log');
    const source = new ScriptedSource();
    source.next.push({ token }, new Error('later failure'));
    const provider = new CachedTokenProvider(source, { clock: () => now, logger, refreshMarginMs: 0 });
    await provider.getToken();
    now = 3_600_000;
    await expect(provider.getToken()).rejects.toThrow();
    expect(lines.length).toBeGreaterThanOrEqual(2);
    for (const line of lines) expect(line).not.toContain(token);
  });
});
