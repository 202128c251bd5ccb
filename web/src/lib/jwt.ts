/**
 * Reads the unverified claims of an access token. Only for scheduling (is it about to expire? which session is it?):
 * the API verifies every token it receives, so trusting these claims can at worst cost one extra round trip.
 */
export interface AccessTokenClaims {
  /** Expiry as epoch seconds, when present. */
  exp: number | null;
  /** Issue time as epoch seconds, when present. */
  iat: number | null;
  /** Session id (`sid` claim). */
  sid: string | null;
}

export function readAccessTokenClaims(token: string): AccessTokenClaims | null {
  const payload = token.split('.')[1];
  if (!payload) return null;
  try {
    const json = JSON.parse(decodeBase64Url(payload)) as unknown;
    if (typeof json !== 'object' || json === null) return null;
    const { exp, iat, sid } = json as Record<string, unknown>;
    return {
      exp: typeof exp === 'number' && Number.isFinite(exp) ? exp : null,
      iat: typeof iat === 'number' && Number.isFinite(iat) ? iat : null,
      sid: typeof sid === 'string' ? sid : null,
    };
  } catch {
    return null;
  }
}

/** True when the token will still be valid `marginSeconds` from now (clock skew and request latency eat the rest). */
export function isTokenFresh(token: string, nowMs: number, marginSeconds = 10): boolean {
  const claims = readAccessTokenClaims(token);
  if (!claims?.exp) return false;
  return claims.exp * 1000 - marginSeconds * 1000 > nowMs;
}

/**
 * How long before expiry a token should be replaced: 30 s, or a tenth of its lifetime for short-lived tokens, so a
 * deployment with 30-second tokens does not refresh on every request.
 */
export function renewalMarginSeconds(token: string, maxSeconds = 30): number {
  const claims = readAccessTokenClaims(token);
  if (!claims?.exp || !claims.iat || claims.exp <= claims.iat) return maxSeconds;
  return Math.min(maxSeconds, (claims.exp - claims.iat) / 10);
}

function decodeBase64Url(input: string): string {
  const base64 = input.replace(/-/g, '+').replace(/_/g, '/').padEnd(Math.ceil(input.length / 4) * 4, '=');
  const binary = atob(base64);
  const bytes = Uint8Array.from(binary, (c) => c.charCodeAt(0));
  return new TextDecoder().decode(bytes);
}
