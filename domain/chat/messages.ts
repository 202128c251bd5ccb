import { sql } from 'kysely';
import { EDIT_WINDOW_SECONDS, type ChannelEvent, type MessageDto } from '../../contracts/chat.ts';
import { db, uuids, type Db } from '../../orm/db.ts';
import { checkContribution } from '../moderation/enforcement.ts';
import { openAutomodCase } from '../moderation/cases.ts';
import { AppError } from '../shared/errors.ts';
import type { Actor, Deps } from '../shared/deps.ts';
import { authorizeChannel, ChannelPolicy, type ChannelAccess } from '../access/channel.ts';
import { resolveMentions } from './mentions.ts';
import { concealHidden, deletedEvent, loadMessage, reactionEvent, updatedEvent } from './presentMessages.ts';

/**
 * Takes the channel's next seq and records the channel event for a change to `messageId`, in one statement inside the
 * caller's transaction; the channel's row lock orders concurrent writers.
 */
export async function recordEvent(q: Db, channelId: string, type: ChannelEvent['type'], messageId: string): Promise<number> {
  const recorded = await q
    .with('allocated', (w) =>
      w
        .updateTable('channels')
        .set((eb) => ({ last_seq: eb('last_seq', '+', 1) }))
        .where('id', '=', channelId)
        .returning(['id', 'last_seq']),
    )
    .insertInto('channel_events')
    .columns(['channel_id', 'seq', 'type', 'message_id'])
    .expression((eb) =>
      eb
        .selectFrom('allocated')
        .select((s) => ['allocated.id', 'allocated.last_seq', s.val(type).as('type'), s.val(messageId).as('message_id')]),
    )
    .returning('seq')
    .executeTakeFirst();
  if (!recorded) throw new AppError('not_found', 'No such channel.');
  return recorded.seq;
}

/** Adds mentions of `userIds` to a stored message (its channel and seq copied for the mention lists); keeps existing ones. */
export async function addMentions(q: Db, messageId: string, userIds: readonly string[]): Promise<void> {
  if (!userIds.length) return;
  await q
    .insertInto('message_mentions')
    .columns(['message_id', 'user_id', 'channel_id', 'seq'])
    .expression((eb) =>
      eb
        .selectFrom(['messages as m', sql<{ user_id: string }>`unnest(${uuids(userIds)})`.as<'u'>(sql`u(user_id)`)])
        .select(['m.id', 'u.user_id', 'm.channel_id', 'm.seq'])
        .where('m.id', '=', messageId),
    )
    .onConflict((oc) => oc.doNothing())
    .execute();
}

function lockMessage(q: Db, messageId: string) {
  return q
    .selectFrom('messages')
    .select(['id', 'channel_id', 'author_id', 'body', 'created_at', 'deleted_at', 'pinned_at', 'hidden_at'])
    .where('id', '=', messageId)
    .forUpdate()
    .executeTakeFirst();
}

type LockedMessage = NonNullable<Awaited<ReturnType<typeof lockMessage>>>;

interface ChangeContext {
  q: Db;
  message: LockedMessage;
  access: ChannelAccess;
}

/**
 * Runs `change` on a locked message in one transaction with a new channel event of `type`. The caller announces it
 * after commit: the event goes to the whole room, so it carries `members` (the members' form of the message), while
 * `message` — the actor's ack — reveals a hidden message's content only to a moderator of the channel.
 */
async function changeMessage<T>(
  deps: Deps,
  actor: Actor,
  messageId: string,
  type: ChannelEvent['type'],
  action: 'read' | 'post',
  change: (ctx: ChangeContext) => Promise<T>,
): Promise<{ message: MessageDto; members: MessageDto; seq: number; communityId: string | null; outcome: T }> {
  return deps.orm.em.fork().transactional(async (tx) => {
    const q = db(tx);
    const message = await lockMessage(q, messageId);
    if (!message) throw new AppError('not_found', 'No such message.');
    const access = await authorizeChannel(q, actor, message.channel_id, action);
    if (message.deleted_at) throw new AppError('conflict', 'This message was deleted.');
    const outcome = await change({ q, message, access });
    const seq = await recordEvent(q, message.channel_id, type, message.id);
    const dto = (await loadMessage(q, message.id, ChannelPolicy.moderate(actor, access)))!;
    return { message: dto, members: concealHidden(dto), seq, communityId: access.communityId, outcome };
  });
}

/** Contributions in a community follow its moderation rules (timeouts, automod); DMs belong to none. */
async function checkInCommunity(
  deps: Deps,
  q: Db,
  actor: Actor,
  access: ChannelAccess,
  contribution: { kind: 'message' | 'reaction'; body?: string },
): Promise<string[]> {
  if (!access.communityId) return [];
  return (await checkContribution(deps, q, actor, { communityId: access.communityId, ...contribution })).flaggedWords;
}

const hiddenRefusal = () => new AppError('conflict', 'A moderator hid this message.');

/** The author edits within the edit window; mentions are re-resolved and only newly mentioned people are told. */
export async function editMessage(deps: Deps, actor: Actor, input: { messageId: string; body: string }): Promise<MessageDto> {
  const edited = await changeMessage(deps, actor, input.messageId, 'message:updated', 'post', async ({ q, message, access }) => {
    if (message.author_id !== actor.userId) throw new AppError('forbidden', 'You can only edit your own messages.');
    if (Date.now() - message.created_at.getTime() > EDIT_WINDOW_SECONDS * 1000) {
      throw new AppError('forbidden', `Messages can be edited for ${EDIT_WINDOW_SECONDS / 60} minutes after sending.`);
    }
    if (message.hidden_at) throw hiddenRefusal();
    if (message.body === input.body) throw new AppError('conflict', 'Nothing changed.');
    // The body rules apply to the new text; slow mode does not (no new message).
    const flaggedWords = await checkInCommunity(deps, q, actor, access, { kind: 'message', body: input.body });
    const mentioned = await resolveMentions(q, access, actor.userId, input.body);
    const previous = await q.selectFrom('message_mentions').select('user_id').where('message_id', '=', message.id).execute();
    await q.updateTable('messages').set({ body: input.body, edited_at: sql<Date>`now()` }).where('id', '=', message.id).execute();
    await q
      .deleteFrom('message_mentions')
      .where('message_id', '=', message.id)
      .where((eb) => eb.not(eb('user_id', '=', eb.fn.any(uuids(mentioned)))))
      .execute();
    await addMentions(q, message.id, mentioned);
    const before = new Set(previous.map((row) => row.user_id));
    return { newlyMentioned: mentioned.filter((id) => !before.has(id)), flaggedWords };
  });
  const { message, members, seq, communityId, outcome } = edited;
  await deps.events.emit('message.edited', { event: updatedEvent(seq, members), communityId, mentioned: outcome.newlyMentioned });
  if (outcome.flaggedWords.length && communityId) {
    await openAutomodCase(deps, { communityId, type: 'message', id: message.id, authorId: actor.userId }, outcome.flaggedWords);
  }
  return message;
}

/** The author or a moderator deletes: the content is gone for everyone; a tombstone keeps the seq. */
export async function deleteMessage(deps: Deps, actor: Actor, input: { messageId: string }): Promise<MessageDto> {
  const deleted = await changeMessage(deps, actor, input.messageId, 'message:deleted', 'read', async ({ q, message, access }) => {
    if (message.author_id !== actor.userId && !ChannelPolicy.moderate(actor, access)) {
      throw new AppError('forbidden', 'Only the author or a moderator can delete this message.');
    }
    await softDeleteMessage(q, message.id);
  });
  await deps.events.emit('message.deleted', { event: deletedEvent(deleted.seq, deleted.members), communityId: deleted.communityId });
  return deleted.message;
}

/** The content is gone for everyone, reactions and mentions with it; the tombstone keeps the seq. */
export async function softDeleteMessage(q: Db, messageId: string): Promise<void> {
  await q
    .updateTable('messages')
    .set({ body: '', deleted_at: sql<Date>`now()`, pinned_at: null, pinned_by_id: null })
    .where('id', '=', messageId)
    .execute();
  await q.deleteFrom('message_reactions').where('message_id', '=', messageId).execute();
  await q.deleteFrom('message_mentions').where('message_id', '=', messageId).execute();
}

/** Moderators pin and unpin. */
export async function pinMessage(deps: Deps, actor: Actor, input: { messageId: string; pinned: boolean }): Promise<MessageDto> {
  const pinned = await changeMessage(deps, actor, input.messageId, 'message:updated', 'read', async ({ q, message, access }) => {
    if (!ChannelPolicy.moderate(actor, access)) throw new AppError('forbidden', 'Only moderators can pin messages.');
    if ((message.pinned_at !== null) === input.pinned) throw new AppError('conflict', input.pinned ? 'Already pinned.' : 'Not pinned.');
    await q
      .updateTable('messages')
      .set({ pinned_at: input.pinned ? new Date() : null, pinned_by_id: input.pinned ? actor.userId : null })
      .where('id', '=', message.id)
      .execute();
  });
  await deps.events.emit(input.pinned ? 'message.pinned' : 'message.unpinned', {
    event: updatedEvent(pinned.seq, pinned.members),
    communityId: pinned.communityId,
  });
  return pinned.message;
}

const MAX_DISTINCT_EMOJI = 20;

export async function toggleReaction(deps: Deps, actor: Actor, input: { messageId: string; emoji: string }) {
  const toggled = await changeMessage(deps, actor, input.messageId, 'reaction:updated', 'post', async ({ q, message, access }) => {
    if (message.hidden_at) throw hiddenRefusal();
    // Timed-out members cannot react, not even to take a reaction back.
    await checkInCommunity(deps, q, actor, access, { kind: 'reaction' });
    const removed = await q
      .deleteFrom('message_reactions')
      .where('message_id', '=', message.id)
      .where('user_id', '=', actor.userId)
      .where('emoji', '=', input.emoji)
      .executeTakeFirst();
    if (removed.numDeletedRows > 0n) return;
    const { n } = await q
      .selectFrom('message_reactions')
      .select(sql<number>`count(distinct emoji)::int`.as('n'))
      .where('message_id', '=', message.id)
      .where('emoji', '<>', input.emoji)
      .executeTakeFirstOrThrow();
    if (n >= MAX_DISTINCT_EMOJI) throw new AppError('conflict', `A message can carry at most ${MAX_DISTINCT_EMOJI} different reactions.`);
    await q.insertInto('message_reactions').values({ message_id: message.id, user_id: actor.userId, emoji: input.emoji }).execute();
  });
  await deps.events.emit('reaction.updated', { event: reactionEvent(toggled.seq, toggled.members), communityId: toggled.communityId });
  return { messageId: toggled.message.id, reactions: toggled.message.reactions };
}
