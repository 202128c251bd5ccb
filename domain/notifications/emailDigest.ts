import type { NotificationKind } from '../../contracts/notifications.ts';
import { db, uuids, type Db } from '../../orm/db.ts';
import { notificationVisibleTo } from '../access/notification.ts';
import type { Deps } from '../shared/deps.ts';
import { periodicSweep } from '../shared/jobs.ts';
import './events.ts';
import { queueEmail } from './outbox.ts';
import { loadPreferences, quietUntil, wants } from './preferences.ts';

declare module '../shared/jobs.ts' {
  interface JobPayloads {
    /** The periodic sweep that mails every e-mail digest that fell due (one pending, re-queued by each run). */
    'notifications.email_digests': Record<string, never>;
  }
}

/*
 * The e-mail digest. A notification the recipient wants by e-mail is stored with `email_due_at`,
 * EMAIL_NOTIFY_DELAY_MINUTES later (notify.ts); reading it in-app clears that. A periodic sweep (one pending
 * cluster-wide, by job key, every EMAIL_DIGEST_EVERY_MS) finds the recipients with one due and mails each, as ONE
 * message, what they have still not seen in-app — unread, not e-mailed before, still visible to them
 * (domain/access/notification.ts) and wanted by e-mail — and marks those e-mailed in the same transaction, so each goes
 * out by e-mail at most once. A burst therefore makes one digest, sent that long after the first of it (give or take
 * one sweep). Inside quiet hours what is due waits until they end. Every digest carries a one-click List-Unsubscribe
 * (RFC 8058) whose token is an HMAC of the user id.
 *
 * Storing a notification writes nothing else (no job per recipient), so a busy chat's mentions cost one insert each.
 */

export const EMAIL_DIGEST_EVERY_MS = 60_000;
const TASK = 'notifications.email_digests' as const;
const KEY = 'email-digests';
/** Recipients handled per query of a sweep. */
const BATCH = 200;
/** Notifications listed in one digest; more wait for the next sweep. */
const DIGEST_LIMIT = 100;

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

/** Postpones (quiet hours) or drops (unsubscribed) what is due for `userId`. */
function moveDue(q: Db, userId: string, now: Date, to: Date | null) {
  return q.updateTable('notifications').set({ email_due_at: to }).where('user_id', '=', userId).where('email_due_at', '<=', now).execute();
}

/**
 * Mails `userId` their digest now if anything is due (inside quiet hours, what is due moves to when they end). Returns
 * how many notifications it listed.
 */
export async function sendEmailDigest(deps: Deps, userId: string): Promise<number> {
  const em = deps.orm.em.fork();
  const prefs = await loadPreferences(db(em), userId);
  const now = deps.clock.now();
  if (prefs.emailUnsubscribed) {
    await moveDue(db(em), userId, now, null);
    return 0;
  }
  const until = quietUntil(prefs, now);
  if (until) {
    await moveDue(db(em), userId, now, until);
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
      .limit(DIGEST_LIMIT)
      .forUpdate()
      .skipLocked()
      .execute();
    const listed = rows.filter((r) => wants(prefs, r.kind as NotificationKind, 'email', r.community_id));
    // Handled: what it lists, what it passed over (no longer wanted by e-mail), and — unless it is full — whatever else
    // fell due (read in the meantime, or no longer visible). A full digest leaves the rest due for the next sweep.
    await q
      .updateTable('notifications')
      .set({ email_due_at: null })
      .where('user_id', '=', userId)
      .where('email_due_at', 'is not', null)
      .where((eb) =>
        eb.or([eb('id', '=', eb.fn.any(uuids(rows.map((n) => n.id)))), ...(rows.length < DIGEST_LIMIT ? [eb('email_due_at', '<=', now)] : [])]),
      )
      .execute();
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

/**
 * Mails every recipient with a digest due on the domain clock, each once per sweep (keyset over recipients, so one
 * whose rows are busy is not retried in a loop). Returns how many digests went out.
 */
export async function sendDueEmailDigests(deps: Deps): Promise<number> {
  const q = db(deps.orm.em.fork());
  const now = deps.clock.now();
  let sent = 0;
  let after: string | null = null;
  for (;;) {
    let query = q.selectFrom('notifications').select('user_id').distinct().where('email_due_at', '<=', now).orderBy('user_id').limit(BATCH);
    if (after) query = query.where('user_id', '>', after);
    const due = await query.execute();
    for (const { user_id } of due) if ((await sendEmailDigest(deps, user_id)) > 0) sent += 1;
    const last = due.at(-1);
    if (due.length < BATCH || !last) return sent;
    after = last.user_id;
  }
}

const sweep = periodicSweep(TASK, KEY, EMAIL_DIGEST_EVERY_MS, sendDueEmailDigests);

/** Queues the periodic sweep (a restart neither adds nor delays one). */
export const scheduleEmailDigests = sweep.schedule;

/** 'notifications.email_digests': queues the next sweep, then mails the digests that fell due. */
export const emailDigestJob = sweep.job;
