import type { NotificationKind } from '../../contracts/notifications.ts';
import { db, uuids } from '../../orm/db.ts';
import { notificationVisibleTo } from '../access/notification.ts';
import type { Deps } from '../shared/deps.ts';
import type { JobHandler } from '../shared/jobs.ts';
import './events.ts';
import { scheduleEmailDigest } from './notify.ts';
import { queueEmail } from './outbox.ts';
import { loadPreferences, quietUntil, wants } from './preferences.ts';

declare module '../shared/jobs.ts' {
  interface JobPayloads {
    /** A user's unseen notifications, mailed as one digest (keyed per user). */
    'notifications.email_digest': { userId: string };
  }
}

/*
 * The e-mail digest: queued (one pending per user, see scheduleEmailDigest) when a notification the recipient wants by
 * e-mail is stored. When it runs it mails, as ONE message, what they have still not seen in-app — unread, not e-mailed
 * before, still visible to them (domain/access/notification.ts) and wanted by e-mail — and marks those e-mailed in the
 * same transaction, so each goes out by e-mail at most once. Inside quiet hours it waits until they end. Every digest
 * carries a one-click List-Unsubscribe (RFC 8058) whose token is an HMAC of the user id.
 */

const TOKEN_LABEL = 'unsubscribe:';

export function unsubscribeToken(deps: Deps, userId: string): string {
  return `${userId}.${deps.notifications.unsubscribeSigner.sign(TOKEN_LABEL + userId)}`;
}

/** The user a valid unsubscribe token names; null for anything else. */
export function userOfUnsubscribeToken(deps: Deps, token: string): string | null {
  const match = /^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\.([A-Za-z0-9_-]{43})$/.exec(token);
  if (!match) return null;
  return deps.notifications.unsubscribeSigner.verify(TOKEN_LABEL + match[1]!, match[2]!) ? match[1]! : null;
}

export const unsubscribeUrl = (deps: Deps, userId: string) =>
  `${deps.auth.publicUrl}/api/v1/notifications/unsubscribe?token=${encodeURIComponent(unsubscribeToken(deps, userId))}`;

/** Mails the digest now (or requeues it for the end of quiet hours). Returns how many notifications it listed. */
export async function sendEmailDigest(deps: Deps, userId: string): Promise<number> {
  const em = deps.orm.em.fork();
  const prefs = await loadPreferences(db(em), userId);
  if (prefs.emailUnsubscribed) return 0;
  const now = deps.clock.now();
  const until = quietUntil(prefs, now);
  if (until) {
    await scheduleEmailDigest(deps, db(em), userId, until);
    return 0;
  }
  return em.transactional(async (tx) => {
    const q = db(tx);
    const user = await q.selectFrom('users').select(['email', 'display_name']).where('id', '=', userId).executeTakeFirst();
    if (!user) return 0;
    const rows = await q
      .selectFrom('notifications as n')
      .select(['n.id', 'n.kind', 'n.title', 'n.body', 'n.url', 'n.community_id'])
      .where('n.user_id', '=', userId)
      .where('n.read_at', 'is', null)
      .where('n.emailed_at', 'is', null)
      .where('n.created_at', '<=', now)
      .where(notificationVisibleTo(q, userId))
      .orderBy('n.created_at')
      .orderBy('n.id')
      .limit(100)
      .forUpdate()
      .skipLocked()
      .execute();
    const listed = rows.filter((r) => wants(prefs, r.kind as NotificationKind, 'email', r.community_id));
    if (listed.length === 0) return 0;
    const link = unsubscribeUrl(deps, userId);
    const body = [
      `Hello ${user.display_name},`,
      '',
      listed.length === 1 ? 'here is what you missed:' : `here are ${listed.length} things you missed:`,
      '',
      ...listed.flatMap((n) => [`• ${n.title}`, ...(n.body ? [`  ${n.body}`] : []), `  ${deps.auth.publicUrl}${n.url}`, '']),
      `Choose what you hear about: ${deps.auth.publicUrl}/app/settings/notifications`,
      `Stop these e-mails: ${link}`,
    ].join('\n');
    await queueEmail(tx, {
      to: user.email,
      subject: (listed.length === 1 ? listed[0]!.title : `${listed.length} new notifications`).slice(0, 200),
      body,
      headers: { 'List-Unsubscribe': `<${link}>`, 'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click' },
    });
    await q
      .updateTable('notifications')
      .set({ emailed_at: now })
      .where((eb) => eb('id', '=', eb.fn.any(uuids(listed.map((n) => n.id)))))
      .execute();
    return listed.length;
  });
}

/** 'notifications.email_digest': mails what the user has not seen in-app, as one digest with a one-click unsubscribe. */
export function emailDigestJob(deps: Deps): JobHandler<'notifications.email_digest'> {
  return async ({ userId }) => {
    await sendEmailDigest(deps, userId);
  };
}
