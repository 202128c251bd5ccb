import { sql } from 'kysely';
import type { ChannelEvent, MessageDto, ReactionDto } from '../../contracts/chat.ts';
import type { UserRef } from '../../contracts/communities.ts';
import { uuids, type Db } from '../../orm/db.ts';
import { chatMessageHtml } from '../content/markdown.ts';
import { avatarUrlOf } from '../profiles/avatarUrl.ts';
import type { ChannelEventOf } from './events.ts';

function selectMessageRows(q: Db, ids: readonly string[]) {
  return q
    .selectFrom('messages as m')
    .innerJoin('users as u', 'u.id', 'm.author_id')
    .select([
      'm.id',
      'm.channel_id',
      'm.seq',
      'm.client_id',
      'm.author_id',
      'u.display_name as author_name',
      'u.avatar_asset_id as author_avatar',
      'm.body',
      'm.reply_to_id',
      'm.thread_count',
      'm.pinned_at',
      'm.created_at',
      'm.edited_at',
      'm.deleted_at',
      'm.hidden_at',
    ])
    .where((eb) => eb('m.id', '=', eb.fn.any(uuids(ids))))
    .execute();
}

type MessageRow = Awaited<ReturnType<typeof selectMessageRows>>[number];

/**
 * Who is looking at hidden messages. Members never see their content: `false` (the default) presents them as
 * tombstones. `true` reveals them with the `hidden` marker — only for someone who moderates the channel. A set
 * reveals them in those channel ids only, for reads that span channels (search).
 */
export type HiddenView = boolean | ReadonlySet<string>;

const reveals = (view: HiddenView, channelId: string) => (typeof view === 'boolean' ? view : view.has(channelId));

/**
 * Loads messages as the clients see them now: author, reactions and mentions in three queries for any count.
 * Hidden messages are tombstones unless `view` reveals them.
 */
export async function loadMessages(q: Db, ids: readonly string[], view: HiddenView = false): Promise<Map<string, MessageDto>> {
  const result = new Map<string, MessageDto>();
  if (ids.length === 0) return result;
  const unique = [...new Set(ids)];
  const [rows, reactions, mentions] = await Promise.all([
    selectMessageRows(q, unique),
    q
      .selectFrom('message_reactions')
      .select(['message_id', 'emoji', sql<string[]>`array_agg(user_id order by created_at)`.as('user_ids')])
      .where((eb) => eb('message_id', '=', eb.fn.any(uuids(unique))))
      .groupBy(['message_id', 'emoji'])
      .orderBy('message_id')
      .orderBy(sql`min(created_at)`)
      .execute(),
    q
      .selectFrom('message_mentions')
      .select(['message_id', sql<string[]>`array_agg(user_id order by user_id)`.as('user_ids')])
      .where((eb) => eb('message_id', '=', eb.fn.any(uuids(unique))))
      .groupBy('message_id')
      .execute(),
  ]);
  const reactionsByMessage = new Map<string, ReactionDto[]>();
  for (const r of reactions) {
    const list = reactionsByMessage.get(r.message_id) ?? [];
    list.push({ emoji: r.emoji, count: r.user_ids.length, userIds: r.user_ids });
    reactionsByMessage.set(r.message_id, list);
  }
  const mentionsByMessage = new Map(mentions.map((m) => [m.message_id, m.user_ids]));
  for (const row of rows) {
    const message = presentMessageRow(row, reactionsByMessage.get(row.id) ?? [], mentionsByMessage.get(row.id) ?? []);
    result.set(row.id, reveals(view, row.channel_id) ? message : concealHidden(message));
  }
  return result;
}

export async function loadMessage(q: Db, id: string, view: HiddenView = false): Promise<MessageDto | undefined> {
  return (await loadMessages(q, [id], view)).get(id);
}

/** A hidden message as members get it: nothing of its content, like a deleted one (what goes to a whole room). */
export function concealHidden(message: MessageDto): MessageDto {
  if (!message.hidden) return message;
  const { html: _html, ...rest } = message;
  return { ...rest, body: '', reactions: [], mentions: [], pinned: false };
}

/** The `html` of a message with this body: present only when the body has markup or a URL (see chatMessageHtml). */
/** A message's author as clients show them: the avatar URL only when they have one (most broadcasts stay small). */
export function authorRef(id: string, displayName: string, avatarAssetId: string | null): UserRef {
  const avatarUrl = avatarUrlOf({ id, avatar_asset_id: avatarAssetId });
  return avatarUrl ? { id, displayName, avatarUrl } : { id, displayName };
}

export function messageHtmlField(body: string): { html?: string } {
  const html = body ? chatMessageHtml(body) : undefined;
  return html === undefined ? {} : { html };
}

function presentMessageRow(row: MessageRow, reactions: ReactionDto[], mentions: string[]): MessageDto {
  const deleted = row.deleted_at !== null;
  return {
    id: row.id,
    channelId: row.channel_id,
    seq: row.seq,
    clientId: row.client_id,
    author: authorRef(row.author_id, row.author_name, row.author_avatar),
    body: deleted ? '' : row.body,
    ...(deleted ? {} : messageHtmlField(row.body)),
    replyToId: row.reply_to_id,
    threadCount: row.thread_count,
    reactions: deleted ? [] : reactions,
    mentions: deleted ? [] : mentions,
    pinned: !deleted && row.pinned_at !== null,
    createdAt: row.created_at.toISOString(),
    editedAt: row.edited_at?.toISOString() ?? null,
    deletedAt: row.deleted_at?.toISOString() ?? null,
    hidden: row.hidden_at !== null,
  };
}

/** The thread counts of these parent messages, by id (what a catch-up's `message:created` events carry). */
export async function loadThreadCounts(q: Db, ids: string[]): Promise<Map<string, number>> {
  if (!ids.length) return new Map();
  const rows = await q
    .selectFrom('messages')
    .select(['id', 'thread_count'])
    .where((eb) => eb('id', '=', eb.fn.any(uuids([...new Set(ids)]))))
    .execute();
  return new Map(rows.map((r) => [r.id, r.thread_count]));
}

/** A new message; a reply also tells the room its thread's count (`threadCounts` by parent id). */
export function createdEvent(
  seq: number,
  message: MessageDto,
  threadCounts: ReadonlyMap<string, number> = new Map(),
): ChannelEventOf<'message:created'> {
  const thread = message.replyToId ? { parentId: message.replyToId, threadCount: threadCounts.get(message.replyToId) ?? 0 } : null;
  return { type: 'message:created', channelId: message.channelId, seq, message, thread };
}

export function updatedEvent(seq: number, message: MessageDto): ChannelEventOf<'message:updated'> {
  return { type: 'message:updated', channelId: message.channelId, seq, message };
}

export function deletedEvent(seq: number, message: MessageDto): ChannelEventOf<'message:deleted'> {
  return { type: 'message:deleted', channelId: message.channelId, seq, message };
}

export function reactionEvent(seq: number, message: MessageDto): ChannelEventOf<'reaction:updated'> {
  return { type: 'reaction:updated', channelId: message.channelId, seq, messageId: message.id, reactions: message.reactions };
}

/** A stored channel event as clients get it, carrying `message` as it is now. */
export function toEvent(
  seq: number,
  type: ChannelEvent['type'],
  message: MessageDto,
  threadCounts?: ReadonlyMap<string, number>,
): ChannelEvent {
  switch (type) {
    case 'message:created':
      return createdEvent(seq, message, threadCounts);
    case 'message:updated':
      return updatedEvent(seq, message);
    case 'message:deleted':
      return deletedEvent(seq, message);
    case 'reaction:updated':
      return reactionEvent(seq, message);
  }
}
