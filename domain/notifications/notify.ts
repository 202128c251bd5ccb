import { sql } from 'kysely';
import type { NotificationDto, NotificationKind } from '../../contracts/notifications.ts';
import { db, type Db } from '../../orm/db.ts';
import type { Deps } from '../shared/deps.ts';
import './events.ts';
import { countUnreadOf, notificationDto } from './inbox.ts';
import { loadPreferencesOf, wants, type Preferences } from './preferences.ts';

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
 * The row a notification is stored as. One wanted by e-mail falls due for the recipient's digest
 * EMAIL_NOTIFY_DELAY_MINUTES after it is stored (emailDigest.ts mails whoever has one due, unless they saw it first).
 */
function rowOf(deps: Deps, n: NewNotification, at: Date, prefs: Preferences) {
  const byEmail = wants(prefs, n.kind, 'email', n.communityId ?? null);
  return {
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
    email_due_at: byEmail ? new Date(at.getTime() + deps.notifications.emailNotifyDelayMinutes * 60_000) : null,
  };
}

/** Stored notifications as announced: to whom, as the wire shows them, and whether the recipient has push devices. */
interface Stored {
  userId: string;
  notification: NotificationDto;
  pushDevices: boolean;
}

/** Tells the recipients' devices about stored notifications, each with its recipient's unread count after them. */
async function announce(deps: Deps, q: Db, stored: readonly Stored[]): Promise<void> {
  if (stored.length === 0) return;
  const counts = await countUnreadOf(q, [...new Set(stored.map((s) => s.userId))]);
  for (const { userId, notification, pushDevices } of stored) {
    await deps.events.emit('notification.created', { userId, notification, unreadCount: counts.get(userId) ?? 0, pushDevices });
  }
}

/** Whether the recipient of the notification row `n` has a device subscribed to push (read with the row it belongs to). */
const pushDevicesOf = sql<boolean>`exists (select 1 from push_subscriptions as s where s.user_id = n.user_id)`;

/**
 * Stores notifications, each exactly once (a repeated call — a retried job, another node — inserts nothing), and tells
 * each recipient's devices about the new ones. Returns how many were new.
 *
 * Preferences apply here: a kind the recipient switched off in-app, or anything from a community they muted, is not
 * stored at all — except a mention, which reaches them even in a muted community (being named personally gets
 * through, as in chat apps). One they want by e-mail falls due for their digest.
 *
 * The creators asked whether each recipient may read what it is about (domain/access/notification.ts), so the stored
 * rows are announced as inserted (one statement stores them and reads them back as the wire shows them).
 */
export async function notify(deps: Deps, items: readonly NewNotification[]): Promise<number> {
  if (items.length === 0) return 0;
  const q = db(deps.orm.em.fork());
  const at = deps.clock.now();
  const prefs = await loadPreferencesOf(q, items.map((n) => n.userId));
  const rows = items.flatMap((n) => {
    const theirs = prefs.get(n.userId)!;
    return wants(theirs, n.kind, 'inApp', n.communityId ?? null) ? [rowOf(deps, n, at, theirs)] : [];
  });
  if (rows.length === 0) return 0;
  const inserted = await q
    .with('n', (w) =>
      w
        .insertInto('notifications')
        .values(rows)
        .onConflict((oc) => oc.columns(['user_id', 'kind', 'source_key']).doNothing())
        .returning(['id', 'user_id', 'kind', 'title', 'body', 'url', 'actor_id', 'community_id', 'created_at', 'read_at']),
    )
    .selectFrom('n')
    .leftJoin('users as a', 'a.id', 'n.actor_id')
    .selectAll('n')
    .select(['a.display_name', pushDevicesOf.as('push_devices')])
    .execute();
  await announce(
    deps,
    q,
    inserted.map((row) => ({ userId: row.user_id, notification: notificationDto(row), pushDevices: row.push_devices })),
  );
  return inserted.length;
}

/**
 * Stores the ONE notification that stands for many happenings (the reactions to one item: "Ana and 19 others reacted
 * to your message"), keyed like any other by (recipient, kind, source), so it is never stored twice. The first call
 * stores it as notify() would. Later calls rewrite its words, actor, body and address; with `renew` (something new
 * happened since it was last shown — another person reacted) it also moves to the top (created now) and is unread
 * again, and the recipient's devices are told (`notification.created` with the id they already hold: they replace
 * it). Without `renew` (someone took theirs back) the words change quietly. A renewed one is not pushed or mailed
 * again: `pushed_at` and `emailed_at` stay, so a busy item interrupts its author once. Returns whether it was stored
 * or renewed.
 */
export async function upsertNotification(deps: Deps, n: NewNotification, options: { renew: boolean }): Promise<boolean> {
  const q = db(deps.orm.em.fork());
  const at = deps.clock.now();
  const prefs = (await loadPreferencesOf(q, [n.userId])).get(n.userId)!;
  if (!wants(prefs, n.kind, 'inApp', n.communityId ?? null)) return false;
  const renew = sql.lit(options.renew);
  const row = await q
    .with('n', (w) =>
      w
        .insertInto('notifications')
        .values(rowOf(deps, n, at, prefs))
        .onConflict((oc) =>
          oc
            .columns(['user_id', 'kind', 'source_key'])
            .doUpdateSet({
              title: sql<string>`excluded.title`,
              body: sql<string>`excluded.body`,
              url: sql<string>`excluded.url`,
              actor_id: sql<string | null>`excluded.actor_id`,
              created_at: sql<Date>`case when ${renew} then excluded.created_at else notifications.created_at end`,
              read_at: sql<Date | null>`case when ${renew} then null else notifications.read_at end`,
            })
            // Nothing new and the same words: leave the row (and its devices) alone.
            .where(
              sql<boolean>`${renew} or (notifications.title, notifications.body, notifications.url, notifications.actor_id)
                is distinct from (excluded.title, excluded.body, excluded.url, excluded.actor_id)`,
            ),
        )
        // xmax is 0 on a row this statement inserted, and set on one it updated.
        .returning(['id', 'user_id', 'kind', 'title', 'body', 'url', 'actor_id', 'community_id', 'created_at', 'read_at', sql<boolean>`xmax = 0`.as('inserted')]),
    )
    .selectFrom('n')
    .leftJoin('users as a', 'a.id', 'n.actor_id')
    .selectAll('n')
    .select(['a.display_name', pushDevicesOf.as('push_devices')])
    .executeTakeFirst();
  if (!row || (!row.inserted && !options.renew)) return false;
  await announce(deps, q, [{ userId: n.userId, notification: notificationDto(row), pushDevices: row.push_devices }]);
  return true;
}
