import { sql, type InferResult } from 'kysely';
import type { ChannelDto, CommunityDto, MemberDto, UserRef } from '../../contracts/communities.ts';
import type { Db } from '../../orm/db.ts';
import { activeBar } from '../access/membership.ts';
import type { ChannelSummaryRow } from './channelQueries.ts';

/**
 * Communities as `userId` sees them: the member count, their role, and the ban or kick on record for them (at most one
 * per person and community; whether it still stands is `activeBar`'s to say). The list and the detail add their
 * where, order and limit; `sort_name` is the list's sort key.
 */
export function selectCommunities(q: Db, userId: string) {
  return q
    .selectFrom('communities as c')
    .leftJoin('community_members as me', (join) => join.onRef('me.community_id', '=', 'c.id').on('me.user_id', '=', userId))
    .leftJoin('community_bans as ban', (join) => join.onRef('ban.community_id', '=', 'c.id').on('ban.user_id', '=', userId))
    .select((eb) => [
      'c.id',
      'c.slug',
      'c.name',
      'c.description',
      'c.visibility',
      'c.created_at',
      sql<string>`lower(c.name)`.as('sort_name'),
      eb
        .selectFrom('community_members as n')
        .select(sql<number>`count(*)::int`.as('count'))
        .whereRef('n.community_id', '=', 'c.id')
        .$asScalar()
        .as('member_count'),
      'me.role',
      'ban.expires_at',
      'ban.reason',
    ]);
}

export type CommunityRow = InferResult<ReturnType<typeof selectCommunities>>[number];

/**
 * `now`: the domain clock's time (the clock that set the block), for whether a kick's rejoin block still stands; a
 * viewer kept out is told why (`myBan`) instead of being offered a Join button.
 */
export function presentCommunity(row: CommunityRow, now: Date): CommunityDto {
  const bar = row.reason === null ? null : activeBar({ ban: { reason: row.reason, until: row.expires_at } }, now);
  return {
    id: row.id,
    slug: row.slug,
    name: row.name,
    description: row.description,
    visibility: row.visibility,
    memberCount: row.member_count,
    myRole: row.role,
    myBan: bar && { until: bar.until?.toISOString() ?? null, reason: bar.reason },
    createdAt: row.created_at.toISOString(),
  };
}

/** Members with their names; callers add the where, order and limit. */
export function selectMembers(q: Db) {
  return q
    .selectFrom('community_members as m')
    .innerJoin('users as u', 'u.id', 'm.user_id')
    .select(['m.user_id', 'u.display_name', 'm.role', 'm.joined_at']);
}

export type MemberRow = InferResult<ReturnType<typeof selectMembers>>[number];

export function presentMember(row: MemberRow): MemberDto {
  return { user: { id: row.user_id, displayName: row.display_name }, role: row.role, joinedAt: row.joined_at.toISOString() };
}

/** Only the fields a client may see: members are UserRefs (never e-mails). */
export function presentChannel(row: ChannelSummaryRow, members: UserRef[] = []): ChannelDto {
  return {
    id: row.id,
    communityId: row.community_id,
    kind: row.kind,
    name: row.name,
    topic: row.topic,
    visibility: row.visibility,
    archived: row.archived,
    lastSeq: row.last_seq,
    unreadCount: row.unread_count,
    mentionCount: row.mention_count,
    members,
  };
}
