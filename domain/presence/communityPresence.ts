import type { PresenceStatus } from '../../contracts/chat.ts';
import type { CommunityRole } from '../../contracts/communities.ts';
import { db, uuids } from '../../orm/db.ts';
import type { Orm } from '../../orm/database.ts';
import type { Actor, Deps, Logger } from '../shared/deps.ts';
import { AppError, DEPENDENCY_RETRY_AFTER_SECONDS } from '../shared/errors.ts';
import { createBatchedLookup, type GroupOptions } from '../shared/groupCommit.ts';
import type { ChosenStatus, PresenceReader } from './store.ts';

/** Someone who is not offline, with their status. */
export interface CommunityPresenceEntry {
  userId: string;
  status: ChosenStatus;
}

/** What the presence policy needs: the actor's membership of the community (null when not a member). */
export interface PresenceAccess {
  communityRole: CommunityRole | null;
}

/** Seeing who is online in a community is for its members only. */
export const PresencePolicy = {
  view(_actor: Actor, access: PresenceAccess): boolean {
    return access.communityRole !== null;
  },
} as const;

/** The communities of each of these people (distinct), in one statement (a person in none is absent from the map). */
async function communityIdsOfMany(orm: Orm, userIds: readonly string[]): Promise<Map<string, string[]>> {
  const rows = await db(orm.em.fork())
    .selectFrom('community_members')
    .select(['user_id', 'community_id'])
    .where((eb) => eb('user_id', '=', eb.fn.any(uuids(userIds))))
    .execute();
  const byUser = new Map<string, string[]>();
  for (const r of rows) {
    const ids = byUser.get(r.user_id);
    if (ids) ids.push(r.community_id);
    else byUser.set(r.user_id, [r.community_id]);
  }
  return byUser;
}

/**
 * The communities whose presence rooms a new socket joins, read for the handshakes of a moment together (like the
 * session check before it): a node taking over thousands of reconnecting clients reads them in a handful of
 * statements, not one per client.
 */
export function createCommunityIdsReader(orm: Orm, options: GroupOptions = {}): (userId: string) => Promise<string[]> {
  const lookup = createBatchedLookup((userIds: string[]) => communityIdsOfMany(orm, userIds), { maxBatch: 500, ...options });
  return async (userId) => (await lookup(userId)) ?? [];
}

/**
 * `GET /communities/:id/presence`: the members who are not offline. A non-member gets `not_found`, so a private
 * community's existence is not revealed.
 */
export async function getCommunityPresence(deps: Deps, actor: Actor, communityId: string): Promise<CommunityPresenceEntry[]> {
  const q = db(deps.orm.em.fork());
  const membership = await q
    .selectFrom('community_members')
    .select('role')
    .where('community_id', '=', communityId)
    .where('user_id', '=', actor.userId)
    .executeTakeFirst();
  if (!PresencePolicy.view(actor, { communityRole: membership?.role ?? null })) {
    throw new AppError('not_found', 'No such community.');
  }
  const members = await q.selectFrom('community_members').select('user_id').where('community_id', '=', communityId).execute();
  return presentAmong(
    deps.presence,
    deps.logger,
    members.map((m) => m.user_id),
  );
}

/**
 * Of these people, those whose presence the user may see: the user themself and anyone sharing a community with them
 * (the rule for `GET /presence` and for following people with `presence:watch`).
 */
export async function visiblePeople(orm: Orm, userId: string, userIds: readonly string[]): Promise<string[]> {
  const visible = userIds.filter((id) => id === userId);
  const others = userIds.filter((id) => id !== userId);
  if (others.length === 0) return visible;
  const rows = await db(orm.em.fork())
    .selectFrom('community_members as theirs')
    .innerJoin('community_members as mine', 'mine.community_id', 'theirs.community_id')
    .select('theirs.user_id')
    .distinct()
    .where('mine.user_id', '=', userId)
    .where((eb) => eb('theirs.user_id', '=', eb.fn.any(uuids(others))))
    .execute();
  return [...visible, ...rows.map((r) => r.user_id)];
}

/** What a caller is told when the presence store cannot answer. */
export function presenceUnavailable(): AppError {
  // Only the Redis-backed store can fail to answer (the in-memory one cannot).
  return new AppError('unavailable', `Presence is unavailable right now. Try again in ${DEPENDENCY_RETRY_AFTER_SECONDS} s.`, {
    details: { dependency: 'redis' },
    retryAfter: DEPENDENCY_RETRY_AFTER_SECONDS,
  });
}

/** Of these people, those who are not offline, with their status; `unavailable` when the store cannot answer. */
export async function presentAmong(presence: PresenceReader, logger: Logger, userIds: readonly string[]): Promise<CommunityPresenceEntry[]> {
  if (userIds.length === 0) return [];
  let statuses: Map<string, PresenceStatus>;
  try {
    statuses = await presence.statusOf(userIds);
  } catch (err) {
    logger.warn({ err: String(err) }, 'presence: reading statuses failed');
    throw presenceUnavailable();
  }
  const entries: CommunityPresenceEntry[] = [];
  for (const [userId, status] of statuses) if (status !== 'offline') entries.push({ userId, status });
  return entries;
}

/**
 * `GET /presence?userIds=…`: of these people, those who are not offline — for the dots a page shows outside a
 * community's member list. Presence is seen only through a shared community, so anyone else is left out, as if
 * offline.
 */
export async function getPeoplePresence(deps: Deps, actor: Actor, userIds: readonly string[]): Promise<CommunityPresenceEntry[]> {
  if (userIds.length === 0) return [];
  return presentAmong(deps.presence, deps.logger, await visiblePeople(deps.orm, actor.userId, userIds));
}
