import { z } from 'zod';
import type { MarkNotificationsReadInput, NotificationDto, NotificationKind, NotificationList } from '../../contracts/notifications.ts';
import { db, type Db } from '../../orm/db.ts';
import { countVisibleUnread, countVisibleUnreadOf, notificationVisibleTo } from '../access/notification.ts';
import { decodeCursor, encodeCursor } from '../communities/cursor.ts';
import type { Actor, Deps } from '../shared/deps.ts';
import './events.ts';

/*
 * The in-app notification centre: the list (newest first), the unread count and read state. Lists and counts ask
 * `notificationVisibleTo`, so a notification about something the recipient can no longer read is gone from both.
 */

const Cursor = z.tuple([z.iso.datetime(), z.uuid()]);

/** `subjects`: the only subject types among the rows asked about, when known (see notificationVisibleTo). */
function visibleRows(q: Db, userId: string, subjects?: readonly string[]) {
  return q.selectFrom('notifications as n').where('n.user_id', '=', userId).where(notificationVisibleTo(q, userId, subjects));
}

/** The recipient's unread notifications they may still see (see countVisibleUnread). */
export function countUnread(q: Db, userId: string): Promise<number> {
  return countVisibleUnread(q, userId);
}

/** countUnread for several recipients at once. */
export function countUnreadOf(q: Db, userIds: readonly string[]): Promise<Map<string, number>> {
  return countVisibleUnreadOf(q, userIds);
}

/** Notifications by id, as the wire shows them (in the order of `ids`; ones not visible to `userId` left out). */
export async function loadNotificationDtos(q: Db, userId: string, ids: readonly string[]): Promise<NotificationDto[]> {
  if (ids.length === 0) return [];
  const subjects = (await q.selectFrom('notifications').select('subject_type').distinct().where('id', 'in', [...ids]).execute()).map((r) => r.subject_type);
  if (subjects.length === 0) return [];
  const rows = await visibleRows(q, userId, subjects)
    .leftJoin('users as a', 'a.id', 'n.actor_id')
    .select(['n.id', 'n.kind', 'n.title', 'n.body', 'n.url', 'n.actor_id', 'a.display_name', 'n.community_id', 'n.created_at', 'n.read_at'])
    .where('n.id', 'in', [...ids])
    .execute();
  const byId = new Map(rows.map((r) => [r.id, r]));
  return ids.flatMap((id) => {
    const r = byId.get(id);
    return r ? [notificationDto(r)] : [];
  });
}

/** A stored notification (with its actor's display name) as the wire shows it. */
export function notificationDto(r: {
  id: string;
  kind: string;
  title: string;
  body: string;
  url: string;
  actor_id: string | null;
  display_name: string | null;
  community_id: string | null;
  created_at: Date;
  read_at: Date | null;
}): NotificationDto {
  return {
    id: r.id,
    kind: r.kind as NotificationKind,
    title: r.title,
    body: r.body,
    url: r.url,
    actor: r.actor_id && r.display_name !== null ? { id: r.actor_id, displayName: r.display_name } : null,
    communityId: r.community_id,
    createdAt: r.created_at.toISOString(),
    readAt: r.read_at?.toISOString() ?? null,
  };
}

/** GET /notifications — newest first, keyset paged, with the unread count. */
export async function listNotifications(deps: Deps, actor: Actor, page: { cursor?: string; limit: number }): Promise<NotificationList> {
  const q = db(deps.orm.em.fork());
  const after = decodeCursor(Cursor, page.cursor);
  let query = visibleRows(q, actor.userId).select(['n.id', 'n.created_at']).orderBy('n.created_at', 'desc').orderBy('n.id', 'desc').limit(page.limit + 1);
  if (after) {
    const [createdAt, id] = after;
    query = query.where((eb) => eb(eb.refTuple('n.created_at', 'n.id'), '<', eb.tuple(new Date(createdAt), id)));
  }
  const rows = await query.execute();
  const shown = rows.slice(0, page.limit);
  const last = shown.at(-1);
  return {
    data: await loadNotificationDtos(q, actor.userId, shown.map((r) => r.id)),
    nextCursor: rows.length > page.limit && last ? encodeCursor([last.created_at.toISOString(), last.id]) : null,
    unreadCount: await countUnread(q, actor.userId),
  };
}

export async function unreadNotifications(deps: Deps, actor: Actor): Promise<{ unreadCount: number }> {
  return { unreadCount: await countUnread(db(deps.orm.em.fork()), actor.userId) };
}

/** POST /notifications/read — by ids or up to a moment; the caller's other devices follow (`notification:read`). */
export async function markNotificationsRead(deps: Deps, actor: Actor, input: MarkNotificationsReadInput): Promise<{ unreadCount: number }> {
  const q = db(deps.orm.em.fork());
  const now = deps.clock.now();
  // Seen in-app: no longer due for an e-mail digest either.
  let update = q.updateTable('notifications').set({ read_at: now, email_due_at: null }).where('user_id', '=', actor.userId).where('read_at', 'is', null);
  update = 'ids' in input ? update.where('id', 'in', input.ids) : update.where('created_at', '<=', new Date(input.upTo));
  const changed = await update.returning('id').execute();
  const unreadCount = await countUnread(q, actor.userId);
  if (changed.length > 0) {
    await deps.events.emit('notification.read', {
      userId: actor.userId,
      event: 'ids' in input ? { ids: changed.map((r) => r.id), upTo: null, unreadCount } : { ids: null, upTo: input.upTo, unreadCount },
    });
  }
  return { unreadCount };
}
