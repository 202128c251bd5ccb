import { JOIN_CATCH_UP_LIMIT, type JoinResult, type MessageDto, type ReadState } from '../../contracts/chat.ts';
import { rooms } from '../../contracts/realtime.ts';
import { AppError } from '../shared/errors.ts';
import type { Actor, Deps } from '../shared/deps.ts';
import { sqlOf } from '../shared/sql.ts';
import { authorizeChannel, ChannelPolicy } from './access.ts';
import { loadChannelEvents, loadMessages } from './presentMessages.ts';

/** Authorizes reading and returns the events after `afterSeq` (the caller joins the room afterwards). */
export async function joinChannel(deps: Deps, actor: Actor, input: { channelId: string; afterSeq?: number }): Promise<JoinResult> {
  const em = deps.orm.em.fork();
  const access = await authorizeChannel(em, actor, input.channelId, 'read');
  if (input.afterSeq === undefined) return { channelId: input.channelId, lastSeq: access.lastSeq, events: [], hasMore: false };
  const view = ChannelPolicy.moderate(actor, access);
  const { events, hasMore } = await loadChannelEvents(sqlOf(em), input.channelId, input.afterSeq, JOIN_CATCH_UP_LIMIT, view);
  // lastSeq as of the events returned: the client applies live events above it.
  const lastSeq = hasMore ? events[events.length - 1]!.seq : Math.max(access.lastSeq, events.at(-1)?.seq ?? 0);
  return { channelId: input.channelId, lastSeq, events, hasMore };
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
  const sql = sqlOf(em);
  const limit = query.limit;
  let rows: { id: string }[];
  if (query.afterSeq !== undefined) {
    rows = await sql('select id from messages where channel_id = ? and seq > ? order by seq asc limit ?', [channelId, query.afterSeq, limit + 1]);
  } else {
    const before = query.beforeSeq ?? Number.MAX_SAFE_INTEGER;
    rows = (await sql<{ id: string }>('select id from messages where channel_id = ? and seq < ? order by seq desc limit ?', [channelId, before, limit + 1]));
  }
  const hasMore = rows.length > limit;
  const ids = rows.slice(0, limit).map((r) => r.id);
  const messages = await loadMessages(sql, ids, ChannelPolicy.moderate(actor, access));
  const data = ids.map((id) => messages.get(id)!).sort((a, b) => a.seq - b.seq);
  return { data, hasMore };
}

/** The root message and its replies, oldest first. */
export async function messageThread(deps: Deps, actor: Actor, messageId: string): Promise<MessageDto[]> {
  const em = deps.orm.em.fork();
  const sql = sqlOf(em);
  const [root] = await sql<{ id: string; channel_id: string; reply_to_id: string | null }>(
    'select id, channel_id, reply_to_id from messages where id = ?',
    [messageId],
  );
  if (!root) throw new AppError('not_found', 'No such message.');
  const access = await authorizeChannel(em, actor, root.channel_id, 'read');
  const rootId = root.reply_to_id ?? root.id;
  const rows = await sql<{ id: string }>('select id from messages where id = ? or reply_to_id = ? order by seq limit 1001', [rootId, rootId]);
  const messages = await loadMessages(sql, rows.map((r) => r.id), ChannelPolicy.moderate(actor, access));
  return rows.map((r) => messages.get(r.id)!);
}

/** Stores how far the user has read (never backwards) and tells their other devices; DM members see receipts. */
export async function markRead(deps: Deps, actor: Actor, input: { channelId: string; seq: number }): Promise<ReadState> {
  const em = deps.orm.em.fork();
  const access = await authorizeChannel(em, actor, input.channelId, 'read');
  const sql = sqlOf(em);
  const seq = Math.min(input.seq, access.lastSeq);
  const [stored] = await sql<{ last_read_seq: string }>(
    `insert into channel_read_states (channel_id, user_id, last_read_seq, updated_at) values (?, ?, ?, now())
     on conflict (channel_id, user_id) do update set last_read_seq = greatest(channel_read_states.last_read_seq, excluded.last_read_seq), updated_at = now()
     returning last_read_seq`,
    [input.channelId, actor.userId, seq],
  );
  const state = await readStateOf(deps, actor.userId, input.channelId, Number(stored!.last_read_seq));
  deps.publisher.toRoom(rooms.user(actor.userId), 'read:updated', state);
  if (access.kind !== 'channel') {
    deps.publisher.toRoom(rooms.channel(input.channelId), 'receipt:updated', { channelId: input.channelId, userId: actor.userId, seq: state.seq });
  }
  return state;
}

async function readStateOf(deps: Deps, userId: string, channelId: string, lastRead: number): Promise<ReadState> {
  const [counts] = await sqlOf(deps.orm.em.fork())<{ unread: number; mentions: number }>(
    `select (select count(*)::int from messages where channel_id = ? and seq > ? and deleted_at is null and hidden_at is null and author_id <> ?) as unread,
            (select count(*)::int from message_mentions where channel_id = ? and user_id = ? and seq > ?) as mentions`,
    [channelId, lastRead, userId, channelId, userId, lastRead],
  );
  return { channelId, seq: lastRead, unreadCount: counts!.unread, mentionCount: counts!.mentions };
}

/** DM read receipts: each member's last read seq. */
export async function channelReceipts(deps: Deps, actor: Actor, channelId: string): Promise<{ userId: string; seq: number }[]> {
  const em = deps.orm.em.fork();
  await authorizeChannel(em, actor, channelId, 'read');
  const rows = await sqlOf(em)<{ user_id: string; last_read_seq: string }>(
    'select user_id, last_read_seq from channel_read_states where channel_id = ?',
    [channelId],
  );
  return rows.map((r) => ({ userId: r.user_id, seq: Number(r.last_read_seq) }));
}

/**
 * Full-text search over every message the caller can read (PostgreSQL `simple` configuration). Hidden messages are
 * found only by those who moderate their channel (ChannelPolicy.moderate), and come back with the `hidden` marker.
 */
export async function searchMessages(
  deps: Deps,
  actor: Actor,
  query: { q: string; communityId?: string; limit: number },
): Promise<MessageDto[]> {
  const sql = sqlOf(deps.orm.em.fork());
  const platformModerator = actor.role === 'moderator' || actor.role === 'admin';
  const rows = await sql<{ id: string; channel_id: string; moderates: boolean }>(
    `select m.id, m.channel_id, moderates from messages m
     join channels c on c.id = m.channel_id
     left join community_members cm on cm.community_id = c.community_id and cm.user_id = ?
     cross join lateral (select c.kind in ('channel', 'classroom')
                           and (cm.role in ('owner', 'admin', 'moderator') or ?::boolean) as moderates) v
     where m.search @@ plainto_tsquery('simple', ?) and m.deleted_at is null
       and (m.hidden_at is null or v.moderates)
       and (?::uuid is null or c.community_id = ?::uuid)
       and case when c.kind = 'channel'
         then cm.user_id is not null and (c.visibility = 'public' or cm.role in ('owner', 'admin')
              or exists (select 1 from channel_members x where x.channel_id = c.id and x.user_id = ?))
         when c.kind = 'classroom'
         then cm.user_id is not null and exists (select 1 from channel_members x where x.channel_id = c.id and x.user_id = ?)
         else exists (select 1 from channel_members x where x.channel_id = c.id and x.user_id = ?) end
     order by m.created_at desc limit ?`,
    [
      actor.userId,
      platformModerator,
      query.q,
      query.communityId ?? null,
      query.communityId ?? null,
      actor.userId,
      actor.userId,
      actor.userId,
      query.limit,
    ],
  );
  const moderated = new Set(rows.filter((r) => r.moderates).map((r) => r.channel_id));
  const messages = await loadMessages(sql, rows.map((r) => r.id), moderated);
  return rows.map((r) => messages.get(r.id)!);
}
