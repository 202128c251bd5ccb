import type { ChannelEvent, MessageDto, ReactionDto } from '../../contracts/chat.ts';
import type { Sql } from '../shared/sql.ts';

interface MessageRow {
  id: string;
  channel_id: string;
  seq: string | number;
  client_id: string;
  author_id: string;
  author_name: string;
  body: string;
  reply_to_id: string | null;
  thread_count: number;
  pinned_at: Date | string | null;
  created_at: Date | string;
  edited_at: Date | string | null;
  deleted_at: Date | string | null;
  hidden_at: Date | string | null;
}

/** Raw queries may hand timestamps back as Date or as text. */
const iso = (value: Date | string) => new Date(value).toISOString();

const MESSAGE_COLUMNS = `m.id, m.channel_id, m.seq, m.client_id, m.author_id, u.display_name as author_name, m.body,
  m.reply_to_id, m.thread_count, m.pinned_at, m.created_at, m.edited_at, m.deleted_at, m.hidden_at`;

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
export async function loadMessages(sql: Sql, ids: readonly string[], view: HiddenView = false): Promise<Map<string, MessageDto>> {
  const result = new Map<string, MessageDto>();
  if (ids.length === 0) return result;
  const unique = [...new Set(ids)];
  const [rows, reactions, mentions] = await Promise.all([
    sql<MessageRow>(`select ${MESSAGE_COLUMNS} from messages m join users u on u.id = m.author_id where m.id = any(?::uuid[])`, [unique]),
    sql<{ message_id: string; emoji: string; user_ids: string[] }>(
      `select message_id, emoji, array_agg(user_id order by created_at) as user_ids from message_reactions
       where message_id = any(?::uuid[]) group by message_id, emoji order by message_id, min(created_at)`,
      [unique],
    ),
    sql<{ message_id: string; user_ids: string[] }>(
      `select message_id, array_agg(user_id order by user_id) as user_ids from message_mentions where message_id = any(?::uuid[]) group by message_id`,
      [unique],
    ),
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

export async function loadMessage(sql: Sql, id: string, view: HiddenView = false): Promise<MessageDto | undefined> {
  return (await loadMessages(sql, [id], view)).get(id);
}

/** A hidden message as members get it: nothing of its content, like a deleted one (what goes to a whole room). */
export function concealHidden(message: MessageDto): MessageDto {
  if (!message.hidden) return message;
  return { ...message, body: '', reactions: [], mentions: [], pinned: false };
}

function presentMessageRow(row: MessageRow, reactions: ReactionDto[], mentions: string[]): MessageDto {
  const deleted = row.deleted_at !== null;
  return {
    id: row.id,
    channelId: row.channel_id,
    seq: Number(row.seq),
    clientId: row.client_id,
    author: { id: row.author_id, displayName: row.author_name },
    body: deleted ? '' : row.body,
    replyToId: row.reply_to_id,
    threadCount: row.thread_count,
    reactions: deleted ? [] : reactions,
    mentions: deleted ? [] : mentions,
    pinned: !deleted && row.pinned_at !== null,
    createdAt: iso(row.created_at),
    editedAt: row.edited_at === null ? null : iso(row.edited_at),
    deletedAt: row.deleted_at === null ? null : iso(row.deleted_at),
    hidden: row.hidden_at !== null,
  };
}

interface EventRow {
  seq: string | number;
  type: ChannelEvent['type'];
  message_id: string;
}

/**
 * Channel events after `afterSeq`, each carrying the message as it is now. Replaying them in order ends in exactly
 * the current channel state, and deleted or hidden content never reappears through an old event.
 */
export async function loadChannelEvents(
  sql: Sql,
  channelId: string,
  afterSeq: number,
  limit: number,
  view: HiddenView = false,
): Promise<{ events: ChannelEvent[]; hasMore: boolean }> {
  const rows = await sql<EventRow>(
    'select seq, type, message_id from channel_events where channel_id = ? and seq > ? order by seq limit ?',
    [channelId, afterSeq, limit + 1],
  );
  const hasMore = rows.length > limit;
  const page = rows.slice(0, limit);
  const messages = await loadMessages(sql, page.map((r) => r.message_id), view);
  const parentIds = [...messages.values()].map((m) => m.replyToId).filter((id): id is string => id !== null);
  const parents = await loadThreadCounts(sql, parentIds);
  const events = page.map((row) => toEvent(channelId, Number(row.seq), row.type, messages.get(row.message_id)!, parents));
  return { events, hasMore };
}

async function loadThreadCounts(sql: Sql, ids: string[]): Promise<Map<string, number>> {
  if (!ids.length) return new Map();
  const rows = await sql<{ id: string; thread_count: number }>('select id, thread_count from messages where id = any(?::uuid[])', [
    [...new Set(ids)],
  ]);
  return new Map(rows.map((r) => [r.id, r.thread_count]));
}

export function toEvent(
  channelId: string,
  seq: number,
  type: ChannelEvent['type'],
  message: MessageDto,
  threadCounts: Map<string, number> = new Map(),
): ChannelEvent {
  switch (type) {
    case 'message:created':
      return {
        type,
        channelId,
        seq,
        message,
        thread: message.replyToId ? { parentId: message.replyToId, threadCount: threadCounts.get(message.replyToId) ?? 0 } : null,
      };
    case 'reaction:updated':
      return { type, channelId, seq, messageId: message.id, reactions: message.reactions };
    default:
      return { type, channelId, seq, message };
  }
}
