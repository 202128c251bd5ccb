import type { DashboardChannelDto, DashboardUnreadDto } from '../../contracts/dashboard.ts';
import type { Db } from '../../orm/db.ts';
import { readableChannelSummaries } from '../communities/channelQueries.ts';
import { countUnread } from '../notifications/inbox.ts';
import type { Actor } from '../shared/deps.ts';

const LISTED_KINDS = ['channel', 'dm', 'group_dm', 'course'] as const;

/**
 * What waits for me: the unread notifications (counted as the bell counts them, countVisibleUnread) and the channels
 * with unread messages, counted as the channel list counts them (readableChannelSummaries: ChannelPolicy.read, and
 * the unread and mention definitions of access/message.ts). Archived channels and class chats are left out.
 */
export async function unreadSummary(q: Db, actor: Actor, limit: number): Promise<DashboardUnreadDto> {
  const summaries = readableChannelSummaries(q, actor).where('c.kind', 'in', LISTED_KINDS).where('c.archived_at', 'is', null).as('s');
  const rows = await q
    .selectFrom(summaries)
    .leftJoin('communities as co', 'co.id', 's.community_id')
    .leftJoin('courses as k', 'k.channel_id', 's.id')
    .select(['s.id', 's.kind', 's.name', 's.community_id', 'co.name as community_name', 'k.id as course_id', 'k.title as course_title', 's.unread_count', 's.mention_count'])
    .where('s.unread_count', '>', 0)
    .orderBy('s.mention_count', 'desc')
    .orderBy('s.unread_count', 'desc')
    .orderBy('s.id')
    .execute();
  const listed = rows.slice(0, limit);
  const people = await otherMembers(
    q,
    listed.filter((r) => r.kind === 'dm' || r.kind === 'group_dm').map((r) => r.id),
    actor.userId,
  );
  const channels: DashboardChannelDto[] = listed.map((r) => ({
    id: r.id,
    kind: r.kind as DashboardChannelDto['kind'],
    name: r.kind === 'channel' ? `#${r.name ?? ''}` : r.kind === 'course' ? (r.course_title ?? 'Course discussion') : (people.get(r.id) ?? 'Direct message'),
    communityId: r.community_id,
    communityName: r.community_name,
    courseId: r.course_id,
    unreadCount: r.unread_count,
    mentionCount: r.mention_count,
  }));
  return {
    notifications: await countUnread(q, actor.userId),
    channels,
    totalMentions: rows.reduce((sum, r) => sum + r.mention_count, 0),
  };
}

/** The people of each DM other than me, by name: what the DM list calls the conversation. */
async function otherMembers(q: Db, channelIds: readonly string[], me: string): Promise<Map<string, string>> {
  if (channelIds.length === 0) return new Map();
  const rows = await q
    .selectFrom('channel_members as m')
    .innerJoin('users as u', 'u.id', 'm.user_id')
    .select(['m.channel_id', 'u.display_name'])
    .where('m.channel_id', 'in', [...channelIds])
    .where('m.user_id', '<>', me)
    .orderBy('u.display_name')
    .execute();
  const names = new Map<string, string[]>();
  for (const r of rows) names.set(r.channel_id, [...(names.get(r.channel_id) ?? []), r.display_name]);
  return new Map([...names].map(([id, list]) => [id, list.join(', ')]));
}
