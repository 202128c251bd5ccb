import { expressionBuilder, sql, type Expression, type QueryCreator, type SqlBool } from 'kysely';
import type { DB } from '../../orm/db.ts';

/*
 * What a reader gets of a message, once they may read its channel (channel.ts). A deleted message is a tombstone for
 * everyone. A hidden one is a tombstone too, except for those who moderate its channel (ChannelPolicy.moderate), who
 * get the content marked hidden. Search finds exactly what a reader gets content of. Unread counts count neither
 * deleted nor hidden messages — for moderators too: a hidden message is not news for anyone — nor the reader's own.
 *
 * As everywhere in access/, each rule is written as a pure function and as its query predicate, side by side, and
 * channel.test.ts checks that the two agree.
 */

export type MessageView = 'content' | 'hidden' | 'tombstone';

interface MessageState {
  deletedAt: Date | null;
  hiddenAt: Date | null;
}

export const MessagePolicy = {
  /** `moderatesChannel`: ChannelPolicy.moderate for the reader and the message's channel. */
  view(message: MessageState, moderatesChannel: boolean): MessageView {
    if (message.deletedAt !== null) return 'tombstone';
    if (message.hiddenAt !== null) return moderatesChannel ? 'hidden' : 'tombstone';
    return 'content';
  },
  /** Search finds what the reader gets content of (hidden ones, for moderators, come back marked). */
  findable(message: MessageState, moderatesChannel: boolean): boolean {
    return MessagePolicy.view(message, moderatesChannel) !== 'tombstone';
  },
  countsAsUnread(message: MessageState & { seq: number; authorId: string }, reader: { userId: string; lastReadSeq: number }): boolean {
    return message.seq > reader.lastReadSeq && message.deletedAt === null && message.hiddenAt === null && message.authorId !== reader.userId;
  },
} as const;

/** A message row aliased `m`, the scope the predicates below are written in. */
type MessageScope = DB & { m: DB['messages'] };

/** `MessagePolicy.findable` over the message row `m`; `moderatesChannel` says whether the reader moderates its channel. */
export function messageFindable(moderatesChannel: Expression<SqlBool>): Expression<SqlBool> {
  const eb = expressionBuilder<MessageScope, 'm'>();
  return eb.and([eb('m.deleted_at', 'is', null), eb.or([eb('m.hidden_at', 'is', null), moderatesChannel])]);
}

/** `MessagePolicy.countsAsUnread` over the message row `m`. */
export function messageCountsAsUnread(reader: {
  userId: string | Expression<string>;
  lastReadSeq: number | Expression<number>;
}): Expression<SqlBool> {
  const eb = expressionBuilder<MessageScope, 'm'>();
  return eb.and([
    eb('m.seq', '>', reader.lastReadSeq),
    eb('m.deleted_at', 'is', null),
    eb('m.hidden_at', 'is', null),
    eb('m.author_id', '<>', reader.userId),
  ]);
}

/**
 * The reader's unread count in a channel, as a scalar subquery (correlated when given references): the messages after
 * their read position that count as unread. The channel list and the read state both use this one definition.
 */
export function unreadCount(
  q: QueryCreator<DB>,
  channelId: string | Expression<string>,
  reader: { userId: string | Expression<string>; lastReadSeq: number | Expression<number> },
) {
  return q
    .selectFrom('messages as m')
    .select(sql<number>`count(*)::int`.as('unread'))
    .where('m.channel_id', '=', channelId)
    .where(messageCountsAsUnread(reader))
    .$asScalar();
}

/**
 * The reader's mentions after their read position. Deleting or hiding a message removes its mention rows, so what is
 * left is what the reader can read.
 */
export function mentionCount(
  q: QueryCreator<DB>,
  channelId: string | Expression<string>,
  reader: { userId: string | Expression<string>; lastReadSeq: number | Expression<number> },
) {
  return q
    .selectFrom('message_mentions as mm')
    .select(sql<number>`count(*)::int`.as('mentions'))
    .where('mm.channel_id', '=', channelId)
    .where('mm.user_id', '=', reader.userId)
    .where('mm.seq', '>', reader.lastReadSeq)
    .$asScalar();
}
