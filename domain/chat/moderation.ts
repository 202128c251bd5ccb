import type { Selectable } from 'kysely';
import type { DB, Db } from '../../orm/db.ts';
import { AppError } from '../shared/errors.ts';
import type { Deps } from '../shared/deps.ts';
import { resolveMentions } from './mentions.ts';
import { addMentions, recordEvent, softDeleteMessage } from './messages.ts';
import { deletedEvent, loadMessage, updatedEvent } from './presentMessages.ts';

/** What the audit log keeps of a message before and after a moderator's change. */
export interface ModeratedMessageState {
  body: string;
  hidden: boolean;
  deleted: boolean;
}

export interface ModeratedMessage {
  /** Null for DMs. */
  communityId: string | null;
  channelId: string;
  authorId: string;
  before: ModeratedMessageState;
  after: ModeratedMessageState;
  /** Call after the caller's transaction commits: announces each change in seq order (nothing if nothing changed). */
  publish: () => Promise<void>;
}

const stateOf = (row: Pick<Selectable<DB['messages']>, 'body' | 'deleted_at' | 'hidden_at'>): ModeratedMessageState => ({
  body: row.body,
  hidden: row.hidden_at !== null,
  deleted: row.deleted_at !== null,
});

/**
 * A moderator hides, unhides or deletes a message, inside the CALLER's transaction (the caller has authorized it and
 * writes the audit entry with `before`/`after` in the same transaction). Each effective change takes the channel's
 * next seq like any other change; a change that changes nothing (hiding a hidden or deleted message, deleting a
 * deleted one) takes none. Hiding also drops the message's mentions (nobody is pointed at content they cannot read);
 * unhiding resolves them again, without notifying anyone a second time.
 *
 * The events carry the message as members see it (a tombstone while hidden), since they go to the whole channel room.
 */
export async function moderateMessage(
  deps: Deps,
  q: Db,
  messageId: string,
  change: { hide?: boolean; delete?: boolean },
  moderatorId: string,
): Promise<ModeratedMessage> {
  const row = await q
    .selectFrom('messages as m')
    .innerJoin('channels as c', 'c.id', 'm.channel_id')
    .select(['m.id', 'm.channel_id', 'm.author_id', 'm.body', 'm.deleted_at', 'm.hidden_at', 'c.community_id', 'c.kind', 'c.visibility'])
    .where('m.id', '=', messageId)
    .forUpdate('m')
    .executeTakeFirst();
  if (!row) throw new AppError('not_found', 'No such message.');
  const before = stateOf(row);
  const communityId = row.community_id;
  const announcements: (() => Promise<void>)[] = [];

  if (change.hide !== undefined && !before.deleted && before.hidden !== change.hide) {
    if (change.hide) {
      await q.updateTable('messages').set({ hidden_at: deps.clock.now(), hidden_by_id: moderatorId }).where('id', '=', row.id).execute();
      await q.deleteFrom('message_mentions').where('message_id', '=', row.id).execute();
    } else {
      await q.updateTable('messages').set({ hidden_at: null, hidden_by_id: null }).where('id', '=', row.id).execute();
      const channel = { channelId: row.channel_id, communityId, kind: row.kind, visibility: row.visibility };
      await addMentions(q, row.id, await resolveMentions(q, channel, row.author_id, row.body));
    }
    const seq = await recordEvent(q, row.channel_id, 'message:updated', row.id);
    const event = updatedEvent(seq, (await loadMessage(q, row.id))!);
    announcements.push(() => deps.events.emit(change.hide ? 'message.hidden' : 'message.unhidden', { event, communityId }));
  }
  if (change.delete && !before.deleted) {
    await softDeleteMessage(q, row.id);
    const seq = await recordEvent(q, row.channel_id, 'message:deleted', row.id);
    const event = deletedEvent(seq, (await loadMessage(q, row.id))!);
    announcements.push(() => deps.events.emit('message.deleted', { event, communityId }));
  }

  const now = await q.selectFrom('messages').select(['body', 'deleted_at', 'hidden_at']).where('id', '=', row.id).executeTakeFirstOrThrow();
  return {
    communityId,
    channelId: row.channel_id,
    authorId: row.author_id,
    before,
    after: stateOf(now),
    publish: async () => {
      for (const announce of announcements) await announce();
    },
  };
}
