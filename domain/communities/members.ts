import { z } from 'zod';
import type { CommunityRole, MemberDto } from '../../contracts/communities.ts';
import { AppError } from '../shared/errors.ts';
import type { Actor, Deps } from '../shared/deps.ts';
import { sqlOf, type Sql } from '../shared/sql.ts';
import { leaveCommunity, pageOf, type Page } from './communities.ts';
import { decodeCursor } from './cursor.ts';
import { assertNotLastOwner, deleteMembership, loadCommunityAccess } from './membership.ts';
import { CommunityPolicy } from './policies.ts';
import { presentMember, type MemberRow } from './presenters.ts';
import { revokeCommunityAccess, revokeLostChannelAccess, revokeModerationAccess } from './revoke.ts';

const MEMBER_SELECT = `
  select m.user_id, u.display_name, m.role, m.joined_at,
         to_char(m.joined_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as joined_key
  from community_members m join users u on u.id = m.user_id`;

/** joined_at (to the microsecond, UTC) then user id: both immutable, so pages stay stable while people join. */
const MemberCursor = z.tuple([z.iso.datetime({ precision: 6 }), z.uuid()]);

export async function listMembers(
  deps: Deps,
  actor: Actor,
  communityId: string,
  query: { cursor?: string; limit: number },
): Promise<Page<MemberDto>> {
  const sql = sqlOf(deps.orm.em.fork());
  const after = decodeCursor(MemberCursor, query.cursor);
  const access = await loadCommunityAccess(sql, actor.userId, communityId);
  if (!CommunityPolicy.listMembers(access)) throw new AppError('forbidden', 'Join the community to see its members.');
  const rows = await sql<MemberRow & { joined_key: string }>(
    `${MEMBER_SELECT} where m.community_id = ? ${after ? 'and (m.joined_at, m.user_id) > (?::timestamptz, ?::uuid)' : ''}
     order by m.joined_at, m.user_id limit ?`,
    [communityId, ...(after ?? []), query.limit + 1],
  );
  return pageOf(rows, query.limit, (r) => [r.joined_key, r.user_id], presentMember);
}

async function targetRole(sql: Sql, communityId: string, userId: string): Promise<CommunityRole> {
  const [row] = await sql<{ role: CommunityRole }>('select role from community_members where community_id = ? and user_id = ?', [
    communityId,
    userId,
  ]);
  if (!row) throw new AppError('not_found', 'That user is not a member of this community.');
  return row.role;
}

const MANAGING: readonly CommunityRole[] = ['owner', 'admin'];
const MODERATING: readonly CommunityRole[] = ['owner', 'admin', 'moderator'];

export async function updateMemberRole(
  deps: Deps,
  actor: Actor,
  communityId: string,
  userId: string,
  role: CommunityRole,
): Promise<MemberDto> {
  const em = deps.orm.em.fork();
  const { member, previous } = await em.transactional(async (tx) => {
    const sql = sqlOf(tx);
    const access = await loadCommunityAccess(sql, actor.userId, communityId, { lock: true });
    const previous = await targetRole(sql, communityId, userId);
    if (!CommunityPolicy.setRole(access.role, previous, role)) {
      throw new AppError('forbidden', access.role === 'admin' ? 'Admins can only move people between moderator and member.' : 'Only owners and admins can change roles.');
    }
    if (previous === 'owner' && role !== 'owner') {
      await assertNotLastOwner(sql, communityId, 'The last owner cannot be demoted: make someone else owner first.');
    }
    if (previous !== role) {
      await sql('update community_members set role = ? where community_id = ? and user_id = ?', [role, communityId, userId]);
    }
    const [member] = await sql<MemberRow>(`${MEMBER_SELECT} where m.community_id = ? and m.user_id = ?`, [communityId, userId]);
    return { member: presentMember(member!), previous };
  });
  // A moderator demoted to member stops hearing the moderation queue at once.
  if (MODERATING.includes(previous) && !MODERATING.includes(role)) await revokeModerationAccess(deps, userId, communityId);
  // Owners and admins read every private channel; a demotion may take some away.
  if (MANAGING.includes(previous) && !MANAGING.includes(role)) {
    const channels = await sqlOf(deps.orm.em.fork())<{ id: string }>(
      `select id from channels where community_id = ? and kind = 'channel' and visibility = 'private'`,
      [communityId],
    );
    await revokeLostChannelAccess(
      deps,
      userId,
      channels.map((c) => c.id),
    );
  }
  return member;
}

/** Kick by someone of higher rank; removing yourself is leaving. */
export async function removeMember(deps: Deps, actor: Actor, communityId: string, userId: string): Promise<void> {
  if (userId === actor.userId) return leaveCommunity(deps, actor, communityId);
  const em = deps.orm.em.fork();
  const channelIds = await em.transactional(async (tx) => {
    const sql = sqlOf(tx);
    const access = await loadCommunityAccess(sql, actor.userId, communityId, { lock: true });
    const role = await targetRole(sql, communityId, userId);
    if (!CommunityPolicy.remove(access.role, role)) throw new AppError('forbidden', 'You cannot remove this member.');
    return deleteMembership(sql, communityId, userId);
  });
  await revokeCommunityAccess(deps, userId, communityId, channelIds);
}
