import webpush, { WebPushError } from 'web-push';
import type { NotificationDto, PushPayload, PushSubscriptionDto, PushSubscriptionInput, VapidKeyDto } from '../../contracts/notifications.ts';
import { db } from '../../orm/db.ts';
import type { Actor, ClientInfo, Deps } from '../shared/deps.ts';
import { AppError } from '../shared/errors.ts';
import type { EventBus } from '../shared/events.ts';
import './events.ts';
import { loadPreferences, quietUntil, wants } from './preferences.ts';
import { checkPushEndpoint, publicOnlyAgent } from './pushTargets.ts';
import type { PushSettings } from './vapid.ts';

/*
 * Web push. Each device a user subscribes (one row per browser push endpoint) gets new notifications encrypted for it
 * (aes128gcm, by web-push) and signed with our VAPID key — unless the user is on do-not-disturb, inside their quiet
 * hours, or turned push off for that kind (or muted its community). A push skipped for those reasons is not sent later:
 * the in-app notification remains. Each notification is pushed at most once: the node that stamps `pushed_at` first
 * sends it. A push service answering 404 or 410 means the subscription is gone, so its row goes too.
 */

function pushOn(deps: Deps): PushSettings {
  if (!deps.push) throw new AppError('unavailable', 'Desktop notifications are not configured on this server.');
  return deps.push;
}

export function vapidPublicKey(deps: Deps): VapidKeyDto {
  return { publicKey: pushOn(deps).vapid.publicKey };
}

/** Subscribes (or re-subscribes) this browser for the caller; an endpoint another account had on this browser moves to them. */
export async function subscribePush(deps: Deps, actor: Actor, input: PushSubscriptionInput, client: ClientInfo): Promise<PushSubscriptionDto> {
  checkPushEndpoint(input.endpoint, pushOn(deps).allowPrivateEndpoints);
  const row = await db(deps.orm.em.fork())
    .insertInto('push_subscriptions')
    .values({
      id: crypto.randomUUID(),
      user_id: actor.userId,
      endpoint: input.endpoint,
      p256dh: input.keys.p256dh,
      auth: input.keys.auth,
      user_agent: client.userAgent?.slice(0, 300) ?? null,
      created_at: deps.clock.now(),
    })
    .onConflict((oc) =>
      oc.column('endpoint').doUpdateSet((eb) => ({
        user_id: eb.ref('excluded.user_id'),
        p256dh: eb.ref('excluded.p256dh'),
        auth: eb.ref('excluded.auth'),
        user_agent: eb.ref('excluded.user_agent'),
      })),
    )
    .returning(['endpoint', 'created_at'])
    .executeTakeFirstOrThrow();
  return { endpoint: row.endpoint, createdAt: row.created_at.toISOString() };
}

/** Unsubscribes one of the caller's devices; someone else's endpoint is left alone (and answers the same). */
export async function unsubscribePush(deps: Deps, actor: Actor, endpoint: string): Promise<void> {
  await db(deps.orm.em.fork()).deleteFrom('push_subscriptions').where('endpoint', '=', endpoint).where('user_id', '=', actor.userId).execute();
}

/** Pushes one stored notification to its recipient's devices, at most once whoever calls it and however often. */
export async function pushNotification(deps: Deps, userId: string, notification: NotificationDto): Promise<number> {
  const settings = deps.push;
  if (!settings) return 0;
  const q = db(deps.orm.em.fork());
  const subscriptions = await q
    .selectFrom('push_subscriptions')
    .select(['id', 'endpoint', 'p256dh', 'auth'])
    .where('user_id', '=', userId)
    .execute();
  if (subscriptions.length === 0) return 0;
  if ((await deps.presence.statusOf([userId])).get(userId) === 'dnd') return 0;
  const prefs = await loadPreferences(q, userId);
  if (!wants(prefs, notification.kind, 'push', notification.communityId)) return 0;
  const now = deps.clock.now();
  if (quietUntil(prefs, now)) return 0;

  // Two nodes hearing the same notification (or a repeated event): only the one that stamps it sends.
  const claimed = await q
    .updateTable('notifications')
    .set({ pushed_at: now })
    .where('id', '=', notification.id)
    .where('user_id', '=', userId)
    .where('pushed_at', 'is', null)
    .returning('id')
    .executeTakeFirst();
  if (!claimed) return 0;

  // A name that resolves inward after subscribing (DNS rebinding) is refused when connecting.
  settings.agent ??= settings.allowPrivateEndpoints ? undefined : publicOnlyAgent();
  const payload: PushPayload = { id: notification.id, title: notification.title, body: notification.body, url: notification.url };
  const body = JSON.stringify(payload);
  const results = await Promise.all(
    subscriptions.map(async (sub) => {
      try {
        checkPushEndpoint(sub.endpoint, settings.allowPrivateEndpoints);
        await webpush.sendNotification({ endpoint: sub.endpoint, keys: { p256dh: sub.p256dh, auth: sub.auth } }, body, {
          vapidDetails: settings.vapid,
          TTL: settings.ttlSeconds,
          timeout: settings.timeoutMs,
          contentEncoding: 'aes128gcm',
          ...(settings.agent ? { agent: settings.agent } : {}),
        });
        await q.updateTable('push_subscriptions').set({ last_used_at: now }).where('id', '=', sub.id).execute();
        return true;
      } catch (err) {
        if (err instanceof WebPushError && (err.statusCode === 404 || err.statusCode === 410)) {
          await q.deleteFrom('push_subscriptions').where('id', '=', sub.id).execute();
        } else {
          const status = err instanceof WebPushError ? err.statusCode : undefined;
          deps.logger.warn({ err: String(err), status, subscriptionId: sub.id, notificationId: notification.id }, 'web push failed');
        }
        return false;
      }
    }),
  );
  return results.filter(Boolean).length;
}

/** Web push: sends new notifications to the recipient's subscribed devices (VAPID), per their preferences. */
export function registerPushDelivery(bus: EventBus, deps: Deps): void {
  if (!deps.push) return;
  bus.on('notification.created', async ({ userId, notification, pushDevices }) => {
    if (pushDevices) await pushNotification(deps, userId, notification);
  });
}
