import type { NotificationKind } from '../../contracts/notifications.ts';
import { db } from '../../orm/db.ts';
import type { Deps } from '../shared/deps.ts';
import './events.ts';
import { countUnread, loadNotificationDtos } from './inbox.ts';

/** One notification to store: `sourceKey` names what caused it, so (recipient, kind, source) is stored once. */
export interface NewNotification {
  userId: string;
  kind: NotificationKind;
  sourceKey: string;
  actorId?: string | null;
  communityId?: string | null;
  /** What it is about, for the access re-check when it is shown (`message`, `post`, `classroom`, `order`…). */
  subjectType: string;
  subjectId?: string | null;
  title: string;
  body?: string;
  /** Where clicking it leads in the app. */
  url: string;
}

const clip = (text: string, max: number) => (text.length > max ? `${text.slice(0, max - 1)}…` : text);

/**
 * Stores notifications, each exactly once (a repeated call — a retried job, another node — inserts nothing), and tells
 * each recipient's devices about the new ones. Returns how many were new.
 */
export async function notify(deps: Deps, items: readonly NewNotification[]): Promise<number> {
  if (items.length === 0) return 0;
  const q = db(deps.orm.em.fork());
  const at = deps.clock.now();
  const inserted = await q
    .insertInto('notifications')
    .values(
      items.map((n) => ({
        id: crypto.randomUUID(),
        user_id: n.userId,
        kind: n.kind,
        source_key: n.sourceKey,
        actor_id: n.actorId ?? null,
        community_id: n.communityId ?? null,
        subject_type: n.subjectType,
        subject_id: n.subjectId ?? null,
        title: clip(n.title, 300),
        body: clip(n.body ?? '', 500),
        url: n.url,
        created_at: at,
      })),
    )
    .onConflict((oc) => oc.columns(['user_id', 'kind', 'source_key']).doNothing())
    .returning(['id', 'user_id'])
    .execute();
  for (const row of inserted) {
    const [notification] = await loadNotificationDtos(q, row.user_id, [row.id]);
    if (!notification) continue;
    await deps.events.emit('notification.created', { userId: row.user_id, notification, unreadCount: await countUnread(q, row.user_id) });
  }
  return inserted.length;
}
