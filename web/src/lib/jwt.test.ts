import { describe, expect, it } from 'vitest';
import { isTokenFresh, readAccessTokenClaims, renewalMarginSeconds } from './jwt.ts';

function fakeJwt(claims: Record<string, unknown>): string {
  const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${encode({ alg: 'HS256', typ: 'JWT' })}.${encode(claims)}.signature`;
}

describe('readAccessTokenClaims', () => {
  it('reads exp and sid from the payload', () => {
    const token = fakeJwt({ sub: 'u1', sid: 'session-1', exp: 1_900_000_000, name: 'Zoë ✓' });
    expect(readAccessTokenClaims(token)).toEqual({ exp: 1_900_000_000, iat: null, sid: 'session-1' });
  });

  it('returns null for tokens that are not JWTs', () => {
    expect(readAccessTokenClaims('opaque')).toBeNull();
    expect(readAccessTokenClaims('a.%%%.c')).toBeNull();
    expect(readAccessTokenClaims(`x.${Buffer.from('"just a string"').toString('base64url')}.y`)).toBeNull();
  });

  it('ignores claims of the wrong type', () => {
    expect(readAccessTokenClaims(fakeJwt({ exp: 'soon', sid: 42 }))).toEqual({ exp: null, iat: null, sid: null });
  });
});

describe('isTokenFresh', () => {
  const now = 1_800_000_000_000;
  it('is fresh while more than the margin remains', () => {
    expect(isTokenFresh(fakeJwt({ exp: now / 1000 + 60 }), now, 10)).toBe(true);
  });
  it('is stale inside the margin or past expiry', () => {
    expect(isTokenFresh(fakeJwt({ exp: now / 1000 + 5 }), now, 10)).toBe(false);
    expect(isTokenFresh(fakeJwt({ exp: now / 1000 - 1 }), now, 0)).toBe(false);
  });
  it('treats a token without exp as stale', () => {
    expect(isTokenFresh(fakeJwt({ sid: 's' }), now)).toBe(false);
  });
});

describe('renewalMarginSeconds', () => {
  it('is 30 s for ordinary tokens and a tenth of the lifetime for short ones', () => {
    expect(renewalMarginSeconds(fakeJwt({ iat: 1000, exp: 1900 }))).toBe(30);
    expect(renewalMarginSeconds(fakeJwt({ iat: 1000, exp: 1030 }))).toBe(3);
    expect(renewalMarginSeconds(fakeJwt({ exp: 1030 }))).toBe(30);
  });
});
