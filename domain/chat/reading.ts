import { sql } from 'kysely';
import type { JoinResult, MessageDto, ReadState } from '../../contracts/chat.ts';
import { db, type Db } from '../../orm/db.ts';
import { authorizeChannel, ChannelPolicy } from '../access/channel.ts';
import { mentionCount, unreadCount } from '../access/message.ts';
import { AppError } from '../shared/errors.ts';
import type { Actor, Deps } from '../shared/deps.ts';
import { readCatchUps } from './catchUp.ts';
import { loadMessages } from './presentMessages.ts';

/**
 * Authorizes reading and returns the events after `afterSeq` (the caller joins the room afterwards): a batch of one
 * through readCatchUps, the one implementation of the catch-up rules (sockets coalesce theirs, domain/chat/catchUp.ts).
 */
export async function joinChannel(deps: Deps, actor: Actor, input: { channelId: string; afterSeq?: number }): Promise<JoinResult> {
  const outcome = (await readCatchUps(db(deps.orm.em.fork()), [{ actor, channelId: input.channelId, afterSeq: input.afterSeq }]))[0]!;
  if (outcome.status === 'rejected') throw outcome.reason;
  return outcome.value;
}

/**
 * Messages by creation seq: after `afterSeq` ascending, before `beforeSeq`, or the latest page. Hidden messages are
 * tombstones, except for the channel's moderators (content with the `hidden` marker) — as in threads and catch-up.
 */
export async function channelHistory(
  deps: Deps,
  actor: Actor,
  channelId: string,
  query: { afterSeq?: number; beforeSeq?: number; limit: number },
): Promise<{ data: MessageDto[]; hasMore: boolean }> {
  const em = deps.orm.em.fork();
  const access = await authorizeChannel(em, actor, channelId, 'read');
  const q = db(em);
  const limit = query.limit;
  const page = q.selectFrom('messages').select('id').where('channel_id', '=', channelId).limit(limit + 1);
  const rows =
    query.afterSeq !== undefined
      ? await page.where('seq', '>', query.afterSeq).orderBy('seq', 'asc').execute()
      : await page.where('seq', '<', query.beforeSeq ?? Number.MAX_SAFE_INTEGER).orderBy('seq', 'desc').execute();
  const hasMore = rows.length > limit;
  const ids = rows.slice(0, limit).map((r) => r.id);
  const messages = await loadMessages(q, ids, ChannelPolicy.moderate(actor, access));
  const data = ids.map((id) => messages.get(id)!).sort((a, b) => a.seq - b.seq);
  return { data, hasMore };
}

/** The root message and its replies, oldest first. */
export async function messageThread(deps: Deps, actor: Actor, messageId: string): Promise<MessageDto[]> {
  const em = deps.orm.em.fork();
  const q = db(em);
  const root = await q.selectFrom('messages').select(['id', 'channel_id', 'reply_to_id']).where('id', '=', messageId).executeTakeFirst();
  if (!root) throw new AppError('not_found', 'No such message.');
  const access = await authorizeChannel(em, actor, root.channel_id, 'read');
  const rootId = root.reply_to_id ?? root.id;
  const rows = await q
    .selectFrom('messages')
    .select('id')
    .where((eb) => eb.or([eb('id', '=', rootId), eb('reply_to_id', '=', rootId)]))
    .orderBy('seq')
    .limit(1001)
    .execute();
  const messages = await loadMessages(q, rows.map((r) => r.id), ChannelPolicy.moderate(actor, access));
  return rows.map((r) => messages.get(r.id)!);
}

/** Stores how far the user has read (never backwards) and announces it (their other devices; DM members see receipts). */
export async function markRead(deps: Deps, actor: Actor, input: { channelId: string; seq: number }): Promise<ReadState> {
  const em = deps.orm.em.fork();
  const access = await authorizeChannel(em, actor, input.channelId, 'read');
  const q = db(em);
  const seq = Math.min(input.seq, access.lastSeq);
  const stored = await q
    .insertInto('channel_read_states')
    .values({ channel_id: input.channelId, user_id: actor.userId, last_read_seq: seq, updated_at: sql<Date>`now()` })
    .onConflict((oc) =>
      oc.columns(['channel_id', 'user_id']).doUpdateSet({
        last_read_seq: sql<number>`greatest(channel_read_states.last_read_seq, excluded.last_read_seq)`,
        updated_at: sql<Date>`now()`,
      }),
    )
    .returning('last_read_seq')
    .executeTakeFirstOrThrow();
  const state = await readStateOf(q, actor.userId, input.channelId, stored.last_read_seq);
  await deps.events.emit('channel.read', { userId: actor.userId, channelKind: access.kind, state });
  return state;
}

/** The reader's counts after `lastRead`, by the one definition of unread (domain/access/message.ts). */
async function readStateOf(q: Db, userId: string, channelId: string, lastRead: number): Promise<ReadState> {
  const reader = { userId, lastReadSeq: lastRead };
  const counts = await q
    .selectNoFrom([unreadCount(q, channelId, reader).as('unread'), mentionCount(q, channelId, reader).as('mentions')])
    .executeTakeFirstOrThrow();
  return { channelId, seq: lastRead, unreadCount: counts.unread, mentionCount: counts.mentions };
}

/** DM read receipts: each member's last read seq. */
export async function channelReceipts(deps: Deps, actor: Actor, channelId: string): Promise<{ userId: string; seq: number }[]> {
  const em = deps.orm.em.fork();
  await authorizeChannel(em, actor, channelId, 'read');
  const rows = await db(em).selectFrom('channel_read_states').select(['user_id', 'last_read_seq']).where('channel_id', '=', channelId).execute();
  return rows.map((r) => ({ userId: r.user_id, seq: r.last_read_seq }));
}
