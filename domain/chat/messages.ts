import { EDIT_WINDOW_SECONDS, type ChannelEvent, type MessageDto } from '../../contracts/chat.ts';
import { rooms } from '../../contracts/realtime.ts';
import { checkContribution } from '../moderation/enforcement.ts';
import { openAutomodCase } from '../moderation/cases.ts';
import { AppError } from '../shared/errors.ts';
import type { Actor, Deps } from '../shared/deps.ts';
import { sqlOf, type Sql } from '../shared/sql.ts';
import { authorizeChannel, ChannelPolicy, type ChannelAccess } from './access.ts';
import { resolveMentions } from './mentions.ts';
import { concealHidden, loadMessage, toEvent } from './presentMessages.ts';

/** Takes the channel's next seq inside the caller's transaction; the row lock orders concurrent writers. */
async function allocateSeq(sql: Sql, channelId: string): Promise<number> {
  const [row] = await sql<{ last_seq: string }>('update channels set last_seq = last_seq + 1 where id = ? returning last_seq', [channelId]);
  if (!row) throw new AppError('not_found', 'No such channel.');
  return Number(row.last_seq);
}

/** Allocates the next seq and records the channel event for a change to `messageId` (caller's transaction). */
export async function recordEvent(sql: Sql, channelId: string, type: ChannelEvent['type'], messageId: string): Promise<number> {
  const seq = await allocateSeq(sql, channelId);
  await sql('insert into channel_events (channel_id, seq, type, message_id) values (?, ?, ?, ?)', [channelId, seq, type, messageId]);
  return seq;
}

export function publishEvent(deps: Deps, event: ChannelEvent) {
  // The union is matched by the event name, which TypeScript cannot narrow through a variable.
  (deps.publisher.toRoom as (room: string, name: string, payload: ChannelEvent) => void)(rooms.channel(event.channelId), event.type, event);
}

/** After commit: the channel hears of the new message, and each mentioned user is told in their own room. */
export function announceCreated(deps: Deps, event: ChannelEvent, mentioned: readonly string[]): void {
  publishEvent(deps, event);
  if (event.type !== 'message:created') return;
  for (const userId of mentioned) {
    deps.publisher.toRoom(rooms.user(userId), 'mention:created', {
      channelId: event.channelId,
      messageId: event.message.id,
      seq: event.seq,
      author: event.message.author,
    });
  }
}

interface LockedMessage {
  id: string;
  channel_id: string;
  author_id: string;
  body: string;
  created_at: Date | string;
  deleted_at: Date | string | null;
  pinned_at: Date | string | null;
  hidden_at: Date | string | null;
}

interface ChangeOutcome {
  /** People to tell they were mentioned. */
  mentioned?: string[];
  /** The word filter flagged the new text: report it for review after commit. */
  flaggedWords?: string[];
}

/**
 * Runs `change` on a locked message in one transaction with a new channel event, then publishes it. The event goes to
 * the whole room, so it carries the members' form of the message; the actor's ack reveals a hidden message's content
 * only to a moderator of the channel.
 */
async function changeMessage(
  deps: Deps,
  actor: Actor,
  messageId: string,
  type: ChannelEvent['type'],
  action: 'read' | 'post',
  change: (ctx: { sql: Sql; message: LockedMessage; access: ChannelAccess }) => Promise<ChangeOutcome | void>,
): Promise<MessageDto> {
  const em = deps.orm.em.fork();
  const result = await em.transactional(async (tx) => {
    const q = sqlOf(tx);
    const [message] = await q<LockedMessage>(
      'select id, channel_id, author_id, body, created_at, deleted_at, pinned_at, hidden_at from messages where id = ? for update',
      [messageId],
    );
    if (!message) throw new AppError('not_found', 'No such message.');
    const access = await authorizeChannel(tx, actor, message.channel_id, action);
    if (message.deleted_at) throw new AppError('conflict', 'This message was deleted.');
    const outcome = (await change({ sql: q, message, access })) ?? {};
    const seq = await recordEvent(q, message.channel_id, type, message.id);
    const dto = (await loadMessage(q, message.id, ChannelPolicy.moderate(actor, access)))!;
    return { dto, event: toEvent(message.channel_id, seq, type, concealHidden(dto)), access, outcome };
  });
  publishEvent(deps, result.event);
  for (const userId of result.outcome.mentioned ?? []) {
    deps.publisher.toRoom(rooms.user(userId), 'mention:created', {
      channelId: result.dto.channelId,
      messageId: result.dto.id,
      seq: result.event.seq,
      author: result.dto.author,
    });
  }
  const flagged = result.outcome.flaggedWords ?? [];
  if (flagged.length && result.access.communityId) {
    await openAutomodCase(deps, { communityId: result.access.communityId, type: 'message', id: result.dto.id, authorId: actor.userId }, flagged);
  }
  return result.dto;
}

/** Contributions in a community follow its moderation rules (timeouts, automod); DMs belong to none. */
async function checkInCommunity(
  deps: Deps,
  sql: Sql,
  actor: Actor,
  access: ChannelAccess,
  contribution: { kind: 'message' | 'reaction'; body?: string },
): Promise<string[]> {
  if (!access.communityId) return [];
  return (await checkContribution(deps, sql, actor, { communityId: access.communityId, ...contribution })).flaggedWords;
}

const hiddenRefusal = () => new AppError('conflict', 'A moderator hid this message.');

/** The author edits within the edit window; mentions are re-resolved and only newly mentioned people are told. */
export function editMessage(deps: Deps, actor: Actor, input: { messageId: string; body: string }): Promise<MessageDto> {
  return changeMessage(deps, actor, input.messageId, 'message:updated', 'post', async ({ sql, message, access }) => {
    if (message.author_id !== actor.userId) throw new AppError('forbidden', 'You can only edit your own messages.');
    if (Date.now() - new Date(message.created_at).getTime() > EDIT_WINDOW_SECONDS * 1000) {
      throw new AppError('forbidden', `Messages can be edited for ${EDIT_WINDOW_SECONDS / 60} minutes after sending.`);
    }
    if (message.hidden_at) throw hiddenRefusal();
    if (message.body === input.body) throw new AppError('conflict', 'Nothing changed.');
    // The body rules apply to the new text; slow mode does not (no new message).
    const flaggedWords = await checkInCommunity(deps, sql, actor, access, { kind: 'message', body: input.body });
    const mentioned = await resolveMentions(sql, access, actor.userId, input.body);
    const [previous] = await sql<{ user_ids: string[] | null }>(
      'select array_agg(user_id) as user_ids from message_mentions where message_id = ?',
      [message.id],
    );
    await sql('update messages set body = ?, edited_at = now() where id = ?', [input.body, message.id]);
    await sql('delete from message_mentions where message_id = ? and not (user_id = any(?::uuid[]))', [message.id, mentioned]);
    await sql(
      `insert into message_mentions (message_id, user_id, channel_id, seq)
       select m.id, u, m.channel_id, m.seq from messages m, unnest(?::uuid[]) as u where m.id = ? on conflict do nothing`,
      [mentioned, message.id],
    );
    const before = new Set(previous?.user_ids ?? []);
    return { mentioned: mentioned.filter((id) => !before.has(id)), flaggedWords };
  });
}

/** The author or a moderator deletes: the content is gone for everyone; a tombstone keeps the seq. */
export function deleteMessage(deps: Deps, actor: Actor, input: { messageId: string }): Promise<MessageDto> {
  return changeMessage(deps, actor, input.messageId, 'message:deleted', 'read', async ({ sql, message, access }) => {
    if (message.author_id !== actor.userId && !ChannelPolicy.moderate(actor, access)) {
      throw new AppError('forbidden', 'Only the author or a moderator can delete this message.');
    }
    await softDeleteMessage(sql, message.id);
  });
}

/** The content is gone for everyone, reactions and mentions with it; the tombstone keeps the seq. */
export async function softDeleteMessage(sql: Sql, messageId: string): Promise<void> {
  await sql(`update messages set body = '', deleted_at = now(), pinned_at = null, pinned_by_id = null where id = ?`, [messageId]);
  await sql('delete from message_reactions where message_id = ?', [messageId]);
  await sql('delete from message_mentions where message_id = ?', [messageId]);
}

/** Moderators pin and unpin. */
export function pinMessage(deps: Deps, actor: Actor, input: { messageId: string; pinned: boolean }): Promise<MessageDto> {
  return changeMessage(deps, actor, input.messageId, 'message:updated', 'read', async ({ sql, message, access }) => {
    if (!ChannelPolicy.moderate(actor, access)) throw new AppError('forbidden', 'Only moderators can pin messages.');
    if ((message.pinned_at !== null) === input.pinned) throw new AppError('conflict', input.pinned ? 'Already pinned.' : 'Not pinned.');
    await sql('update messages set pinned_at = ?, pinned_by_id = ? where id = ?', [
      input.pinned ? new Date() : null,
      input.pinned ? actor.userId : null,
      message.id,
    ]);
  });
}

const MAX_DISTINCT_EMOJI = 20;

export async function toggleReaction(deps: Deps, actor: Actor, input: { messageId: string; emoji: string }) {
  const dto = await changeMessage(deps, actor, input.messageId, 'reaction:updated', 'post', async ({ sql, message, access }) => {
    if (message.hidden_at) throw hiddenRefusal();
    // Timed-out members cannot react, not even to take a reaction back.
    await checkInCommunity(deps, sql, actor, access, { kind: 'reaction' });
    const removed = await sql('delete from message_reactions where message_id = ? and user_id = ? and emoji = ? returning 1', [
      message.id,
      actor.userId,
      input.emoji,
    ]);
    if (removed.length) return;
    const [{ n } = { n: 0 }] = await sql<{ n: number }>(
      'select count(distinct emoji)::int as n from message_reactions where message_id = ? and emoji <> ?',
      [message.id, input.emoji],
    );
    if (n >= MAX_DISTINCT_EMOJI) throw new AppError('conflict', `A message can carry at most ${MAX_DISTINCT_EMOJI} different reactions.`);
    await sql('insert into message_reactions (message_id, user_id, emoji) values (?, ?, ?)', [message.id, actor.userId, input.emoji]);
  });
  return { messageId: dto.id, reactions: dto.reactions };
}
