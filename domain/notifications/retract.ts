import { db, type Db } from '../../orm/db.ts';
import { notificationVisibleTo } from '../access/notification.ts';
import type { Deps } from '../shared/deps.ts';
import type { EventBus } from '../shared/events.ts';
import './events.ts';
import { countUnread } from './inbox.ts';

/*
 * Lists and counts already leave out notifications their recipient may no longer see (access/notification.ts). This
 * tells the recipient's open devices at once: when something a notification is about is hidden or deleted, or the
 * recipient loses access (removed from a channel or community, an entitlement revoked), each recipient whose
 * notifications just became invisible gets `notification:removed` with the ids and the new unread count.
 *
 * In-process listeners: a node dying between the commit and this leaves a device showing a stale item until its next
 * refresh (every reconnect fetches page one and the count), never a wrong list.
 */

type Candidates = (q: Db) => Promise<{ id: string; user_id: string }[]>;

/** Among the candidate notifications, the ones their recipients can no longer see, announced per recipient. */
export async function retractNotifications(deps: Deps, candidates: Candidates): Promise<number> {
  const q = db(deps.orm.em.fork());
  const rows = await candidates(q);
  const byUser = new Map<string, string[]>();
  for (const row of rows) byUser.set(row.user_id, [...(byUser.get(row.user_id) ?? []), row.id]);
  let removed = 0;
  for (const [userId, ids] of byUser) {
    const stillVisible = await q
      .selectFrom('notifications as n')
      .select('n.id')
      .where('n.id', 'in', ids)
      .where(notificationVisibleTo(q, userId))
      .execute();
    const visible = new Set(stillVisible.map((r) => r.id));
    const gone = ids.filter((id) => !visible.has(id));
    if (gone.length === 0) continue;
    removed += gone.length;
    await deps.events.emit('notification.removed', { userId, ids: gone, unreadCount: await countUnread(q, userId) });
  }
  return removed;
}

/** Notifications about one thing (a message, a post, a lesson…). */
const aboutSubject = (subjectType: string, subjectId: string): Candidates => (q) =>
  q.selectFrom('notifications').select(['id', 'user_id']).where('subject_type', '=', subjectType).where('subject_id', '=', subjectId).execute();

/** One recipient's notifications, optionally only those of one community. */
const ofRecipient = (userId: string, communityId?: string): Candidates => (q) => {
  let query = q.selectFrom('notifications').select(['id', 'user_id']).where('user_id', '=', userId);
  if (communityId) query = query.where('community_id', '=', communityId);
  return query.execute();
};

/** Registered once per node (server/node.ts). */
export function registerNotificationRetraction(bus: EventBus, deps: Deps): void {
  const retract = (candidates: Candidates) => retractNotifications(deps, candidates).then(() => undefined);
  bus.on('message.hidden', ({ event }) => retract(aboutSubject('message', event.message.id)));
  bus.on('message.deleted', ({ event }) => retract(aboutSubject('message', event.message.id)));
  bus.on('post.hidden', ({ postId }) => retract(aboutSubject('post', postId)));
  bus.on('post.deleted', ({ postId }) => retract(aboutSubject('post', postId)));
  bus.on('member.removed', ({ userId, communityId }) => retract(ofRecipient(userId, communityId)));
  bus.on('channel.access_revoked', ({ userId }) => retract(ofRecipient(userId)));
  bus.on('entitlement.revoked', ({ userId }) => retract(ofRecipient(userId)));
}
