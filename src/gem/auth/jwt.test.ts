import { describe, expect, it } from 'vitest';
import { jwtExpiresAt } from './jwt.js';
import { maskOpaque } from './mask.js';

const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

describe('jwtExpiresAt', () => {
  it('reads exp (seconds) as epoch milliseconds', () => {
    expect(jwtExpiresAt(`${part({ alg: 'none' })}.${part({ exp: 1_700_000_000 })}.sig`)).toBe(1_700_000_000_000);
  });

  it('gives undefined for opaque tokens, bad payloads and missing exp', () => {
    expect(jwtExpiresAt('opaque-token-value')).toBeUndefined();
    expect(jwtExpiresAt('a.b.c')).toBeUndefined();
    expect(jwtExpiresAt(`${part({})}.${part({ sub: 'x' })}.sig`)).toBeUndefined();
    expect(jwtExpiresAt(`${part({})}.${part({ exp: 'soon' })}.sig`)).toBeUndefined();
    expect(jwtExpiresAt(`${part({})}.${part(42)}.sig`)).toBeUndefined();
    // Past what a Date holds: no expiry, rather than an instant nothing can print.
    expect(jwtExpiresAt(`${part({})}.${part({ exp: 1e13 })}.sig`)).toBeUndefined();
  });
});

describe('maskOpaque', () => {
  it('masks JWTs and long random runs but keeps words, paths and URLs', () => {
    const jwt = `${part({ alg: 'RS256' })}.${part({ exp: 1 })}.AbC123_-xyz`;
    const opaque = 'Zk9xQ2lWbmRqT1pQcVh3eUtMbU5vUHFSc1R1VndYeVo0Mw';
    const text = `Unexpected token in "${jwt}" and ${opaque}; see https://gem.core.orbis.tomtom.com/user_impersonation or /usr/local/lib/python3.11/site-packages`;
    const masked = maskOpaque(text);
    expect(masked).not.toContain(jwt);
    expect(masked).not.toContain(opaque);
    expect(masked).toContain('https://gem.core.orbis.tomtom.com/user_impersonation');
    expect(masked).toContain('/usr/local/lib/python3.11/site-packages');
  });
});
