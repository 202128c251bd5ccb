import { SignJWT, UnsecuredJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { mintOpaqueToken, parseOpaqueToken, secretMatches, TokenService } from './tokens.ts';

const OLD = { kid: 'old', secret: 'o'.repeat(40) };
const NEW = { kid: 'new', secret: 'n'.repeat(40) };
const claims = { userId: crypto.randomUUID(), sessionId: crypto.randomUUID(), role: 'user' as const };

describe('TokenService', () => {
  it('round-trips claims and verifies tokens signed by a key that is no longer the signer (rotation)', async () => {
    const before = new TokenService([OLD], 900);
    const token = await before.signAccessToken(claims);
    const after = new TokenService([NEW, OLD], 900);
    await expect(after.verifyAccessToken(token)).resolves.toEqual(claims);
    const retired = new TokenService([NEW], 900);
    await expect(retired.verifyAccessToken(token)).rejects.toMatchObject({ code: 'unauthenticated' });
  });

  it('refuses alg "none", foreign algorithms and tampered payloads', async () => {
    const service = new TokenService([NEW], 900);
    const unsecured = new UnsecuredJWT({ sid: claims.sessionId, role: 'admin' })
      .setSubject(claims.userId)
      .setIssuer('edulure')
      .setAudience('edulure:access')
      .setExpirationTime('5m')
      .encode();
    await expect(service.verifyAccessToken(unsecured)).rejects.toMatchObject({ code: 'unauthenticated' });

    const hs512 = await new SignJWT({ sid: claims.sessionId, role: 'user' })
      .setProtectedHeader({ alg: 'HS512', kid: 'new' })
      .setSubject(claims.userId)
      .setIssuer('edulure')
      .setAudience('edulure:access')
      .setExpirationTime('5m')
      .sign(new TextEncoder().encode(NEW.secret));
    await expect(service.verifyAccessToken(hs512)).rejects.toMatchObject({ code: 'unauthenticated' });

    const good = await service.signAccessToken(claims);
    const [h, p, s] = good.split('.');
    const payload = JSON.parse(Buffer.from(p!, 'base64url').toString());
    const forged = `${h}.${Buffer.from(JSON.stringify({ ...payload, role: 'admin' })).toString('base64url')}.${s}`;
    await expect(service.verifyAccessToken(forged)).rejects.toMatchObject({ code: 'unauthenticated' });
  });

  it('refuses expired tokens with a clear message', async () => {
    const service = new TokenService([NEW], 900);
    const expired = await new SignJWT({ sid: claims.sessionId, role: 'user' })
      .setProtectedHeader({ alg: 'HS256', kid: 'new' })
      .setSubject(claims.userId)
      .setIssuer('edulure')
      .setAudience('edulure:access')
      .setIssuedAt(Math.floor(Date.now() / 1000) - 1000)
      .setExpirationTime(Math.floor(Date.now() / 1000) - 10)
      .sign(new TextEncoder().encode(NEW.secret));
    await expect(service.verifyAccessToken(expired)).rejects.toThrow(/expired/);
  });
});

describe('opaque tokens', () => {
  it('store only a hash and match only their own secret', () => {
    const id = crypto.randomUUID();
    const { token, secretHash } = mintOpaqueToken(id);
    expect(token.startsWith(`${id}.`)).toBe(true);
    expect(secretHash).not.toContain(token.split('.')[1]);
    const parsed = parseOpaqueToken(token)!;
    expect(parsed.id).toBe(id);
    expect(secretMatches(parsed.secret, secretHash)).toBe(true);
    expect(secretMatches(parsed.secret.slice(1) + 'x', secretHash)).toBe(false);
    expect(parseOpaqueToken('not-a-token')).toBeNull();
  });
});
