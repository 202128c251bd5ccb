import type { PresenceStatus } from '../../contracts/chat.ts';
import type { CommunityRole } from '../../contracts/communities.ts';
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

async function sql<T>(orm: Orm, text: string, params: unknown[]): Promise<T[]> {
  return (await orm.em.getConnection().execute(text, params, 'all')) as T[];
}

/** A PostgreSQL array literal of uuids (already validated as uuids by their source), bound as one parameter. */
const uuidArray = (ids: readonly string[]) => `{${ids.join(',')}}`;

/** The communities whose presence rooms a user's sockets join (one query). */
export async function communityIdsOf(orm: Orm, userId: string): Promise<string[]> {
  const rows = await sql<{ community_id: string }>(
    orm,
    'select community_id from community_members where user_id = ?',
    [userId],
  );
  return rows.map((r) => r.community_id);
}

/** For announcing changes: each user's communities, for many users in one query. */
export async function communityIdsByUser(orm: Orm, userIds: readonly string[]): Promise<Map<string, string[]>> {
  const byUser = new Map<string, string[]>(userIds.map((id) => [id, []]));
  if (userIds.length === 0) return byUser;
  const rows = await sql<{ user_id: string; community_id: string }>(
    orm,
    'select user_id, community_id from community_members where user_id = any(?::uuid[])',
    [uuidArray(userIds)],
  );
  for (const row of rows) byUser.get(row.user_id)?.push(row.community_id);
  return byUser;
}

/**
 * `GET /communities/:id/presence`: the members who are not offline. A non-member gets `not_found`, so a private
 * community's existence is not revealed.
 */
export async function getCommunityPresence(deps: Deps, actor: Actor, communityId: string): Promise<CommunityPresenceEntry[]> {
  const [membership] = await sql<{ role: CommunityRole }>(
    deps.orm,
    'select role from community_members where community_id = ? and user_id = ?',
    [communityId, actor.userId],
  );
  if (!PresencePolicy.view(actor, { communityRole: membership?.role ?? null })) {
    throw new AppError('not_found', 'No such community.');
  }
  const members = await sql<{ user_id: string }>(deps.orm, 'select user_id from community_members where community_id = ?', [communityId]);
  const statuses = await deps.presence.statusOf(members.map((m) => m.user_id)).catch((err: unknown) => {
    deps.logger.warn({ err: String(err) }, 'presence: reading statuses failed');
    throw new AppError('unavailable', 'Presence is unavailable right now. Try again in a moment.');
  });
  const entries: CommunityPresenceEntry[] = [];
  for (const [userId, status] of statuses) if (status !== 'offline') entries.push({ userId, status });
  return entries;
}
