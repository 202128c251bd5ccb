import { sql } from 'kysely';
import type { Db } from '../../orm/db.ts';
import { readableChannelIds } from '../access/channel.ts';
import { mentionCount, unreadCount } from '../access/message.ts';
import { queriesOf, type Queries } from '../access/queries.ts';
import type { Actor } from '../shared/deps.ts';

/**
 * Channels as one caller sees them, with `last_seq`, `unread_count` and `mention_count`, for any number of channels
 * in ONE statement (counts are correlated subqueries over the (channel_id, seq) unique index and the mentions index).
 * Unread and mentions are the definitions of domain/access/message.ts, the same as the read state's.
 *
 * Aliases for the caller's own conditions: `c` channel, `me.id` caller, `mine` the caller's channel_members row (its
 * columns null when none), `rs` the caller's read state.
 */
export function channelSummaries(q: Db, userId: string) {
  return q
    .selectFrom(q.selectNoFrom(sql<string>`${userId}::uuid`.as('id')).as('me'))
    .crossJoin('channels as c')
    .leftJoin('channel_members as mine', (join) => join.onRef('mine.channel_id', '=', 'c.id').onRef('mine.user_id', '=', 'me.id'))
    .leftJoin('channel_read_states as rs', (join) => join.onRef('rs.channel_id', '=', 'c.id').onRef('rs.user_id', '=', 'me.id'))
    .select((eb) => {
      const reader = { userId: eb.ref('me.id'), lastReadSeq: eb.fn.coalesce('rs.last_read_seq', sql.lit(0)) };
      return [
        'c.id',
        'c.community_id',
        'c.kind',
        'c.name',
        'c.topic',
        'c.visibility',
        eb('c.archived_at', 'is not', null).$castTo<boolean>().as('archived'),
        'c.last_seq',
        'c.created_at',
        eb('mine.user_id', 'is not', null).$castTo<boolean>().as('channel_member'),
        unreadCount(q, eb.ref('c.id'), reader).as('unread_count'),
        mentionCount(q, eb.ref('c.id'), reader).as('mention_count'),
      ];
    });
}

export type ChannelSummaryRow = Awaited<ReturnType<ReturnType<typeof channelSummaries>['executeTakeFirstOrThrow']>>;

/**
 * The channels `actor` may read (ChannelPolicy.read, as the readableChannelIds predicate), summarised; the caller adds
 * its own conditions (community, kinds) and order.
 */
export function readableChannelSummaries(q: Db, actor: Pick<Actor, 'userId'>) {
  return channelSummaries(q, actor.userId).where('c.id', 'in', readableChannelIds(q, actor));
}

export async function loadChannelSummary(
  source: Queries,
  userId: string,
  channelId: string,
): Promise<ChannelSummaryRow | undefined> {
  const q = queriesOf(source);
  return channelSummaries(q, userId).where('c.id', '=', channelId).executeTakeFirst();
}
