/**
 * The expiry a JWT carries in its `exp` claim, in epoch milliseconds, or undefined when the token is
 * not a JWT or has no usable `exp`. The signature is not checked: the value only decides when to
 * fetch a new token, and GEM checks the token itself.
 */
export function jwtExpiresAt(token: string): number | undefined {
  const parts = token.split('.');
  if (parts.length !== 3 || !parts[1]) return undefined;
  try {
    const payload: unknown = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8'));
    if (typeof payload !== 'object' || payload === null) return undefined;
    const exp = (payload as Record<string, unknown>).exp;
    if (typeof exp !== 'number' || !(exp > 0)) return undefined;
    // Beyond what a Date holds (±8.64e15 ms; logging it as one would throw): no usable expiry.
    return Number.isNaN(new Date(exp * 1000).getTime()) ? undefined : exp * 1000;
  } catch {
    return undefined;
  }
}
