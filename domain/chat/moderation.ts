import type { ChannelEvent } from '../../contracts/chat.ts';
import { AppError } from '../shared/errors.ts';
import type { Deps } from '../shared/deps.ts';
import type { Sql } from '../shared/sql.ts';
import type { ChannelAccess } from './access.ts';
import { resolveMentions } from './mentions.ts';
import { publishEvent, recordEvent, softDeleteMessage } from './messages.ts';
import { loadMessage, toEvent } from './presentMessages.ts';

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
  /** Call after the caller's transaction commits: the channel hears of each change (none if nothing changed). */
  publish: () => void;
}

interface ModeratedRow {
  id: string;
  channel_id: string;
  author_id: string;
  body: string;
  deleted_at: Date | string | null;
  hidden_at: Date | string | null;
  community_id: string | null;
  kind: ChannelAccess['kind'];
  visibility: ChannelAccess['visibility'];
}

const stateOf = (row: Pick<ModeratedRow, 'body' | 'deleted_at' | 'hidden_at'>): ModeratedMessageState => ({
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
  sql: Sql,
  messageId: string,
  change: { hide?: boolean; delete?: boolean },
  moderatorId: string,
): Promise<ModeratedMessage> {
  const [row] = await sql<ModeratedRow>(
    `select m.id, m.channel_id, m.author_id, m.body, m.deleted_at, m.hidden_at, c.community_id, c.kind, c.visibility
     from messages m join channels c on c.id = m.channel_id where m.id = ? for update of m`,
    [messageId],
  );
  if (!row) throw new AppError('not_found', 'No such message.');
  const before = stateOf(row);
  const events: ChannelEvent[] = [];
  const recordUpdate = async (type: ChannelEvent['type']) => {
    const seq = await recordEvent(sql, row.channel_id, type, row.id);
    events.push(toEvent(row.channel_id, seq, type, (await loadMessage(sql, row.id))!));
  };

  if (change.hide !== undefined && !before.deleted && before.hidden !== change.hide) {
    if (change.hide) {
      await sql('update messages set hidden_at = ?, hidden_by_id = ? where id = ?', [deps.clock.now(), moderatorId, row.id]);
      await sql('delete from message_mentions where message_id = ?', [row.id]);
    } else {
      await sql('update messages set hidden_at = null, hidden_by_id = null where id = ?', [row.id]);
      const channel = { channelId: row.channel_id, communityId: row.community_id, kind: row.kind, visibility: row.visibility };
      const mentioned = await resolveMentions(sql, channel, row.author_id, row.body);
      await sql(
        `insert into message_mentions (message_id, user_id, channel_id, seq)
         select m.id, u, m.channel_id, m.seq from messages m, unnest(?::uuid[]) as u where m.id = ? on conflict do nothing`,
        [mentioned, row.id],
      );
    }
    await recordUpdate('message:updated');
  }
  if (change.delete && !before.deleted) {
    await softDeleteMessage(sql, row.id);
    await recordUpdate('message:deleted');
  }

  const [now] = await sql<Pick<ModeratedRow, 'body' | 'deleted_at' | 'hidden_at'>>(
    'select body, deleted_at, hidden_at from messages where id = ?',
    [row.id],
  );
  return {
    communityId: row.community_id,
    channelId: row.channel_id,
    authorId: row.author_id,
    before,
    after: stateOf(now!),
    publish: () => {
      for (const event of events) publishEvent(deps, event);
    },
  };
}
