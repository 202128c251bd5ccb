import { sql } from 'kysely';
import { z } from 'zod';
import type { CommunityRole, MemberDto } from '../../contracts/communities.ts';
import { db, type Db } from '../../orm/db.ts';
import { isManagingRole } from '../access/roles.ts';
import { AppError } from '../shared/errors.ts';
import type { Actor, Deps } from '../shared/deps.ts';
import { leaveCommunity, pageOf, type Page } from './communities.ts';
import { decodeCursor } from './cursor.ts';
import { assertNotLastOwner, deleteMembership } from './membership.ts';
import { loadCommunityAccess } from '../access/community.ts';
import { CommunityPolicy } from '../access/community.ts';
import { presentMember, selectMembers } from './presenters.ts';
import { revokeCommunityAccess, revokeLostChannelAccess } from './revoke.ts';

/** joined_at (to the microsecond, UTC) then user id: both immutable, so pages stay stable while people join. */
const MemberCursor = z.tuple([z.iso.datetime({ precision: 6 }), z.uuid()]);

export async function listMembers(
  deps: Deps,
  actor: Actor,
  communityId: string,
  query: { cursor?: string; limit: number },
): Promise<Page<MemberDto>> {
  const q = db(deps.orm.em.fork());
  const after = decodeCursor(MemberCursor, query.cursor);
  const access = await loadCommunityAccess(q, actor.userId, communityId);
  if (!CommunityPolicy.listMembers(access)) throw new AppError('forbidden', 'Join the community to see its members.');
  // The cursor keeps joined_at to the microsecond (a Date holds milliseconds), so key and comparison stay in SQL.
  let page = selectMembers(q)
    .select(sql<string>`to_char(m.joined_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`.as('joined_key'))
    .where('m.community_id', '=', communityId);
  if (after) page = page.where(sql<boolean>`(m.joined_at, m.user_id) > (${after[0]}::timestamptz, ${after[1]}::uuid)`);
  const rows = await page
    .orderBy('m.joined_at')
    .orderBy('m.user_id')
    .limit(query.limit + 1)
    .execute();
  return pageOf(rows, query.limit, (r) => [r.joined_key, r.user_id], presentMember);
}

/** The member's community role and their platform role (whether they moderate everywhere). */
async function loadTarget(q: Db, communityId: string, userId: string) {
  const target = await q
    .selectFrom('community_members as m')
    .innerJoin('users as u', 'u.id', 'm.user_id')
    .select(['m.role', 'u.role as platform_role'])
    .where('m.community_id', '=', communityId)
    .where('m.user_id', '=', userId)
    .executeTakeFirst();
  if (!target) throw new AppError('not_found', 'That user is not a member of this community.');
  return target;
}

export async function updateMemberRole(
  deps: Deps,
  actor: Actor,
  communityId: string,
  userId: string,
  role: CommunityRole,
): Promise<MemberDto> {
  const em = deps.orm.em.fork();
  const { member, target } = await em.transactional(async (tx) => {
    const q = db(tx);
    const access = await loadCommunityAccess(q, actor.userId, communityId, { lock: true });
    const target = await loadTarget(q, communityId, userId);
    if (!CommunityPolicy.setRole(access.role, target.role, role)) {
      throw new AppError('forbidden', access.role === 'admin' ? 'Admins can only move people between moderator and member.' : 'Only owners and admins can change roles.');
    }
    if (target.role === 'owner' && role !== 'owner') {
      await assertNotLastOwner(q, communityId, 'The last owner cannot be demoted: make someone else owner first.');
    }
    if (target.role !== role) {
      await q
        .updateTable('community_members')
        .set({ role })
        .where('community_id', '=', communityId)
        .where('user_id', '=', userId)
        .execute();
    }
    const member = await selectMembers(q)
      .where('m.community_id', '=', communityId)
      .where('m.user_id', '=', userId)
      .executeTakeFirstOrThrow();
    return { member: presentMember(member), target };
  });
  if (target.role === role) return member;
  await deps.events.emit('member.role_changed', {
    communityId,
    userId,
    previousRole: target.role,
    role,
    platformRole: target.platform_role,
  });
  // Owners and admins read every private channel; a demotion may take some away.
  if (isManagingRole(target.role) && !isManagingRole(role)) {
    const channels = await db(deps.orm.em.fork())
      .selectFrom('channels')
      .select('id')
      .where('community_id', '=', communityId)
      .where('kind', '=', 'channel')
      .where('visibility', '=', 'private')
      .execute();
    await revokeLostChannelAccess(
      deps,
      userId,
      channels.map((c) => c.id),
      target.platform_role,
    );
  }
  return member;
}

/** Kick by someone of higher rank; removing yourself is leaving. */
export async function removeMember(deps: Deps, actor: Actor, communityId: string, userId: string): Promise<void> {
  if (userId === actor.userId) return leaveCommunity(deps, actor, communityId);
  const em = deps.orm.em.fork();
  const { channelIds, platformRole } = await em.transactional(async (tx) => {
    const q = db(tx);
    const access = await loadCommunityAccess(q, actor.userId, communityId, { lock: true });
    const target = await loadTarget(q, communityId, userId);
    if (!CommunityPolicy.remove(access.role, target.role)) throw new AppError('forbidden', 'You cannot remove this member.');
    return { channelIds: await deleteMembership(q, communityId, userId), platformRole: target.platform_role };
  });
  await revokeCommunityAccess(deps, userId, communityId, channelIds, platformRole);
}
