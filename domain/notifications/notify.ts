import { sql } from 'kysely';
import type { NotificationKind } from '../../contracts/notifications.ts';
import { db, type Db } from '../../orm/db.ts';
import type { Deps } from '../shared/deps.ts';
import './events.ts';
import { countUnread, loadNotificationDtos } from './inbox.ts';
import { loadPreferencesOf, wants } from './preferences.ts';

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

/** The row a notification is stored as. */
const rowOf = (n: NewNotification, at: Date) => ({
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
});

export const emailDigestKey = (userId: string) => `email-digest:${userId}`;

/**
 * Queues the recipient's e-mail digest EMAIL_NOTIFY_DELAY_MINUTES from now, unless one is already pending: graphile's
 * 'preserve_run_at' keeps the pending job's time, so a burst of notifications makes ONE digest, sent that long after
 * the first of them.
 */
export async function scheduleEmailDigest(deps: Deps, q: Db, userId: string, runAt?: Date): Promise<void> {
  const at = runAt ?? new Date(deps.clock.now().getTime() + deps.notifications.emailNotifyDelayMinutes * 60_000);
  await sql`select graphile_worker.add_job(
      'notifications.email_digest',
      ${JSON.stringify({ userId })}::json,
      run_at => ${at}::timestamptz,
      job_key => ${emailDigestKey(userId)}::text,
      job_key_mode => ${runAt ? 'replace' : 'preserve_run_at'}::text
    )`.execute(q);
}

/**
 * Stores notifications, each exactly once (a repeated call — a retried job, another node — inserts nothing), and tells
 * each recipient's devices about the new ones. Returns how many were new.
 *
 * Preferences apply here: a kind the recipient switched off in-app, or anything from a community they muted, is not
 * stored at all — except a mention, which reaches them even in a muted community (being named personally gets
 * through, as in chat apps). Recipients who want a stored one by e-mail get their digest queued.
 */
export async function notify(deps: Deps, items: readonly NewNotification[]): Promise<number> {
  if (items.length === 0) return 0;
  const q = db(deps.orm.em.fork());
  const at = deps.clock.now();
  const prefs = await loadPreferencesOf(q, items.map((n) => n.userId));
  const wanted = items.filter((n) => wants(prefs.get(n.userId)!, n.kind, 'inApp', n.communityId ?? null));
  if (wanted.length === 0) return 0;
  const inserted = await q
    .insertInto('notifications')
    .values(
      wanted.map((n) => rowOf(n, at)),
    )
    .onConflict((oc) => oc.columns(['user_id', 'kind', 'source_key']).doNothing())
    .returning(['id', 'user_id', 'kind', 'community_id'])
    .execute();
  const mailTo = new Set(
    inserted.filter((row) => wants(prefs.get(row.user_id)!, row.kind as NotificationKind, 'email', row.community_id)).map((row) => row.user_id),
  );
  for (const userId of mailTo) await scheduleEmailDigest(deps, q, userId);
  for (const row of inserted) {
    const [notification] = await loadNotificationDtos(q, row.user_id, [row.id]);
    if (!notification) continue;
    await deps.events.emit('notification.created', { userId: row.user_id, notification, unreadCount: await countUnread(q, row.user_id) });
  }
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
  const prefs = await loadPreferencesOf(q, [n.userId]);
  if (!wants(prefs.get(n.userId)!, n.kind, 'inApp', n.communityId ?? null)) return false;
  const renew = sql.lit(options.renew);
  const row = await q
    .insertInto('notifications')
    .values(rowOf(n, at))
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
    .returning(['id', 'community_id', sql<boolean>`xmax = 0`.as('inserted')])
    .executeTakeFirst();
  if (!row || (!row.inserted && !options.renew)) return false;
  if (row.inserted && wants(prefs.get(n.userId)!, n.kind, 'email', row.community_id)) await scheduleEmailDigest(deps, q, n.userId);
  const [notification] = await loadNotificationDtos(q, n.userId, [row.id]);
  if (notification) await deps.events.emit('notification.created', { userId: n.userId, notification, unreadCount: await countUnread(q, n.userId) });
  return true;
}
