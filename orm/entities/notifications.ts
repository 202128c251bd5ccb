import { defineEntity, p, type InferEntity } from '@mikro-orm/core';
import { User } from './auth.ts';
import { Community } from './communities.ts';

/** A notification: exactly one per (recipient, kind, source), about one subject whose access is re-checked when read. */
export const Notification = defineEntity({
  name: 'Notification',
  tableName: 'notifications',
  uniques: [{ name: 'notifications_user_kind_source_unique', properties: ['user', 'kind', 'sourceKey'] }],
  indexes: [
    { name: 'notifications_user_idx', expression: 'CREATE INDEX notifications_user_idx ON public.notifications USING btree (user_id, created_at DESC, id DESC)' },
    { name: 'notifications_unread_idx', where: 'read_at IS NULL', properties: ['user'] },
    { name: 'notifications_email_pending_idx', where: '(emailed_at IS NULL) AND (read_at IS NULL)', properties: ['user', 'createdAt'] },
    { name: 'notifications_email_due_idx', where: '(email_due_at IS NOT NULL)', properties: ['emailDueAt', 'user'] },
  ],
  properties: {
    id: p.uuid().primary().onCreate(() => crypto.randomUUID()),
    user: () => p.manyToOne(User).deleteRule('cascade'),
    kind: p.string().length(32),
    sourceKey: p.string().length(200),
    actor: () => p.manyToOne(User).nullable().deleteRule('set null'),
    community: () => p.manyToOne(Community).nullable().deleteRule('cascade'),
    subjectType: p.string().length(16),
    subjectId: p.uuid().nullable(),
    title: p.string().length(300),
    body: p.text().default(''),
    url: p.string().length(500),
    createdAt: p.datetime().defaultRaw(`now()`).onCreate(() => new Date()),
    readAt: p.datetime().nullable(),
    /** When it went out by e-mail (in a digest) and by web push: each channel sends it once. */
    emailedAt: p.datetime().nullable(),
    pushedAt: p.datetime().nullable(),
    /** When its recipient's e-mail digest falls due (set when stored, if wanted by e-mail; cleared once handled). */
    emailDueAt: p.datetime().nullable(),
  },
});
export type INotification = InferEntity<typeof Notification>;

/** Per kind and channel. A kind not listed uses the defaults (in-app and push on, e-mail on for the personal kinds). */
export type NotificationKindPreferences = Record<string, { inApp?: boolean; email?: boolean; push?: boolean }>;

export const NotificationPreferences = defineEntity({
  name: 'NotificationPreferences',
  tableName: 'notification_preferences',
  checks: [
    { name: 'notification_preferences_quiet_start_check', expression: '(quiet_start >= 0) AND (quiet_start <= 1439)' },
    { name: 'notification_preferences_quiet_end_check', expression: '(quiet_end >= 0) AND (quiet_end <= 1439)' },
    { name: 'notification_preferences_check', expression: '((quiet_start IS NULL) = (quiet_end IS NULL))' },
  ],
  properties: {
    user: () => p.oneToOne(User).owner().primary().updateRule('no action').deleteRule('cascade'),
    kinds: p.json<NotificationKindPreferences>().defaultRaw(`'{}'`),
    mutedCommunityIds: p.array().columnType('uuid[]').defaultRaw(`'{}'`),
    quietStart: p.smallint().nullable(),
    quietEnd: p.smallint().nullable(),
    timeZone: p.string().length(64).default('UTC'),
    emailUnsubscribedAt: p.datetime().nullable(),
    updatedAt: p.datetime().defaultRaw(`now()`).onCreate(() => new Date()),
  },
});
export type INotificationPreferences = InferEntity<typeof NotificationPreferences>;

/** A browser's web push subscription (one per device); removed when the push service answers 404 or 410. */
export const PushSubscription = defineEntity({
  name: 'PushSubscription',
  tableName: 'push_subscriptions',
  indexes: [{ name: 'push_subscriptions_user_idx', properties: ['user'] }],
  properties: {
    id: p.uuid().primary().onCreate(() => crypto.randomUUID()),
    user: () => p.manyToOne(User).deleteRule('cascade'),
    endpoint: p.text().unique('push_subscriptions_endpoint_unique'),
    p256dh: p.string().length(200),
    auth: p.string().length(100),
    userAgent: p.string().length(300).nullable(),
    createdAt: p.datetime().defaultRaw(`now()`).onCreate(() => new Date()),
    lastUsedAt: p.datetime().nullable(),
  },
});
export type IPushSubscription = InferEntity<typeof PushSubscription>;
