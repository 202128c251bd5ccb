import { LockMode, type EntityManager } from '@mikro-orm/postgresql';
import type { AuthResult, SessionDto } from '../../contracts/auth.ts';
import type { SessionRevokedPayload } from '../../contracts/realtime.ts';
import { RefreshToken, Session, User, type ISession, type IUser } from '../../orm/entities/index.ts';
import { db, uuids } from '../../orm/db.ts';
import { AppError } from '../shared/errors.ts';
import { createBatchedLookup, type GroupOptions } from '../shared/groupCommit.ts';
import type { Actor, ClientInfo, Deps } from '../shared/deps.ts';
import { presentSession, presentUser } from './presenters.ts';
import { mintOpaqueToken, parseOpaqueToken, secretMatches } from './tokens.ts';

const DAY_MS = 86_400_000;

/** Creates a session (one refresh-token family) with its first refresh token, inside the caller's transaction. */
export function openSession(deps: Deps, em: EntityManager, user: IUser, client: ClientInfo) {
  const expiresAt = new Date(Date.now() + deps.auth.refreshTokenTtlDays * DAY_MS);
  const session = em.create(Session, {
    user,
    userAgent: client.userAgent?.slice(0, 512) ?? null,
    ip: client.ip?.slice(0, 64) ?? null,
    expiresAt,
  });
  const refreshToken = issueRefreshToken(em, session, expiresAt);
  return { session, refreshToken };
}

function issueRefreshToken(em: EntityManager, session: ISession, expiresAt: Date): string {
  const id = crypto.randomUUID();
  const { token, secretHash } = mintOpaqueToken(id);
  em.create(RefreshToken, { id, session, secretHash, expiresAt });
  return token;
}

export async function buildAuthResult(
  deps: Deps,
  user: IUser,
  sessionId: string,
  refreshToken: string,
): Promise<AuthResult> {
  const accessToken = await deps.tokens.signAccessToken({ userId: user.id, sessionId, role: user.role });
  return {
    user: presentUser(user),
    accessToken,
    expiresIn: deps.tokens.ttlSeconds,
    refreshToken,
    sessionId,
  };
}

const INVALID_REFRESH = 'The refresh token is not valid. Sign in again.';

/**
 * Rotates a refresh token. Tokens are single-use: presenting one that was already used means it leaked, so the
 * whole session (its token family) is revoked (ASVS 10.4.5). Row locks make concurrent presentations serial.
 */
export async function refreshSession(deps: Deps, rawToken: string, client: ClientInfo): Promise<AuthResult> {
  const parsed = parseOpaqueToken(rawToken);
  if (!parsed) throw new AppError('unauthenticated', INVALID_REFRESH);
  const em = deps.orm.em.fork();
  const outcome = await em.transactional(async (tx) => {
    const stored = await tx.findOne(RefreshToken, { id: parsed.id }, { lockMode: LockMode.PESSIMISTIC_WRITE });
    if (!stored || !secretMatches(parsed.secret, stored.secretHash)) return { kind: 'invalid' as const };
    const session = await tx.findOneOrFail(Session, { id: stored.session.id }, { lockMode: LockMode.PESSIMISTIC_WRITE });
    if (session.revokedAt) return { kind: 'invalid' as const };
    if (stored.usedAt) {
      session.revokedAt = new Date();
      session.revokedReason = 'reuse_detected';
      return { kind: 'reuse' as const, sessionId: session.id };
    }
    const now = new Date();
    if (stored.expiresAt <= now || session.expiresAt <= now) return { kind: 'expired' as const };
    stored.usedAt = now;
    session.lastUsedAt = now;
    if (client.ip) session.ip = client.ip.slice(0, 64);
    const user = await tx.findOneOrFail(User, { id: session.user.id });
    const refreshToken = issueRefreshToken(tx, session, session.expiresAt);
    return { kind: 'ok' as const, user, sessionId: session.id, refreshToken };
  });
  switch (outcome.kind) {
    case 'ok':
      return buildAuthResult(deps, outcome.user, outcome.sessionId, outcome.refreshToken);
    case 'reuse':
      await announceRevocation(deps, { sessionId: outcome.sessionId, reason: 'reuse_detected' });
      deps.logger.warn({ sessionId: outcome.sessionId }, 'refresh token reuse detected; session revoked');
      throw new AppError('unauthenticated', 'This refresh token was already used. The session has been revoked; sign in again.');
    case 'expired':
      throw new AppError('unauthenticated', 'The session has expired. Sign in again.');
    default:
      throw new AppError('unauthenticated', INVALID_REFRESH);
  }
}

/** Marks a session revoked; returns false when it was already revoked (or not the user's). */
async function markRevoked(deps: Deps, userId: string, sessionId: string, reason: SessionRevokedPayload['reason']) {
  const em = deps.orm.em.fork();
  const changed = await em.nativeUpdate(
    Session,
    { id: sessionId, user: userId, revokedAt: null },
    { revokedAt: new Date(), revokedReason: reason },
  );
  return changed > 0;
}

/**
 * After commit: refuse the session's access tokens everywhere, then announce it (the client listener cuts the
 * session's sockets on every node). Awaited, so the caller answers only once the sockets have been told.
 */
export async function announceRevocation(deps: Deps, payload: SessionRevokedPayload) {
  await deps.revocations.revoke(payload.sessionId, deps.tokens.ttlSeconds);
  await deps.events.emit('session.revoked', payload);
}

export async function logout(deps: Deps, actor: Actor): Promise<void> {
  await markRevoked(deps, actor.userId, actor.sessionId, 'logout');
  await announceRevocation(deps, { sessionId: actor.sessionId, reason: 'logout' });
}

export async function revokeSession(deps: Deps, actor: Actor, sessionId: string): Promise<void> {
  const em = deps.orm.em.fork();
  const session = await em.findOne(Session, { id: sessionId, user: actor.userId });
  if (!session || session.revokedAt || session.expiresAt <= new Date()) {
    throw new AppError('not_found', 'No active session with that id.');
  }
  await markRevoked(deps, actor.userId, sessionId, 'revoked');
  await announceRevocation(deps, { sessionId, reason: 'revoked' });
}

export async function listSessions(deps: Deps, actor: Actor): Promise<SessionDto[]> {
  const em = deps.orm.em.fork();
  const sessions = await em.find(
    Session,
    { user: actor.userId, revokedAt: null, expiresAt: { $gt: new Date() } },
    { orderBy: { lastUsedAt: 'desc' }, limit: 100 },
  );
  return sessions.map((s) => presentSession(s, actor.sessionId));
}

/** Proves who is calling: a valid access token whose session has not been revoked. */
export async function authenticate(deps: Deps, accessToken: string): Promise<Actor> {
  const claims = await deps.tokens.verifyAccessToken(accessToken);
  if (await deps.revocations.isRevoked(claims.sessionId)) {
    throw new AppError('unauthenticated', 'This session has been signed out.');
  }
  return claims;
}

/**
 * A stricter check for long-lived connections: also asks the database that the session is still active (one typed
 * read, beside the revocation check: a node taking over thousands of reconnecting sockets runs this for each).
 */
/** What the socket handshake learns of a session: who it is, and whether it may still connect. */
interface SessionCheck {
  user_id: string;
  revoked_at: Date | null;
  expires_at: Date;
  display_name: string;
}

export interface SessionAuthenticator {
  /** The actor of a socket's access token, if its session is live; `unauthenticated` otherwise. */
  authenticate(accessToken: string): Promise<{ actor: Actor; displayName: string }>;
}

/**
 * Socket handshakes, checked in batches like the catch-up of joins: the sessions of the handshakes of a moment (and of
 * those arriving while a batch is read) are read in one statement, beside each token's revocation check. A node taking
 * over thousands of reconnecting clients otherwise paid a statement per client. A failed read rejects its batch with
 * the driver's error, which the handshake answers as an outage.
 */
export function createSessionAuthenticator(deps: Deps, options: GroupOptions = {}): SessionAuthenticator {
  const read = createBatchedLookup(async (sessionIds: string[]) => {
    const found = await db(deps.orm.em.fork())
      .selectFrom('sessions as s')
      .innerJoin('users as u', 'u.id', 's.user_id')
      .select(['s.id', 's.user_id', 's.revoked_at', 's.expires_at', 'u.display_name'])
      .where((eb) => eb('s.id', '=', eb.fn.any(uuids(sessionIds))))
      .execute();
    return new Map<string, SessionCheck>(found.map((r) => [r.id, r]));
  }, { maxBatch: 500, ...options });
  return {
    async authenticate(accessToken) {
      const claims = await deps.tokens.verifyAccessToken(accessToken);
      const [revoked, session] = await Promise.all([deps.revocations.isRevoked(claims.sessionId), read(claims.sessionId)]);
      if (revoked || !session || session.user_id !== claims.userId || session.revoked_at || session.expires_at <= new Date()) {
        throw new AppError('unauthenticated', 'This session has been signed out.');
      }
      return { actor: claims, displayName: session.display_name };
    },
  };
}

/**
 * Revocations live in a store with a TTL; after a restart (or a Redis flush) we reload the ones whose access tokens
 * could still be alive, so a revoked session never gets a second life.
 */
export async function reloadRecentRevocations(deps: Deps): Promise<number> {
  const em = deps.orm.em.fork();
  const since = new Date(Date.now() - deps.tokens.ttlSeconds * 1000);
  const recent = await em.find(Session, { revokedAt: { $gte: since } }, { fields: ['id', 'revokedAt'] });
  // All at once: while Redis is unreachable each write waits out DEPENDENCY_TIMEOUT_MS before falling back to this
  // node's memory, so one after the other would take that long per session.
  await Promise.all(
    recent.map((session) => {
      const remaining = deps.tokens.ttlSeconds - (Date.now() - session.revokedAt!.getTime()) / 1000;
      return remaining > 0 ? deps.revocations.revoke(session.id, remaining) : undefined;
    }),
  );
  return recent.length;
}
