import type { PresenceStatus } from '../../contracts/chat.ts';
import type { CommunityRole } from '../../contracts/communities.ts';
import { db, uuids } from '../../orm/db.ts';
import type { Orm } from '../../orm/database.ts';
import type { Actor, Deps } from '../shared/deps.ts';
import { AppError } from '../shared/errors.ts';

export interface CommunityPresenceEntry {
  userId: string;
  status: PresenceStatus;
}

/** What the presence policy needs: the actor's membership of the community (null when not a member). */
export interface PresenceAccess {
  communityRole: CommunityRole | null;
}

/** Seeing who is online in a community, and getting its presence updates, is for its members only. */
export const PresencePolicy = {
  view(_actor: Actor, access: PresenceAccess): boolean {
    return access.communityRole !== null;
  },
} as const;

/** The communities whose presence rooms a user's sockets join (one query). */
export async function communityIdsOf(orm: Orm, userId: string): Promise<string[]> {
  const rows = await db(orm.em.fork()).selectFrom('community_members').select('community_id').where('user_id', '=', userId).execute();
  return rows.map((r) => r.community_id);
}

/** For announcing changes: each user's communities, for many users in one query. */
export async function communityIdsByUser(orm: Orm, userIds: readonly string[]): Promise<Map<string, string[]>> {
  const byUser = new Map<string, string[]>(userIds.map((id) => [id, []]));
  if (userIds.length === 0) return byUser;
  const rows = await db(orm.em.fork())
    .selectFrom('community_members')
    .select(['user_id', 'community_id'])
    .where((eb) => eb('user_id', '=', eb.fn.any(uuids(userIds))))
    .execute();
  for (const row of rows) byUser.get(row.user_id)?.push(row.community_id);
  return byUser;
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
  const statuses = await deps.presence.statusOf(members.map((m) => m.user_id)).catch((err: unknown) => {
    deps.logger.warn({ err: String(err) }, 'presence: reading statuses failed');
    throw new AppError('unavailable', 'Presence is unavailable right now. Try again in a moment.');
  });
  const entries: CommunityPresenceEntry[] = [];
  for (const [userId, status] of statuses) if (status !== 'offline') entries.push({ userId, status });
  return entries;
}

/**
 * `GET /presence?userIds=…`: of these people, those who are not offline — for the dots a page shows outside a
 * community's member list (DMs, class chat, threads). Presence is seen only through a shared community (the same
 * rule as the presence rooms that carry live updates), so anyone else is left out, as if offline.
 */
export async function getPeoplePresence(deps: Deps, actor: Actor, userIds: readonly string[]): Promise<CommunityPresenceEntry[]> {
  if (userIds.length === 0) return [];
  const others = userIds.filter((id) => id !== actor.userId);
  const visible = new Set(userIds.filter((id) => id === actor.userId));
  if (others.length > 0) {
    const rows = await db(deps.orm.em.fork())
      .selectFrom('community_members as theirs')
      .innerJoin('community_members as mine', 'mine.community_id', 'theirs.community_id')
      .select('theirs.user_id')
      .distinct()
      .where('mine.user_id', '=', actor.userId)
      .where((eb) => eb('theirs.user_id', '=', eb.fn.any(uuids(others))))
      .execute();
    for (const row of rows) visible.add(row.user_id);
  }
  if (visible.size === 0) return [];
  const statuses = await deps.presence.statusOf([...visible]).catch((err: unknown) => {
    deps.logger.warn({ err: String(err) }, 'presence: reading statuses failed');
    throw new AppError('unavailable', 'Presence is unavailable right now. Try again in a moment.');
  });
  const entries: CommunityPresenceEntry[] = [];
  for (const [userId, status] of statuses) if (status !== 'offline') entries.push({ userId, status });
  return entries;
}
