import { sql, type Selectable } from 'kysely';
import { uuids, type DB, type Db } from '../../orm/db.ts';

/*
 * The statements that store a batch of new messages, inside the batch's transaction (domain/chat/sendBatcher.ts decides
 * what goes in): seq allocation per channel, then one write for the messages and everything that comes with them.
 */

/** A message about to be written, its seq already taken. */
export interface NewMessage {
  id: string;
  channelId: string;
  seq: number;
  authorId: string;
  clientId: string;
  body: string;
  replyToId: string | null;
  /** Users to record as mentioned. */
  mentioned: readonly string[];
  /** Whether it may notify someone (a mention, a thread reply, a direct message): noted in `message_notices`. */
  notable: boolean;
}

/**
 * Takes a contiguous block of seqs per channel, assigned in arrival order, in one statement. The channels are locked
 * in id order by the sub-select (ORDER BY is applied before FOR UPDATE locks, and the update reaches a channel only
 * through its locked row), so batches on different nodes that share channels queue on them instead of deadlocking.
 */
export async function allocateSeqs<P extends { channelId: string }>(q: Db, planned: readonly P[]): Promise<(P & { seq: number })[]> {
  const counts = new Map<string, number>();
  for (const p of planned) counts.set(p.channelId, (counts.get(p.channelId) ?? 0) + 1);
  const channelIds = [...counts.keys()];
  const blockSizes = channelIds.map((id) => counts.get(id)!);
  const blocks = await q
    .updateTable('channels as c')
    .from([
      q
        .selectFrom('channels')
        .select('id')
        .where((eb) => eb('id', '=', eb.fn.any(uuids(channelIds))))
        .orderBy('id')
        .forUpdate()
        .as('locked'),
      sql<{ id: string; n: number }>`unnest(${uuids(channelIds)}, ${blockSizes}::int[])`.as<'v'>(sql`v(id, n)`),
    ])
    .set((eb) => ({ last_seq: eb('c.last_seq', '+', eb.ref('v.n')) }))
    .whereRef('c.id', '=', 'locked.id')
    .whereRef('v.id', '=', 'locked.id')
    .returning(['c.id', 'c.last_seq'])
    .execute();
  const nextSeq = new Map(blocks.map((b) => [b.id, b.last_seq - counts.get(b.id)! + 1]));
  return planned.map((p) => {
    const seq = nextSeq.get(p.channelId)!;
    nextSeq.set(p.channelId, seq + 1);
    return { ...p, seq };
  });
}

type NewMessageColumns = Pick<Selectable<DB['messages']>, 'id' | 'channel_id' | 'seq' | 'author_id' | 'client_id' | 'body' | 'reply_to_id'>;

/**
 * Writes the batch in one statement: the messages, their channel events, their mentions, the notes of those that may
 * notify someone (committed with them, so their notifications survive a crash right after the commit) and the thread
 * counts of the messages they reply to; returns, per new message, its author's name, its creation time and (for a reply) its
 * thread's count after the batch.
 */
export async function writeMessages(q: Db, batch: readonly NewMessage[]) {
  const newMessages = sql<NewMessageColumns>`unnest(
    ${uuids(batch.map((p) => p.id))}, ${uuids(batch.map((p) => p.channelId))}, ${batch.map((p) => p.seq)}::bigint[],
    ${uuids(batch.map((p) => p.authorId))}, ${batch.map((p) => p.clientId)}::text[],
    ${batch.map((p) => p.body)}::text[], ${batch.map((p) => p.replyToId)}::uuid[])`;
  const mentions = batch.flatMap((p) => p.mentioned.map((userId) => ({ messageId: p.id, userId })));
  const newMentions = sql<{ message_id: string; user_id: string }>`unnest(
    ${uuids(mentions.map((m) => m.messageId))}, ${uuids(mentions.map((m) => m.userId))})`;
  const rows = await q
    .with('inserted', (w) =>
      w
        .insertInto('messages')
        .columns(['id', 'channel_id', 'seq', 'author_id', 'client_id', 'body', 'reply_to_id'])
        .expression(
          // Columns spelled out (not `*`), so the statement is sent by name (orm/preparedStatements.ts).
          w
            .selectFrom(newMessages.as<'v'>(sql`v(id, channel_id, seq, author_id, client_id, body, reply_to_id)`))
            .select(['v.id', 'v.channel_id', 'v.seq', 'v.author_id', 'v.client_id', 'v.body', 'v.reply_to_id']),
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
    .select(['inserted.id', 'inserted.created_at', 'author.display_name as author_name', 'author.avatar_asset_id as author_avatar', 'threads.thread_count'])
    .execute();
  return new Map(rows.map((row) => [row.id, row]));
}
