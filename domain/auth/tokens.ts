import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { SignJWT, jwtVerify, errors as joseErrors, type JWTPayload } from 'jose';
import { PLATFORM_ROLES, type PlatformRole } from '../../contracts/auth.ts';
import { AppError } from '../shared/errors.ts';

export interface JwtKey {
  kid: string;
  secret: string;
}

export interface AccessClaims {
  userId: string;
  sessionId: string;
  role: PlatformRole;
}

const ISSUER = 'edulure';
const AUDIENCE = 'edulure:access';
/** The only algorithm we sign with and the only one we accept (no `none`, no key-confusion). */
const ALGORITHMS = ['HS256'];

/** Access tokens: short-lived HS256 JWTs; the first key signs, any key in the ring verifies (rotation). */
export class TokenService {
  readonly #keys: Map<string, Uint8Array>;
  readonly #signingKid: string;
  readonly ttlSeconds: number;

  constructor(keys: JwtKey[], ttlSeconds: number) {
    const [first] = keys;
    if (!first) throw new Error('TokenService needs at least one key');
    this.#keys = new Map(keys.map((k) => [k.kid, new TextEncoder().encode(k.secret)]));
    this.#signingKid = first.kid;
    this.ttlSeconds = ttlSeconds;
  }

  async signAccessToken(claims: AccessClaims): Promise<string> {
    return new SignJWT({ sid: claims.sessionId, role: claims.role })
      .setProtectedHeader({ alg: 'HS256', kid: this.#signingKid, typ: 'JWT' })
      .setSubject(claims.userId)
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setIssuedAt()
      .setExpirationTime(`${this.ttlSeconds}s`)
      .sign(this.#keys.get(this.#signingKid)!);
  }

  /** Verifies signature, algorithm, issuer, audience and expiry; throws `unauthenticated` otherwise. */
  async verifyAccessToken(token: string): Promise<AccessClaims> {
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(
        token,
        (header) => {
          const key = header.kid ? this.#keys.get(header.kid) : undefined;
          if (!key) throw new AppError('unauthenticated', 'The access token was signed with an unknown key.');
          return key;
        },
        { algorithms: ALGORITHMS, issuer: ISSUER, audience: AUDIENCE },
      ));
    } catch (err) {
      if (err instanceof AppError) throw err;
      if (err instanceof joseErrors.JWTExpired) throw new AppError('unauthenticated', 'The access token has expired.');
      throw new AppError('unauthenticated', 'The access token is not valid.');
    }
    const role = payload.role;
    if (
      typeof payload.sub !== 'string' ||
      typeof payload.sid !== 'string' ||
      typeof role !== 'string' ||
      !(PLATFORM_ROLES as readonly string[]).includes(role)
    ) {
      throw new AppError('unauthenticated', 'The access token is not valid.');
    }
    return { userId: payload.sub, sessionId: payload.sid, role: role as PlatformRole };
  }
}

/** Opaque tokens look like `<uuid>.<secret>`; only sha256(secret) is stored. */
export function mintOpaqueToken(id: string): { token: string; secretHash: string } {
  const secret = randomBytes(32).toString('base64url');
  return { token: `${id}.${secret}`, secretHash: sha256(secret) };
}

export function parseOpaqueToken(token: string): { id: string; secret: string } | null {
  const match = /^([0-9a-f-]{36})\.([A-Za-z0-9_-]{20,100})$/.exec(token);
  return match ? { id: match[1]!, secret: match[2]! } : null;
}

export function sha256(value: string): string {
  return createHash('sha256').update(value).digest('hex');
}

export function secretMatches(secret: string, expectedHash: string): boolean {
  const actual = Buffer.from(sha256(secret), 'hex');
  const expected = Buffer.from(expectedHash, 'hex');
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

export function generateJwtSecret(): string {
  return randomBytes(48).toString('base64url');
}
