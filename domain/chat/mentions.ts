import type { ChannelAccess } from './access.ts';
import type { Sql } from '../shared/sql.ts';

const escapeRegExp = (value: string) => value.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * `@Display Name` in a body, resolved to users who can read the channel, excluding the author and anyone on either
 * side of a block with the author. Names match case-insensitively and only as whole words.
 */
export async function resolveMentions(
  sql: Sql,
  access: Pick<ChannelAccess, 'channelId' | 'communityId' | 'kind' | 'visibility'>,
  authorId: string,
  body: string,
): Promise<string[]> {
  if (!body.includes('@')) return [];
  const candidates = await sql<{ id: string; display_name: string }>(
    `select u.id, u.display_name from users u
     where u.id <> ? and position(lower('@' || u.display_name) in lower(?)) > 0
       and case when ? = 'channel'
         then exists (select 1 from community_members cm where cm.community_id = ? and cm.user_id = u.id)
              and (? = 'public' or exists (select 1 from channel_members m where m.channel_id = ? and m.user_id = u.id))
         else exists (select 1 from channel_members m where m.channel_id = ? and m.user_id = u.id) end
       and not exists (select 1 from user_blocks b where (b.blocker_id = u.id and b.blocked_id = ?) or (b.blocker_id = ? and b.blocked_id = u.id))
     limit 50`,
    [authorId, body, access.kind, access.communityId, access.visibility, access.channelId, access.channelId, authorId, authorId],
  );
  return candidates
    .filter((c) => new RegExp(`(^|[^\\p{L}\\p{N}_])@${escapeRegExp(c.display_name)}(?![\\p{L}\\p{N}_])`, 'iu').test(body))
    .map((c) => c.id)
    .sort(); // the same order presentMessages reads them back in
}
