import { sql, type Selectable } from 'kysely';
import { uuids, type DB, type Db } from '../../orm/db.ts';

/*
 * The statement that stores a batch of new messages (domain/chat/sendBatcher.ts decides what goes in): seq allocation
 * per channel and everything a new message comes with, in ONE statement, which is its own transaction.
 */

/** A message about to be written; its seq is taken by the write. */
export interface NewMessage {
  id: string;
  channelId: string;
  authorId: string;
  clientId: string;
  body: string;
  replyToId: string | null;
  /** Users to record as mentioned. */
  mentioned: readonly string[];
  /** Whether it may notify someone (a mention, a thread reply, a direct message): noted in `message_notices`. */
  notable: boolean;
}

type NewMessageColumns = Pick<Selectable<DB['messages']>, 'id' | 'channel_id' | 'author_id' | 'client_id' | 'body' | 'reply_to_id'> & {
  /** How many messages of the batch come after this one in its channel: its seq is the block's last minus this. */
  behind: number;
};

/**
 * Writes the batch in one statement, so it is all or nothing without a transaction around it (and nothing else to
 * wait for between the statements of one): it takes a contiguous block of seqs per channel, assigned in the batch's
 * order, and writes the messages, their channel events, their mentions, the notes of those that may notify someone
 * (committed with them, so their notifications survive a crash right after the commit) and the thread counts of the
 * messages they reply to. If any of it fails — a clientId a concurrent retry stored first, say — nothing is written
 * and no seq is taken, so seqs stay gapless.
 *
 * The channels are locked in id order by the sub-select (ORDER BY is applied before FOR UPDATE locks, and the update
 * reaches a channel only through its locked row), so batches on different nodes that share channels queue on them
 * instead of deadlocking, each holding its locks only for this statement.
 *
 * Returns, per message written, its seq, its author's name, its creation time and (for a reply) its thread's count
 * after the batch. A message whose channel no longer exists is not written and not returned.
 */
export async function writeMessages(q: Db, batch: readonly NewMessage[]) {
  const counts = new Map<string, number>();
  for (const p of batch) counts.set(p.channelId, (counts.get(p.channelId) ?? 0) + 1);
  const channelIds = [...counts.keys()];
  const seen = new Map<string, number>();
  const behind = batch.map((p) => {
    const before = seen.get(p.channelId) ?? 0;
    seen.set(p.channelId, before + 1);
    return counts.get(p.channelId)! - before - 1;
  });
  const newMessages = sql<NewMessageColumns>`unnest(
    ${uuids(batch.map((p) => p.id))}, ${uuids(batch.map((p) => p.channelId))}, ${behind}::int[],
    ${uuids(batch.map((p) => p.authorId))}, ${batch.map((p) => p.clientId)}::text[],
    ${batch.map((p) => p.body)}::text[], ${batch.map((p) => p.replyToId)}::uuid[])`;
  const mentions = batch.flatMap((p) => p.mentioned.map((userId) => ({ messageId: p.id, userId })));
  const newMentions = sql<{ message_id: string; user_id: string }>`unnest(
    ${uuids(mentions.map((m) => m.messageId))}, ${uuids(mentions.map((m) => m.userId))})`;
  const rows = await q
    .with('blocks', (w) =>
      w
        .updateTable('channels as c')
        .from([
          w
            .selectFrom('channels')
            .select('id')
            .where((eb) => eb('id', '=', eb.fn.any(uuids(channelIds))))
            .orderBy('id')
            .forUpdate()
            .as('locked'),
          sql<{ id: string; n: number }>`unnest(${uuids(channelIds)}, ${channelIds.map((id) => counts.get(id)!)}::int[])`.as<'v'>(sql`v(id, n)`),
        ])
        .set((eb) => ({ last_seq: eb('c.last_seq', '+', eb.ref('v.n')) }))
        .whereRef('c.id', '=', 'locked.id')
        .whereRef('v.id', '=', 'locked.id')
        .returning(['c.id', 'c.last_seq']),
    )
    .with('inserted', (w) =>
      w
        .insertInto('messages')
        .columns(['id', 'channel_id', 'seq', 'author_id', 'client_id', 'body', 'reply_to_id'])
        .expression(
          // Columns spelled out (not `*`), so the statement is sent by name (orm/preparedStatements.ts).
          w
            .selectFrom(newMessages.as<'v'>(sql`v(id, channel_id, behind, author_id, client_id, body, reply_to_id)`))
            .innerJoin('blocks', 'blocks.id', 'v.channel_id')
            .select((eb) => [
              'v.id',
              'v.channel_id',
              eb('blocks.last_seq', '-', eb.ref('v.behind')).as('seq'),
              'v.author_id',
              'v.client_id',
              'v.body',
              'v.reply_to_id',
            ]),
        )
        .returning(['id', 'channel_id', 'seq', 'author_id', 'reply_to_id', 'created_at']),
    )
    .with('events', (w) =>
      w
        .insertInto('channel_events')
        .columns(['channel_id', 'seq', 'type', 'message_id'])
        .expression(
          w
            .selectFrom('inserted')
            .select((s) => ['inserted.channel_id', 'inserted.seq', s.val('message:created').as('type'), 'inserted.id']),
        ),
    )
    .with('mentions', (w) =>
      w
        .insertInto('message_mentions')
        .columns(['message_id', 'user_id', 'channel_id', 'seq'])
        .expression(
          w
            .selectFrom(newMentions.as<'v'>(sql`v(message_id, user_id)`))
            .innerJoin('inserted', 'inserted.id', 'v.message_id')
            .select(['v.message_id', 'v.user_id', 'inserted.channel_id', 'inserted.seq']),
        ),
    )
    .with('notices', (w) =>
      w
        .insertInto('message_notices')
        .columns(['message_id'])
        .expression(w.selectFrom('inserted').select('inserted.id').where('inserted.id', '=', sql<string>`any(${uuids(batch.filter((p) => p.notable).map((p) => p.id))})`)),
    )
    .with('threads', (w) =>
      w
        .updateTable('messages as parent')
        .from(
          w
            .selectFrom('inserted')
            .select(['inserted.reply_to_id', sql<number>`count(*)::int`.as('n')])
            .where('inserted.reply_to_id', 'is not', null)
            .groupBy('inserted.reply_to_id')
            .as('replies'),
        )
        .set((eb) => ({ thread_count: eb('parent.thread_count', '+', eb.ref('replies.n')) }))
        .whereRef('parent.id', '=', 'replies.reply_to_id')
        .returning(['parent.id', 'parent.thread_count']),
    )
    .selectFrom('inserted')
    .innerJoin('users as author', 'author.id', 'inserted.author_id')
    .leftJoin('threads', 'threads.id', 'inserted.reply_to_id')
    .select(['inserted.id', 'inserted.seq', 'inserted.created_at', 'author.display_name as author_name', 'author.avatar_asset_id as author_avatar', 'threads.thread_count'])
    .execute();
  return new Map(rows.map((row) => [row.id, row]));
}
