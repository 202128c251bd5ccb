import { z } from 'zod';
import type { Ack } from './errors.ts';

/** Notifications: the in-app centre (list, unread count, read state synced live across a user's devices). */

export const NOTIFICATION_KINDS = [
  'mention',
  'reply',
  'reaction',
  'dm',
  'class_reminder',
  'class_live',
  'waitlist_promoted',
  'lesson_released',
  'assignment_graded',
  'certificate_issued',
  'order_paid',
  'order_refunded',
  'moderation_warned',
  'moderation_timed_out',
  'report_resolved',
  'new_follower',
  'saved_search',
] as const;
export type NotificationKind = (typeof NOTIFICATION_KINDS)[number];

export const NotificationDto = z
  .object({
    id: z.uuid(),
    kind: z.enum(NOTIFICATION_KINDS),
    title: z.string(),
    body: z.string(),
    /** Where clicking it leads inside the app (a message, post, class, lesson or order). */
    url: z.string(),
    actor: z.object({ id: z.uuid(), displayName: z.string() }).nullable(),
    communityId: z.uuid().nullable(),
    createdAt: z.iso.datetime({ offset: true }),
    readAt: z.iso.datetime({ offset: true }).nullable(),
  })
  .describe('NotificationDto');
export type NotificationDto = z.infer<typeof NotificationDto>;

export const NotificationList = z
  .object({ data: z.array(NotificationDto), nextCursor: z.string().nullable(), unreadCount: z.number().int() })
  .describe('NotificationList');
export type NotificationList = z.infer<typeof NotificationList>;

export const NotificationListQuery = z.strictObject({
  cursor: z.string().max(200).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(30),
});

export const UnreadNotificationCount = z.object({ unreadCount: z.number().int() }).describe('UnreadNotificationCount');
export type UnreadNotificationCount = z.infer<typeof UnreadNotificationCount>;

/** Mark some notifications read (`ids`), or everything up to a moment (`upTo`, e.g. the newest one shown). */
export const MarkNotificationsReadInput = z
  .union([
    z.strictObject({ ids: z.array(z.uuid()).min(1).max(500) }),
    z.strictObject({ upTo: z.iso.datetime({ offset: true }) }),
  ])
  .describe('MarkNotificationsReadInput');
export type MarkNotificationsReadInput = z.infer<typeof MarkNotificationsReadInput>;

export interface NotificationReadEvent {
  /** The ids now read, or every notification up to `upTo`. */
  ids: string[] | null;
  upTo: string | null;
  unreadCount: number;
}

/** Notifications the recipient may no longer see (the message was hidden or deleted, they left the community…). */
export interface NotificationRemovedEvent {
  ids: string[];
  unreadCount: number;
}

/**
 * Sent to the recipient's own room (`rooms.user`): every device follows new notifications and read state.
 * `notification:created` may carry an id the device already holds: an aggregated notification ("Ana and 4 others
 * reacted") was updated and moves to the top — replace it.
 */
export interface NotificationServerEvents {
  'notification:created': (event: { notification: NotificationDto; unreadCount: number }) => void;
  'notification:read': (event: NotificationReadEvent) => void;
  'notification:removed': (event: NotificationRemovedEvent) => void;
}

/**
 * Client → server: whether this tab is the one the person is looking at (`document.visibilityState === 'visible'` and
 * focused). A direct message notifies only while none of their tabs is focused. Sent on connect and on every change.
 */
export const FocusInput = z.strictObject({ focused: z.boolean() });
export interface NotificationClientEvents {
  'presence:focus': (input: z.input<typeof FocusInput>, ack: Ack<null>) => void;
}

/** Whether a notification kind goes out in-app, by e-mail and by web push. */
export const NotificationChannels = z.strictObject({ inApp: z.boolean(), email: z.boolean(), push: z.boolean() });

/** My notification preferences, with the defaults filled in for every kind. */
export const NotificationPreferencesDto = z
  .object({
    kinds: z.record(z.enum(NOTIFICATION_KINDS), NotificationChannels),
    /** Communities whose notifications I do not want (mentions still reach me). */
    mutedCommunityIds: z.array(z.uuid()),
    /** Quiet hours, minutes after midnight in `timeZone` (may cross midnight); e-mail and push wait until they end. */
    quietStart: z.number().int().nullable(),
    quietEnd: z.number().int().nullable(),
    timeZone: z.string(),
    emailUnsubscribed: z.boolean(),
  })
  .describe('NotificationPreferencesDto');
export type NotificationPreferencesDto = z.infer<typeof NotificationPreferencesDto>;

const isTimeZone = (zone: string) => {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
};
const minuteOfDay = z.number().int().min(0, 'must be 0–1439 (minutes after midnight)').max(1439, 'must be 0–1439 (minutes after midnight)');

/** PUT my preferences: the fields sent replace mine; `kinds` changes only the kinds and channels named. */
export const UpdateNotificationPreferencesInput = z
  .strictObject({
    kinds: z.partialRecord(z.enum(NOTIFICATION_KINDS), NotificationChannels.partial().strict()).optional(),
    mutedCommunityIds: z.array(z.uuid()).max(500).optional(),
    quietStart: minuteOfDay.nullable().optional(),
    quietEnd: minuteOfDay.nullable().optional(),
    timeZone: z.string().trim().max(64).refine(isTimeZone, 'must be an IANA time zone such as Europe/Berlin').optional(),
    /** false: e-mail me again after an unsubscribe. */
    emailUnsubscribed: z.boolean().optional(),
  })
  .refine((v) => (v.quietStart === undefined) === (v.quietEnd === undefined) && (v.quietStart === null) === (v.quietEnd === null), {
    message: 'quietStart and quietEnd go together: both numbers, both null, or neither sent',
    path: ['quietStart'],
  })
  .describe('UpdateNotificationPreferencesInput');
export type UpdateNotificationPreferencesInput = z.infer<typeof UpdateNotificationPreferencesInput>;

/**
 * A browser's push subscription (`PushSubscription.toJSON()`), posted once per device. Push services are always https
 * (web-push only speaks TLS), so the endpoint must be an https URL — tests run a loopback https push service.
 */
export const PushSubscriptionInput = z
  .object({
    endpoint: z.url({ protocol: /^https$/ }).max(2000),
    /** Browsers also send `expirationTime`; it is accepted and ignored. */
    expirationTime: z.number().nullable().optional(),
    keys: z.strictObject({
      /** The device's P-256 public key, base64url (65 bytes). */
      p256dh: z.string().regex(/^[A-Za-z0-9_-]{86,88}={0,2}$/),
      /** The device's auth secret, base64url (16 bytes). */
      auth: z.string().regex(/^[A-Za-z0-9_-]{21,24}={0,2}$/),
    }),
  })
  .describe('PushSubscriptionInput');
export type PushSubscriptionInput = z.infer<typeof PushSubscriptionInput>;

export const RemovePushSubscriptionInput = z.strictObject({ endpoint: z.string().max(2000) }).describe('RemovePushSubscriptionInput');
export type RemovePushSubscriptionInput = z.infer<typeof RemovePushSubscriptionInput>;

/** The server's VAPID public key (base64url), the `applicationServerKey` a browser subscribes with. */
export const VapidKeyDto = z.object({ publicKey: z.string() }).describe('VapidKeyDto');
export type VapidKeyDto = z.infer<typeof VapidKeyDto>;

/** What a push carries to the service worker (encrypted for the device): enough to show it and open it on click. */
export interface PushPayload {
  id: string;
  title: string;
  body: string;
  url: string;
}

/** One of my devices subscribed to web push. */
export const PushSubscriptionDto = z
  .object({ endpoint: z.string(), createdAt: z.iso.datetime({ offset: true }) })
  .describe('PushSubscriptionDto');
export type PushSubscriptionDto = z.infer<typeof PushSubscriptionDto>;
