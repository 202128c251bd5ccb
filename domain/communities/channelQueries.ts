import type { CommunityRole } from '../../contracts/communities.ts';
import type { ChannelAccess } from '../chat/access.ts';
import type { Sql } from '../shared/sql.ts';
import type { ChannelRow } from './presenters.ts';

export interface ChannelSummaryRow extends ChannelRow {
  channel_member: boolean;
  created_at: Date | string;
}

/**
 * Channels as one caller sees them, with `lastSeq`, `unreadCount` and `mentionCount`, for any number of channels in
 * ONE statement (counts are correlated subqueries over the (channel_id, seq) unique index and the mentions index).
 * Unread: messages after the caller's read state, not deleted, not their own. Mentions: their mention rows after the
 * read state (deleting a message deletes its mention rows). Same definitions as domain/chat/reading.ts.
 *
 * The first placeholder is the caller's user id; `where` adds its own after it. Aliases: `c` channel, `me.id` caller,
 * `mine` the caller's channel_members row (null when none).
 */
export function channelSummarySql(where: string, orderBy = 'c.id'): string {
  return `
    select c.id, c.community_id, c.kind, c.name, c.topic, c.visibility, c.archived_at is not null as archived,
           c.last_seq, c.created_at, mine.user_id is not null as channel_member,
           (select count(*) from messages m
             where m.channel_id = c.id and m.seq > coalesce(rs.last_read_seq, 0)
               and m.deleted_at is null and m.author_id <> me.id) as unread_count,
           (select count(*) from message_mentions mm
             where mm.channel_id = c.id and mm.user_id = me.id and mm.seq > coalesce(rs.last_read_seq, 0)) as mention_count
    from (select ?::uuid as id) me
    cross join channels c
    left join channel_members mine on mine.channel_id = c.id and mine.user_id = me.id
    left join channel_read_states rs on rs.channel_id = c.id and rs.user_id = me.id
    where ${where}
    order by ${orderBy}`;
}

export async function loadChannelSummary(sql: Sql, userId: string, channelId: string): Promise<ChannelSummaryRow | undefined> {
  const [row] = await sql<ChannelSummaryRow>(channelSummarySql('c.id = ?'), [userId, channelId]);
  return row;
}

/** The ChannelPolicy view of a community channel's summary row (block state only concerns DMs, which list elsewhere). */
export function accessOfRow(row: ChannelSummaryRow, communityRole: CommunityRole | null): ChannelAccess {
  return {
    channelId: row.id,
    communityId: row.community_id,
    kind: row.kind,
    visibility: row.visibility,
    archived: row.archived,
    lastSeq: Number(row.last_seq),
    communityRole,
    channelMember: row.channel_member,
    blockedInDm: false,
    blockedByOther: false,
  };
}
