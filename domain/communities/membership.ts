import type { CommunityRole } from '../../contracts/communities.ts';
import { AppError } from '../shared/errors.ts';
import type { Sql } from '../shared/sql.ts';
import { CommunityPolicy, type CommunityAccess } from './policies.ts';

/*
 * Membership primitives every community feature builds on: the caller's standing, who may not join, the last-owner
 * rule and the removal of a membership. Joining, leaving, member management, invites, moderation and classrooms all
 * rest on these, and this module depends on none of them.
 */

/**
 * Loads the caller's standing in a live community. Communities the caller may not view answer `not_found`, so private
 * ones are not revealed. `lock` takes the community row FOR UPDATE: membership changes that depend on counting owners
 * run one at a time per community.
 */
export async function loadCommunityAccess(
  sql: Sql,
  userId: string,
  communityId: string,
  options: { lock?: boolean; requireView?: boolean } = {},
): Promise<CommunityAccess> {
  const [row] = await sql<{ visibility: CommunityAccess['visibility']; role: CommunityRole | null }>(
    `select c.visibility, me.role from communities c
     left join community_members me on me.community_id = c.id and me.user_id = ?
     where c.id = ? and c.archived_at is null ${options.lock ? 'for update of c' : ''}`,
    [userId, communityId],
  );
  const access = row ? { communityId, visibility: row.visibility, role: row.role } : null;
  if (!access || ((options.requireView ?? true) && !CommunityPolicy.view(access))) {
    throw new AppError('not_found', 'No such community.');
  }
  return access;
}

/**
 * Joining (publicly or by invite) refuses someone the community barred: for good after a ban, until the kick's block
 * runs out after a kick. Checked with the domain clock, the one that set the block. Call it in the transaction that
 * adds the membership: the share lock on the community waits for a ban being written (which holds the row for update),
 * so a join cannot slip in between a ban's check and its removal of the membership.
 */
export async function assertNotBanned(sql: Sql, communityId: string, userId: string, now: Date): Promise<void> {
  await sql('select 1 from communities where id = ? for share', [communityId]);
  const [ban] = await sql<{ reason: string; expires_at: Date | string | null }>(
    'select reason, expires_at from community_bans where community_id = ? and user_id = ? and (expires_at is null or expires_at > ?)',
    [communityId, userId, now],
  );
  if (!ban) return;
  if (ban.expires_at === null) throw new AppError('forbidden', 'You are banned from this community.', { details: { banned: true } });
  const until = new Date(ban.expires_at).toISOString();
  throw new AppError('forbidden', `You were removed from this community and can rejoin after ${until}.`, {
    details: { rejoinAfter: until },
    retryAfter: Math.max(1, Math.ceil((new Date(until).getTime() - now.getTime()) / 1000)),
  });
}

/**
 * Deletes a membership with the user's private-channel memberships in that community; returns the community's channel
 * ids, all of which the user can no longer read. Runs inside the caller's transaction (community row locked).
 */
export async function deleteMembership(sql: Sql, communityId: string, userId: string): Promise<string[]> {
  const channels = await sql<{ id: string }>(`select id from channels where community_id = ?`, [communityId]);
  await sql(`delete from channel_members where user_id = ? and channel_id in (select id from channels where community_id = ?)`, [
    userId,
    communityId,
  ]);
  await sql(`delete from community_members where community_id = ? and user_id = ?`, [communityId, userId]);
  return channels.map((c) => c.id);
}

export async function assertNotLastOwner(sql: Sql, communityId: string, message: string): Promise<void> {
  const [row] = await sql<{ owners: string | number }>(
    `select count(*) as owners from community_members where community_id = ? and role = 'owner'`,
    [communityId],
  );
  if (Number(row?.owners ?? 0) <= 1) throw new AppError('conflict', message);
}
